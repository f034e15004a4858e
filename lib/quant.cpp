#include "quant.hpp"

#include <algorithm>
#include <cmath>

#include "dtype.hpp"

namespace cwm::quant {

void dequantize_q8_0(const BlockQ8_0* blocks, size_t n, float* out) {
    for (size_t b = 0; b < n / kBlock; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        for (size_t i = 0; i < kBlock; ++i) out[b * kBlock + i] = d * float(blocks[b].q[i]);
    }
}

void dequantize_q4_0(const BlockQ4_0* blocks, size_t n, float* out) {
    for (size_t b = 0; b < n / kBlock; ++b) {
        const float d = f16_to_f32(blocks[b].d);
        for (size_t j = 0; j < kBlock / 2; ++j) {
            out[b * kBlock + j] = d * float(int(blocks[b].q[j] & 0x0f) - 8);
            out[b * kBlock + j + kBlock / 2] = d * float(int(blocks[b].q[j] >> 4) - 8);
        }
    }
}

void quantize_q8_0(const float* x, size_t n, BlockQ8_0* out) {
    for (size_t b = 0; b < n / kBlock; ++b) {
        const float* v = x + b * kBlock;
        float amax = 0.0f;
        for (size_t i = 0; i < kBlock; ++i) amax = std::max(amax, std::fabs(v[i]));
        const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        out[b].d = f32_to_f16(d);
        for (size_t i = 0; i < kBlock; ++i) out[b].q[i] = int8_t(std::lround(v[i] * id));
    }
}

void quantize_q4_0(const float* x, size_t n, BlockQ4_0* out) {
    for (size_t b = 0; b < n / kBlock; ++b) {
        const float* v = x + b * kBlock;
        float amax = 0.0f, extreme = 0.0f;  // the value of largest magnitude, with its sign
        for (size_t i = 0; i < kBlock; ++i)
            if (std::fabs(v[i]) > amax) amax = std::fabs(v[i]), extreme = v[i];
        const float d = extreme / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        out[b].d = f32_to_f16(d);
        for (size_t j = 0; j < kBlock / 2; ++j) {
            const auto lo = uint8_t(std::min(15, int(v[j] * id + 8.5f)));
            const auto hi = uint8_t(std::min(15, int(v[j + kBlock / 2] * id + 8.5f)));
            out[b].q[j] = uint8_t(lo | (hi << 4));
        }
    }
}

}  // namespace cwm::quant
