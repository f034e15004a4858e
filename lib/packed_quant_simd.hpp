// SIMD bodies of packed_quant.hpp; call only after the runtime checks in packed_quant.cpp.
// matmul_groups computes whole 16-row groups [group_begin, group_end) for every token.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtype.hpp"

namespace cwm::kernels {

namespace avx512 {
void quantize_activation_row(const float* x, size_t cols, void* out);
void matmul_groups(DType type, const uint8_t* packed, size_t cols, const void* acts, size_t n_tokens, float* y,
                   size_t ldy, size_t group_begin, size_t group_end);
}  // namespace avx512

namespace avx2 {
void matmul_groups(DType type, const uint8_t* packed, size_t cols, const void* acts, size_t n_tokens, float* y,
                   size_t ldy, size_t group_begin, size_t group_end);
}  // namespace avx2

}  // namespace cwm::kernels
