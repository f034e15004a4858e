// AVX2 instances of the attention tile kernels (attention_kernels_simd.hpp).
#include <immintrin.h>

#include "attention_kernels_avx2.hpp"
#include "attention_kernels_simd.hpp"

namespace cwm::kernels::avx2 {

namespace {

struct Vec {
    using F = __m256;
    static constexpr size_t kLanes = 8;
    static constexpr int kScoreKeys = 4;        // 4 x 2 accumulators + 2 queries
    static constexpr size_t kValueQueries = 3;  // 3 x 4 accumulators + 4 values of 16 registers
    static F zero() { return _mm256_setzero_ps(); }
    static F load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, F x) { _mm256_storeu_ps(p, x); }
    static F set1(float x) { return _mm256_set1_ps(x); }
    static F load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p)); }
    static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
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

}  // namespace cwm::kernels::avx2
