#include "dtype.hpp"

namespace cwm {

namespace {

// Indexed by ggml type number; a null name marks a number ggml retired or this project
// does not know (4, 5: removed q4_2/q4_3; 16-23: i-quants; 29: iq1_m).
constexpr DTypeInfo kTypes[] = {
    {"f32", 1, 4},     {"f16", 1, 2},      {"q4_0", 32, 18},   {"q4_1", 32, 20},
    {nullptr, 0, 0},   {nullptr, 0, 0},    {"q5_0", 32, 22},   {"q5_1", 32, 24},
    {"q8_0", 32, 34},  {"q8_1", 32, 36},   {"q2_k", 256, 84},  {"q3_k", 256, 110},
    {"q4_k", 256, 144}, {"q5_k", 256, 176}, {"q6_k", 256, 210}, {"q8_k", 256, 292},
    {nullptr, 0, 0},   {nullptr, 0, 0},    {nullptr, 0, 0},    {nullptr, 0, 0},
    {nullptr, 0, 0},   {nullptr, 0, 0},    {nullptr, 0, 0},    {nullptr, 0, 0},
    {"i8", 1, 1},      {"i16", 1, 2},      {"i32", 1, 4},      {"i64", 1, 8},
    {"f64", 1, 8},     {nullptr, 0, 0},    {"bf16", 1, 2},
};

uint32_t float_bits(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
}

float bits_float(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// Shifts `mant` right by `shift` (1..31), rounding to nearest with ties to even.
uint32_t shift_round_even(uint32_t mant, uint32_t shift) {
    const uint32_t half = 1u << (shift - 1);
    const uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t q = mant >> shift;
    if (rem > half || (rem == half && (q & 1u))) ++q;
    return q;
}

}  // namespace

const DTypeInfo* dtype_info(uint32_t type) {
    if (type >= sizeof kTypes / sizeof kTypes[0] || kTypes[type].name == nullptr) return nullptr;
    return &kTypes[type];
}

float f16_to_f32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        // Zero or subnormal: mant * 2^-24 is exact in float.
        const float mag = float(mant) * 0x1p-24f;
        return sign ? -mag : mag;
    }
    if (exp == 31) return bits_float(sign | 0x7f800000u | (mant << 13));  // inf / NaN (payload kept)
    return bits_float(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t f32_to_f16(float f) {
    const uint32_t bits = float_bits(f);
    const uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
    const uint32_t abs = bits & 0x7fffffffu;
    if (abs > 0x7f800000u) return uint16_t(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));  // quiet NaN
    // 65520 = 0x477ff000 is halfway between 65504 (odd mantissa) and 2^16, so it rounds up.
    if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00u);
    const uint32_t exp = abs >> 23;
    if (exp < 113) {
        // Result is a half subnormal: the value in units of 2^-24, rounded. Anything at or
        // below 2^-25 rounds to zero (the tie goes to the even 0).
        const uint32_t shift = 126 - exp;
        if (shift > 24) return sign;
        const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
        return uint16_t(sign | shift_round_even(mant, shift));
    }
    // Normal: rebias the exponent and round the 23-bit mantissa to 10 bits; a carry out of
    // the mantissa correctly bumps the exponent.
    return uint16_t(sign | shift_round_even(abs - (112u << 23), 13));
}

}  // namespace cwm
