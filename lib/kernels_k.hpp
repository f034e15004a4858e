// SIMD dot products of one K-quant weight row (Q4_K or Q6_K, quant_k.hpp) with one Q8_K
// activation row; n is a multiple of 256. Integer parts are exact, so the result differs from
// quant::dot_*_q8_k_ref only in the order of the per-super-block float additions.
// Call the avx512 versions only when the CPU has AVX-512F/BW/VL + VNNI + F16C, and the avx2 ones
// when it has AVX2 + FMA + F16C (cpu_has_avx512_vnni / cpu_has_avx2 in cpu.hpp).
#pragma once

#include <cstddef>

#include "cpu.hpp"

namespace cwm::kernels {

namespace avx512 {
float dot_q4_k_q8_k(const void* w_row, const void* a_row, size_t n);
float dot_q6_k_q8_k(const void* w_row, const void* a_row, size_t n);
}  // namespace avx512

namespace avx2 {
float dot_q4_k_q8_k(const void* w_row, const void* a_row, size_t n);
float dot_q6_k_q8_k(const void* w_row, const void* a_row, size_t n);
}  // namespace avx2

}  // namespace cwm::kernels
