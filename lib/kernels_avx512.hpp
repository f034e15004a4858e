// AVX-512 kernels; call only when the CPU reports AVX-512F (see kernels.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtype.hpp"

namespace cwm::kernels::avx512 {

float dot_row(DType type, const void* row, const float* x, size_t n);  // f32/f16/bf16 row
// Rows of Q8_0 / Q4_0 blocks (quant.hpp) dotted with f32 activations; n a multiple of 32.
float dot_row_q8_0(const void* row, const float* x, size_t n);
float dot_row_q4_0(const void* row, const float* x, size_t n);
// gate[i] = silu(gate[i]) * up[i], e^x within 2 ulp (kernels_avx512.cpp)
void silu_mul(float* gate, const float* up, size_t n);
void f16_to_f32_row(const uint16_t* x, size_t n, float* out);
void bf16_to_f32_row(const uint16_t* x, size_t n, float* out);
void f32_to_f16_row(const float* x, size_t n, uint16_t* out);

}  // namespace cwm::kernels::avx512
