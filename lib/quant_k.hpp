// K-quant formats, bit-compatible with ggml/llama.cpp (super-blocks of 256 weights):
//   Q4_K: 8 sub-blocks of 32, each with a 6-bit scale and a 6-bit min, themselves scaled by the
//         f16 d / dmin of the super-block:  w = d * sc * q - dmin * m,  q in 0..15.
//   Q6_K: 16 sub-blocks of 16, each with an int8 scale:  w = d * sc * (q - 32),  q in 0..63.
//   Q8_K: activations only, f32 scale and int8 values, plus the sums of each 16 values (bsums),
//         which let a dot product apply Q4_K's mins and Q6_K's -32 offset once per sub-block.
// These are the scalar definitions; the SIMD dot products (kernels_k.hpp) are tested against them,
// and the quantizers against llama.cpp's own (tests/integration/test_kquant_llama_cpp.py).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace cwm::quant {

constexpr size_t kSuperBlock = 256;

struct BlockQ4_K {
    uint16_t d;           // f16 scale of the sub-block scales
    uint16_t dmin;        // f16 scale of the sub-block mins
    uint8_t scales[12];   // 8 scales and 8 mins, 6 bits each (packing: scale_min_q4_k)
    uint8_t qs[128];      // byte j of each 32-byte group: low nibble weight j, high nibble j + 32
};
static_assert(sizeof(BlockQ4_K) == 144);

struct BlockQ6_K {
    uint8_t ql[128];      // low 4 bits of the 6-bit values
    uint8_t qh[64];       // high 2 bits, four values per byte
    int8_t scales[16];    // one per 16 weights
    uint16_t d;           // f16
};
static_assert(sizeof(BlockQ6_K) == 210);

struct BlockQ8_K {
    float d;
    int8_t qs[kSuperBlock];
    int16_t bsums[kSuperBlock / 16];  // sum of each 16 consecutive qs
};
static_assert(sizeof(BlockQ8_K) == 292);

// Sub-block j's (6-bit scale, 6-bit min) from Q4_K's packed 12 bytes: bytes 0-3 hold the
// scales of 0-3, bytes 4-7 their mins, and bytes 8-11 the low 4 bits of sub-blocks 4-7's scale
// (low nibble) and min (high nibble) whose top 2 bits sit in bits 6-7 of bytes 0-7.
struct ScaleMin {
    uint8_t scale, min;
};
ScaleMin scale_min_q4_k(const uint8_t* scales, int j);

// Value i (0..255) of a Q6_K block, 0..63 (subtract 32 for the signed level).
int q6_level(const BlockQ6_K& b, int i);

// All 8 scales (out[0..7]) and 8 mins (out[8..15]) at once, four at a time in 32-bit words;
// the SIMD kernels' form of scale_min_q4_k.
inline void unpack_scales_mins_q4_k(const uint8_t* packed, uint8_t out[16]) {
    constexpr uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
    uint32_t w[3];
    std::memcpy(w, packed, 12);
    const uint32_t words[4] = {w[0] & low6, (w[2] & low4) | (((w[0] >> 6) & low2) << 4), w[1] & low6,
                               ((w[2] >> 4) & low4) | (((w[1] >> 6) & low2) << 4)};
    std::memcpy(out, words, 16);
}

// n must be a multiple of kSuperBlock.
void dequantize_q4_k(const BlockQ4_K* blocks, size_t n, float* out);
void dequantize_q6_k(const BlockQ6_K* blocks, size_t n, float* out);

// llama.cpp's reference quantizers (quantize_row_q4_K_ref / q6_K_ref: no importance matrix),
// byte for byte.
void quantize_q4_k(const float* x, size_t n, BlockQ4_K* out);
void quantize_q6_k(const float* x, size_t n, BlockQ6_K* out);

// Activations, as llama.cpp's CPU backend quantizes them for K-quant dot products
// (quantize_row_q8_K, which on x86 is the reference: d = max / -127, round to nearest).
void quantize_q8_k(const float* x, size_t n, BlockQ8_K* out);
void quantize_row_q8_k(const float* x, size_t n, void* out);

// Scalar reference dot products of a weight row with a Q8_K activation row (n a multiple of
// 256): integer sums per sub-block scaled by the integer sub-block scale, then one float
// multiply-add per super-block, as ggml's generic code does.
float dot_q4_k_q8_k_ref(const void* w, const void* a, size_t n);
float dot_q6_k_q8_k_ref(const void* w, const void* a, size_t n);

}  // namespace cwm::quant
