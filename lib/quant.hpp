// Block-quantized weight formats, bit-compatible with ggml/llama.cpp:
//   Q8_0: 32 weights = f16 scale d + 32 int8 q;             w = d * q
//   Q4_0: 32 weights = f16 scale d + 16 bytes of nibbles;   w = d * (q - 8), where byte j holds
//         weight j in its low nibble and weight j + 16 in its high nibble.
// These are the scalar definitions; fast kernels are tested against them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cwm::quant {

constexpr size_t kBlock = 32;

struct BlockQ8_0 {
    uint16_t d;  // f16
    int8_t q[kBlock];
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ4_0 {
    uint16_t d;  // f16
    uint8_t q[kBlock / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// n must be a multiple of kBlock.
void dequantize_q8_0(const BlockQ8_0* blocks, size_t n, float* out);
void dequantize_q4_0(const BlockQ4_0* blocks, size_t n, float* out);

// llama.cpp's reference quantizers (round to nearest; Q4_0 scales by the signed extreme / -8).
void quantize_q8_0(const float* x, size_t n, BlockQ8_0* out);
void quantize_q4_0(const float* x, size_t n, BlockQ4_0* out);

}  // namespace cwm::quant
