// AVX2 dot products of Q4_K / Q6_K weight rows with Q8_K activations.
//
// Per 32 weights: vpmaddubsw multiplies the unsigned levels (Q4_K 0..15, Q6_K 0..63) by the
// int8 activations and adds pairs into int16 (at most 2 * 63 * 128 = 16128: no saturation), then
// vpmaddwd by the sub-block scale adds pairs into int32. Q4_K's min term and Q6_K's -32 offset
// come from the activation block sums (bsums). One float multiply-add per super-block.
#include <immintrin.h>

#include "kernels_k.hpp"
#include "quant_k.hpp"

namespace cwm::kernels::avx2 {

namespace {

using quant::BlockQ4_K;
using quant::BlockQ6_K;
using quant::BlockQ8_K;
using quant::kSuperBlock;

inline float half_to_float(uint16_t h) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h))); }

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

// sum over pairs of (levels * activations) * scale, as 8 int32 lanes; `scales` holds one int16
// scale per 16-bit lane.
inline __m256i scaled_dot(__m256i levels, const int8_t* act, __m256i scales) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(levels, load256(act)), scales);
}

// Scale `lo` for the first 16 of 32 values, `hi` for the last 16.
inline __m256i two_scales(int lo, int hi) { return _mm256_setr_m128i(_mm_set1_epi16(short(lo)), _mm_set1_epi16(short(hi))); }

}  // namespace

float dot_q4_k_q8_k(const void* w_row, const void* a_row, size_t n) {
    const auto* w = static_cast<const BlockQ4_K*>(w_row);
    const auto* a = static_cast<const BlockQ8_K*>(a_row);
    const __m256i nibble = _mm256_set1_epi8(0x0f);
    const __m128i mins_twice = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
    for (size_t b = 0; b < n / kSuperBlock; ++b) {
        alignas(16) uint8_t sm[16];
        quant::unpack_scales_mins_q4_k(w[b].scales, sm);
        __m256i sumi = _mm256_setzero_si256();
        for (int g = 0; g < 4; ++g) {
            const __m256i q = load256(w[b].qs + 32 * g);  // weights 64g.. (low nibbles), 64g+32.. (high)
            const __m256i lo = scaled_dot(_mm256_and_si256(q, nibble), a[b].qs + 64 * g, _mm256_set1_epi16(sm[2 * g]));
            const __m256i hi = scaled_dot(_mm256_and_si256(_mm256_srli_epi16(q, 4), nibble), a[b].qs + 64 * g + 32,
                                          _mm256_set1_epi16(sm[2 * g + 1]));
            sumi = _mm256_add_epi32(sumi, _mm256_add_epi32(lo, hi));
        }
        const __m128i scales_mins = _mm_load_si128(reinterpret_cast<const __m128i*>(sm));
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(scales_mins, mins_twice));
        const __m256i min_sums = _mm256_madd_epi16(load256(a[b].bsums), mins);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(w[b].d) * a[b].d), _mm256_cvtepi32_ps(sumi), acc);
        acc_min = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(w[b].dmin) * a[b].d), _mm256_cvtepi32_ps(min_sums), acc_min);
    }
    return hsum(acc) - hsum(acc_min);
}

float dot_q6_k_q8_k(const void* w_row, const void* a_row, size_t n) {
    const auto* w = static_cast<const BlockQ6_K*>(w_row);
    const auto* a = static_cast<const BlockQ8_K*>(a_row);
    const __m256i low4 = _mm256_set1_epi8(0x0f), low2 = _mm256_set1_epi8(0x03);
    __m256 acc = _mm256_setzero_ps();
    for (size_t b = 0; b < n / kSuperBlock; ++b) {
        const int8_t* sc = w[b].scales;
        __m256i sumi = _mm256_setzero_si256();
        for (int h = 0; h < 2; ++h) {
            const __m256i ql[2] = {load256(w[b].ql + 64 * h), load256(w[b].ql + 64 * h + 32)};
            const __m256i qh = load256(w[b].qh + 32 * h);
            // Quarter k (values 32k.. of the half): low nibbles of ql[k % 2] for k < 2, high
            // nibbles after; top bits from bit pair k of qh.
            for (int k = 0; k < 4; ++k) {
                const __m256i low = _mm256_and_si256(k < 2 ? ql[k] : _mm256_srli_epi16(ql[k - 2], 4), low4);
                const __m256i top = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(2 * k)), low2);
                const __m256i q = _mm256_or_si256(low, _mm256_slli_epi16(top, 4));
                const int sub = 8 * h + 2 * k;
                sumi = _mm256_add_epi32(sumi, scaled_dot(q, a[b].qs + 128 * h + 32 * k, two_scales(sc[sub], sc[sub + 1])));
            }
        }
        // The levels were used unsigned (0..63); take away 32 * sum(scale * bsum).
        const __m256i scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
        const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(load256(a[b].bsums), scales16), 5);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(w[b].d) * a[b].d),
                              _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi, offset)), acc);
    }
    return hsum(acc);
}

}  // namespace cwm::kernels::avx2
