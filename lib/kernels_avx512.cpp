#include "kernels_avx512.hpp"

#include <immintrin.h>

#include "exp_avx512.hpp"
#include "quant.hpp"

namespace cwm::kernels::avx512 {

namespace {

// Loads 16 elements of a row as floats; `mask` selects the valid lanes of a tail.
inline __m512 load16(DType type, const void* row, size_t i, __mmask16 mask) {
    switch (type) {
        case DType::f16:
            return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(row) + i));
        case DType::bf16: {
            const __m256i h = _mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(row) + i);
            return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
        }
        default:
            return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(row) + i);
    }
}

inline __mmask16 tail_mask(size_t remaining) {
    return remaining >= 16 ? __mmask16(0xffff) : __mmask16((1u << remaining) - 1);
}

}  // namespace

float dot_row(DType type, const void* row, const float* x, size_t n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = _mm512_fmadd_ps(load16(type, row, i, 0xffff), _mm512_loadu_ps(x + i), acc0);
        acc1 = _mm512_fmadd_ps(load16(type, row, i + 16, 0xffff), _mm512_loadu_ps(x + i + 16), acc1);
        acc2 = _mm512_fmadd_ps(load16(type, row, i + 32, 0xffff), _mm512_loadu_ps(x + i + 32), acc2);
        acc3 = _mm512_fmadd_ps(load16(type, row, i + 48, 0xffff), _mm512_loadu_ps(x + i + 48), acc3);
    }
    for (; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        acc0 = _mm512_fmadd_ps(load16(type, row, i, m), _mm512_maskz_loadu_ps(m, x + i), acc0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

// Each block's products are summed unscaled, then scaled once by the block's f16 scale.
float dot_row_q8_0(const void* row, const float* x, size_t n) {
    const auto* blocks = static_cast<const quant::BlockQ8_0*>(row);
    __m512 acc = _mm512_setzero_ps();
    for (size_t b = 0; b < n / quant::kBlock; ++b, x += quant::kBlock) {
        const __m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)blocks[b].q)));
        const __m512 w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*)(blocks[b].q + 16))));
        const __m512 sum = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + 16), _mm512_mul_ps(w0, _mm512_loadu_ps(x)));
        acc = _mm512_fmadd_ps(sum, _mm512_set1_ps(f16_to_f32(blocks[b].d)), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

float dot_row_q4_0(const void* row, const float* x, size_t n) {
    const auto* blocks = static_cast<const quant::BlockQ4_0*>(row);
    const __m512i low_mask = _mm512_set1_epi32(0x0f), offset = _mm512_set1_epi32(8);
    __m512 acc = _mm512_setzero_ps();
    for (size_t b = 0; b < n / quant::kBlock; ++b, x += quant::kBlock) {
        const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i*)blocks[b].q));
        const __m512 lo = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_and_si512(bytes, low_mask), offset));
        const __m512 hi = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(bytes, 4), offset));
        const __m512 sum = _mm512_fmadd_ps(hi, _mm512_loadu_ps(x + 16), _mm512_mul_ps(lo, _mm512_loadu_ps(x)));
        acc = _mm512_fmadd_ps(sum, _mm512_set1_ps(f16_to_f32(blocks[b].d)), acc);
    }
    return _mm512_reduce_add_ps(acc);
}

void silu_mul(float* gate, const float* up, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
        const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), g));
        const __m512 silu = _mm512_div_ps(g, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
        _mm512_mask_storeu_ps(gate + i, m, _mm512_mul_ps(silu, _mm512_maskz_loadu_ps(m, up + i)));
    }
}

void f16_to_f32_row(const uint16_t* x, size_t n, float* out) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(out + i, m, load16(DType::f16, x, i, m));
    }
}

void bf16_to_f32_row(const uint16_t* x, size_t n, float* out) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(out + i, m, load16(DType::bf16, x, i, m));
    }
}

void f32_to_f16_row(const float* x, size_t n, uint16_t* out) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = tail_mask(n - i);
        const __m256i h = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT);
        _mm256_mask_storeu_epi16(out + i, m, h);
    }
}

}  // namespace cwm::kernels::avx512
