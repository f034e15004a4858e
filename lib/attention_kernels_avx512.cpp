// AVX-512 instances of the attention tile kernels (attention_kernels_simd.hpp).
#include <immintrin.h>

#include "attention_kernels_avx512.hpp"
#include "attention_kernels_simd.hpp"

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

void tile_scores(const float* qt, const uint16_t* const* keys, size_t n_keys, size_t dim, float* s) {
    simd::tile_scores<Vec>(qt, keys, n_keys, dim, s);
}

void tile_weighted_values(const float* w, size_t n_q, const uint16_t* const* values, size_t n_keys, size_t dim,
                          float* const* out) {
    simd::tile_weighted_values<Vec>(w, n_q, values, n_keys, dim, out);
}

}  // namespace cwm::kernels::avx512
