// AVX-512 VNNI dot products of Q4_K / Q6_K weight rows with Q8_K activations.
//
// Per super-block: unsigned weight levels (Q4_K 0..15, Q6_K 0..63) times signed int8
// activations with vpdpbusd (each int32 lane: a sum of 4 products, at most 4 * 63 * 128 = 32256,
// so it fits in int16), then vpdpwssd against the sub-block scales placed in the low 16 bits of
// each lane (high 16 bits zero) multiplies and accumulates in one instruction. Q4_K's min term
// and Q6_K's -32 offset need only the activation block sums (bsums): one vpmaddwd each. The
// 16 int32 lanes are folded to 8 before the one float multiply-add per super-block.
//
// Written with intrinsics that SIMDe also provides, so tests/unit can run this file on a
// machine without AVX-512 (see tests/unit/kernels_k_avx512_emulated.cpp).
#include <immintrin.h>

#include "kernels_k.hpp"
#include "quant_k.hpp"

namespace cwm::kernels::avx512 {

namespace {

using quant::BlockQ4_K;
using quant::BlockQ6_K;
using quant::BlockQ8_K;
using quant::kSuperBlock;

inline float half_to_float(uint16_t h) { return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h))); }

// vpermw indices: in vector k, int32 lane i takes sub-block scale k * (16 / lanes) + i / lanes
// (lanes = int32 lanes per sub-block) into its even 16-bit half; odd halves are masked to zero.
struct ScaleIndex {
    alignas(64) int16_t v[4][32];
};
constexpr ScaleIndex scale_index(int lanes) {
    ScaleIndex index{};
    for (int k = 0; k < 4; ++k)
        for (int i = 0; i < 16; ++i) index.v[k][2 * i] = int16_t(k * (16 / lanes) + i / lanes);
    return index;
}
constexpr ScaleIndex kQ4Index = scale_index(8);  // 32 weights per sub-block
constexpr ScaleIndex kQ6Index = scale_index(4);  // 16 weights per sub-block

// scales16: the sub-block scales as int16 in the low 16 lanes.
inline __m512i scale_lanes(__m512i scales16, const int16_t* index) {
    return _mm512_maskz_permutexvar_epi16(0x55555555, _mm512_loadu_si512(index), scales16);
}

// A per-16-bit-lane shift count: `lower` in the lower 256 bits, `upper` in the upper.
inline __m512i lane_counts(short lower, short upper) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16(lower)), _mm256_set1_epi16(upper), 1);
}

inline __m256i fold(__m512i v) { return _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64(v, 1)); }

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

}  // namespace

float dot_q4_k_q8_k(const void* w_row, const void* a_row, size_t n) {
    const auto* w = static_cast<const BlockQ4_K*>(w_row);
    const auto* a = static_cast<const BlockQ8_K*>(a_row);
    const __m512i nibble = _mm512_set1_epi8(0x0f), high_half_by_4 = lane_counts(0, 4);
    // bytes 8..15 of the unpacked scales (the mins), each twice: one per 16-value bsum.
    const __m128i mins_twice = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    __m256 acc = _mm256_setzero_ps(), acc_min = _mm256_setzero_ps();
    for (size_t b = 0; b < n / kSuperBlock; ++b) {
        alignas(16) uint8_t sm[16];
        quant::unpack_scales_mins_q4_k(w[b].scales, sm);
        const __m128i scales_mins = _mm_load_si128(reinterpret_cast<const __m128i*>(sm));
        const __m512i scales16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(scales_mins));
        __m512i sumi = _mm512_setzero_si512();
        for (int g = 0; g < 4; ++g) {
            // 32 bytes hold weights 64g..64g+31 (low nibbles) and 64g+32..64g+63 (high): put them in
            // that order in one register, matching 64 consecutive activations.
            const __m512i both = _mm512_broadcast_i64x4(load256(w[b].qs + 32 * g));
            const __m512i q = _mm512_and_si512(_mm512_srlv_epi16(both, high_half_by_4), nibble);
            const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q, _mm512_loadu_si512(a[b].qs + 64 * g));
            sumi = _mm512_dpwssd_epi32(sumi, dot, scale_lanes(scales16, kQ4Index.v[g]));
        }
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(scales_mins, mins_twice));
        const __m256i min_sums = _mm256_madd_epi16(load256(a[b].bsums), mins);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(w[b].d) * a[b].d), _mm256_cvtepi32_ps(fold(sumi)), acc);
        acc_min = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(w[b].dmin) * a[b].d), _mm256_cvtepi32_ps(min_sums), acc_min);
    }
    return hsum(acc) - hsum(acc_min);
}

float dot_q6_k_q8_k(const void* w_row, const void* a_row, size_t n) {
    const auto* w = static_cast<const BlockQ6_K*>(w_row);
    const auto* a = static_cast<const BlockQ8_K*>(a_row);
    const __m512i low4 = _mm512_set1_epi8(0x0f), bits45 = _mm512_set1_epi8(0x30);
    // qh byte l holds the top bits of values l, l+32, l+64, l+96 of a half in bit pairs 0, 2, 4,
    // 6: shift each pair to bits 4-5 (left 4 / 2 for the first 64 values, right 0 / 2 after).
    const __m512i first_64 = lane_counts(4, 2), last_64 = lane_counts(0, 2);
    __m256 acc = _mm256_setzero_ps();
    for (size_t b = 0; b < n / kSuperBlock; ++b) {
        const __m128i scales8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w[b].scales));
        const __m512i scales16 = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(scales8));
        __m512i sumi = _mm512_setzero_si512();
        for (int h = 0; h < 2; ++h) {
            const __m512i ql = _mm512_loadu_si512(w[b].ql + 64 * h);
            const __m512i qh = _mm512_broadcast_i64x4(load256(w[b].qh + 32 * h));
            const __m512i q_first = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                                    _mm512_and_si512(_mm512_sllv_epi16(qh, first_64), bits45));
            const __m512i q_last = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                                   _mm512_and_si512(_mm512_srlv_epi16(qh, last_64), bits45));
            const int8_t* act = a[b].qs + 128 * h;
            const __m512i dot_first = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q_first, _mm512_loadu_si512(act));
            const __m512i dot_last = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q_last, _mm512_loadu_si512(act + 64));
            sumi = _mm512_dpwssd_epi32(sumi, dot_first, scale_lanes(scales16, kQ6Index.v[2 * h]));
            sumi = _mm512_dpwssd_epi32(sumi, dot_last, scale_lanes(scales16, kQ6Index.v[2 * h + 1]));
        }
        // The levels were used unsigned (0..63); take away 32 * sum(scale * bsum).
        const __m256i offset = _mm256_slli_epi32(_mm256_madd_epi16(load256(a[b].bsums), _mm256_cvtepi8_epi16(scales8)), 5);
        const __m256i total = _mm256_sub_epi32(fold(sumi), offset);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half_to_float(w[b].d) * a[b].d), _mm256_cvtepi32_ps(total), acc);
    }
    return hsum(acc);
}

}  // namespace cwm::kernels::avx512
