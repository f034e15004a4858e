// AVX2 + FMA + F16C float kernels, for CPUs without AVX-512 (see kernels.cpp's dispatch).
// Same contracts as their scalar references in kernels.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtype.hpp"

namespace cwm::kernels::avx2 {

float dot_row(DType type, const void* row, const float* x, size_t n);  // f32/f16/bf16 row
void f16_to_f32_row(const uint16_t* x, size_t n, float* out);
void bf16_to_f32_row(const uint16_t* x, size_t n, float* out);
void f32_to_f16_row(const float* x, size_t n, uint16_t* out);

}  // namespace cwm::kernels::avx2
