// Element types of weight tensors, numbered exactly as ggml/GGUF number them so that a
// GGUF tensor's type field can be used directly. Only the storage description lives here;
// which types have kernels is decided in kernels.hpp.
#pragma once

#include <cstdint>
#include <cstring>

namespace cwm {

enum class DType : uint32_t {
    f32 = 0,
    f16 = 1,
    q4_0 = 2,
    q4_1 = 3,
    q5_0 = 6,
    q5_1 = 7,
    q8_0 = 8,
    q8_1 = 9,
    q2_k = 10,
    q3_k = 11,
    q4_k = 12,
    q5_k = 13,
    q6_k = 14,
    q8_k = 15,
    i8 = 24,
    i16 = 25,
    i32 = 26,
    i64 = 27,
    f64 = 28,
    bf16 = 30,
};

// A type stores elements in blocks of `block_elems` elements taking `block_bytes` bytes.
struct DTypeInfo {
    const char* name;
    uint32_t block_elems;
    uint32_t block_bytes;
};

// Returns nullptr for a type number this project does not know (a hostile or newer file).
const DTypeInfo* dtype_info(uint32_t type);

// IEEE half <-> float, and bfloat16 <-> float (round to nearest even, NaN kept quiet).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

inline float bf16_to_f32(uint16_t h) {
    const uint32_t bits = uint32_t(h) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

inline uint16_t f32_to_bf16(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return uint16_t((bits >> 16) | 0x40u);  // quiet NaN
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return uint16_t(bits >> 16);
}

}  // namespace cwm
