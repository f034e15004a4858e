// AVX-512 instances of the attention tile kernels (attention_kernels_simd.hpp).
#include <immintrin.h>

#include <cmath>

#include "attention_kernels_avx512.hpp"
#include "attention_kernels_simd.hpp"
#include "exp_avx512.hpp"

namespace cwm::kernels::avx512 {

namespace {

struct Vec {
    using F = __m512;
    static constexpr size_t kLanes = 16;
    static constexpr int kScoreKeys = 8;        // 8 accumulators
    static constexpr size_t kValueQueries = 4;  // 4 x 4 accumulators + 4 values of 32 registers
    static F zero() { return _mm512_setzero_ps(); }
    static F load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, F x) { _mm512_storeu_ps(p, x); }
    static F set1(float x) { return _mm512_set1_ps(x); }
    static F load_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)p)); }
    static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
};

}  // namespace

bool tile_kernels_support(size_t dim) { return simd::supports<Vec>(dim); }

// All 16 lanes at once, lane i masked to keys [lo[i], hi[i]] (and to i < n_q).
void tile_softmax(float* s, size_t n_q, size_t n_keys, const uint32_t* lo, const uint32_t* hi, float scale) {
    static_assert(kTileQueries == 16);
    const __mmask16 lanes = __mmask16((1u << n_q) - 1);
    const __m512i first = _mm512_maskz_loadu_epi32(lanes, lo), last = _mm512_maskz_loadu_epi32(lanes, hi);
    const __m512 vscale = _mm512_set1_ps(scale);
    auto visible = [&](size_t j) {
        const __m512i vj = _mm512_set1_epi32(int(j));
        return __mmask16(lanes & _mm512_cmple_epu32_mask(first, vj) & _mm512_cmple_epu32_mask(vj, last));
    };
    __m512 max_score = _mm512_set1_ps(-INFINITY);
    for (size_t j = 0; j < n_keys; ++j)
        max_score = _mm512_mask_max_ps(max_score, visible(j), max_score, _mm512_mul_ps(_mm512_loadu_ps(s + j * 16), vscale));
    __m512d sum_lo = _mm512_setzero_pd(), sum_hi = _mm512_setzero_pd();
    for (size_t j = 0; j < n_keys; ++j) {
        const __m512 x = _mm512_sub_ps(_mm512_mul_ps(_mm512_loadu_ps(s + j * 16), vscale), max_score);
        const __m512 e = _mm512_maskz_mov_ps(visible(j), exp16(x));
        _mm512_storeu_ps(s + j * 16, e);
        sum_lo = _mm512_add_pd(sum_lo, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        sum_hi = _mm512_add_pd(sum_hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    const __m256 inv_lo = _mm512_cvtpd_ps(_mm512_div_pd(_mm512_set1_pd(1.0), sum_lo));
    const __m256 inv_hi = _mm512_cvtpd_ps(_mm512_div_pd(_mm512_set1_pd(1.0), sum_hi));
    const __m512 inv_sum = _mm512_insertf32x8(_mm512_castps256_ps512(inv_lo), inv_hi, 1);
    for (size_t j = 0; j < n_keys; ++j) _mm512_storeu_ps(s + j * 16, _mm512_mul_ps(_mm512_loadu_ps(s + j * 16), inv_sum));
}

void tile_scores(const float* qt, const uint16_t* const* keys, size_t n_keys, size_t dim, float* s) {
    simd::tile_scores<Vec>(qt, keys, n_keys, dim, s);
}

void tile_weighted_values(const float* w, size_t n_q, const uint16_t* const* values, size_t n_keys, size_t dim,
                          float* const* out) {
    simd::tile_weighted_values<Vec>(w, n_q, values, n_keys, dim, out);
}

}  // namespace cwm::kernels::avx512
