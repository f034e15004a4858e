// AVX-512 VNNI bodies of the packed int8 products (layout in packed_quant.hpp).
//
// One vpdpbusd multiplies a 64-byte chunk of a packed group (16 rows x 4 columns) by 4
// activation bytes broadcast to every lane, so a register holds the 16 rows' running sums.
// Up to kTile tokens share each loaded weight chunk; each token's accumulator stays in a
// register for the whole row, so no horizontal sums are needed.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "packed_quant.hpp"
#include "packed_quant_simd.hpp"
#include "packed_tiles.hpp"
#include "quant.hpp"

namespace cwm::kernels::avx512 {

namespace {

constexpr size_t kBlock = quant::kBlock;

inline __m512i broadcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

// Integer dot products of one 32-column block for T tokens; isum starts at -K * sum(a).
template <bool Q4, int T>
inline void block_dots(const uint8_t* qs, const ActivationRow* a, size_t b, __m512i* isum) {
    if constexpr (Q4) {
        const __m512i low = _mm512_set1_epi8(0x0f);
        for (int c = 0; c < 4; ++c) {
            const __m512i raw = _mm512_loadu_si512(qs + 64 * c);
            const __m512i lo = _mm512_and_si512(raw, low);
            const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low);
            for (int t = 0; t < T; ++t) {
                isum[t] = _mm512_dpbusd_epi32(isum[t], lo, broadcast4(a[t].q + b * kBlock + 4 * c));
                isum[t] = _mm512_dpbusd_epi32(isum[t], hi, broadcast4(a[t].q + b * kBlock + 16 + 4 * c));
            }
        }
    } else {
        for (int c = 0; c < 8; ++c) {
            const __m512i w = _mm512_loadu_si512(qs + 64 * c);
            for (int t = 0; t < T; ++t)
                isum[t] = _mm512_dpbusd_epi32(isum[t], w, broadcast4(a[t].q + b * kBlock + 4 * c));
        }
    }
}

// One 16-row group times T tokens; y points at the group's first output of the first token.
template <bool Q4, int T>
void group_tile(const uint8_t* group, size_t nb, const ActivationRow* a, float* y, size_t ldy) {
    constexpr size_t block_bytes = Q4 ? sizeof(quant::BlockQ4_0) : sizeof(quant::BlockQ8_0);
    constexpr int32_t offset = Q4 ? 8 : 128;
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (size_t b = 0; b < nb; ++b) {
        const uint8_t* blk = group + b * kGroupRows * block_bytes;
        __m512i isum[T];
        for (int t = 0; t < T; ++t) isum[t] = _mm512_set1_epi32(-offset * a[t].sum[b]);
        block_dots<Q4, T>(blk + kGroupRows * sizeof(uint16_t), a, b, isum);
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
        for (int t = 0; t < T; ++t)
            acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(dw, _mm512_set1_ps(a[t].d[b])),
                                     acc[t]);
    }
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

template <bool Q4>
void groups_all_tokens(const uint8_t* packed, size_t cols, const uint8_t* acts, size_t n_tokens, float* y,
                       size_t ldy, size_t group_begin, size_t group_end) {
    const size_t nb = cols / kBlock, act_size = activation_row_bytes(cols);
    const size_t group_size = nb * kGroupRows * (Q4 ? sizeof(quant::BlockQ4_0) : sizeof(quant::BlockQ8_0));
    for_each_tile(n_tokens, group_begin, group_end, [&](size_t g, size_t t0, int n) {
        ActivationRow a[kTile];
        for (int t = 0; t < n; ++t) a[t] = activation_row(acts + (t0 + t) * act_size, cols);
        with_tile_size<kTile>(n, [&](auto T) {
            group_tile<Q4, decltype(T)::value>(packed + g * group_size, nb, a, y + t0 * ldy + g * kGroupRows, ldy);
        });
    });
}

}  // namespace

void quantize_activation_row(const float* x, size_t cols, void* out) {
    auto* bytes = static_cast<uint8_t*>(out);
    const size_t nb = cols / kBlock;
    auto* d = reinterpret_cast<float*>(bytes + cols);
    auto* sum = reinterpret_cast<int32_t*>(bytes + cols + nb * sizeof(float));
    for (size_t b = 0; b < nb; ++b) {
        const __m512 v0 = _mm512_loadu_ps(x + b * kBlock), v1 = _mm512_loadu_ps(x + b * kBlock + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
        d[b] = _cvtsh_ss(_cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT));
        // As llama.cpp's x86 quantizer: multiply by 127/amax, round half to even (cvtps uses
        // the default MXCSR rounding, nearest-even).
        const __m512 id = _mm512_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f);
        const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, id));
        const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, id));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(bytes + b * kBlock), _mm512_cvtsepi32_epi8(q0));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(bytes + b * kBlock + 16), _mm512_cvtsepi32_epi8(q1));
        sum[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
}

void matmul_groups(DType type, const uint8_t* packed, size_t cols, const void* acts, size_t n_tokens, float* y,
                   size_t ldy, size_t group_begin, size_t group_end) {
    const auto* a = static_cast<const uint8_t*>(acts);
    if (type == DType::q4_0)
        groups_all_tokens<true>(packed, cols, a, n_tokens, y, ldy, group_begin, group_end);
    else
        groups_all_tokens<false>(packed, cols, a, n_tokens, y, ldy, group_begin, group_end);
}

}  // namespace cwm::kernels::avx512
