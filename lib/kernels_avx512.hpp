// AVX-512 kernels; call only when the CPU reports AVX-512F (see kernels.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtype.hpp"

namespace cwm::kernels::avx512 {

float dot_row(DType type, const void* row, const float* x, size_t n);  // f32/f16/bf16 row
float dot_f32_f16(const float* q, const uint16_t* k, size_t n);
void axpy_f16(float a, const uint16_t* v, size_t n, float* out);
void f16_to_f32_row(const uint16_t* x, size_t n, float* out);
void bf16_to_f32_row(const uint16_t* x, size_t n, float* out);
void f32_to_f16_row(const float* x, size_t n, uint16_t* out);

}  // namespace cwm::kernels::avx512
