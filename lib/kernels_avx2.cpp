// AVX2 float kernels: 8 lanes, with scalar tails so that no load reads past an array.
#include "kernels_avx2.hpp"

#include <immintrin.h>

namespace cwm::kernels::avx2 {

namespace {

// Loads 8 elements of a row as floats.
inline __m256 load8(DType type, const void* row, size_t i) {
    switch (type) {
        case DType::f16:
            return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + i)));
        case DType::bf16: {
            const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + i));
            return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
        }
        default:
            return _mm256_loadu_ps(static_cast<const float*>(row) + i);
    }
}

inline float element(DType type, const void* row, size_t i) {
    switch (type) {
        case DType::f16: return f16_to_f32(static_cast<const uint16_t*>(row)[i]);
        case DType::bf16: return bf16_to_f32(static_cast<const uint16_t*>(row)[i]);
        default: return static_cast<const float*>(row)[i];
    }
}

inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

}  // namespace

float dot_row(DType type, const void* row, const float* x, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(load8(type, row, i), _mm256_loadu_ps(x + i), acc0);
        acc1 = _mm256_fmadd_ps(load8(type, row, i + 8), _mm256_loadu_ps(x + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(load8(type, row, i + 16), _mm256_loadu_ps(x + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(load8(type, row, i + 24), _mm256_loadu_ps(x + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load8(type, row, i), _mm256_loadu_ps(x + i), acc0);
    float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; ++i) sum += element(type, row, i) * x[i];
    return sum;
}

void f16_to_f32_row(const uint16_t* x, size_t n, float* out) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, load8(DType::f16, x, i));
    for (; i < n; ++i) out[i] = f16_to_f32(x[i]);
}

void bf16_to_f32_row(const uint16_t* x, size_t n, float* out) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, load8(DType::bf16, x, i));
    for (; i < n; ++i) out[i] = bf16_to_f32(x[i]);
}

void f32_to_f16_row(const float* x, size_t n, uint16_t* out) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; ++i) out[i] = f32_to_f16(x[i]);
}

}  // namespace cwm::kernels::avx2
