// Q8_0 / Q4_0 blocks: the layouts spelled out from ggml's definition, the reference
// quantizers' error bounds, and products from quantized weights against dequantized ones.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels.hpp"
#include "quant.hpp"

using namespace cwm;

namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist;
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

}  // namespace

TEST_CASE("Q4_0 nibble layout: low nibbles are weights 0-15, high nibbles 16-31, offset 8") {
    quant::BlockQ4_0 b{};
    b.d = f32_to_f16(0.5f);
    for (int j = 0; j < 16; ++j) b.q[j] = uint8_t(j | ((15 - j) << 4));
    float out[32];
    quant::dequantize_q4_0(&b, 32, out);
    for (int j = 0; j < 16; ++j) {
        CHECK(out[j] == 0.5f * float(j - 8));
        CHECK(out[j + 16] == 0.5f * float(15 - j - 8));
    }
}

TEST_CASE("Q8_0 layout: f16 scale times int8") {
    quant::BlockQ8_0 b{};
    b.d = f32_to_f16(0.25f);
    for (int i = 0; i < 32; ++i) b.q[i] = int8_t(i * 8 - 128);
    float out[32];
    quant::dequantize_q8_0(&b, 32, out);
    for (int i = 0; i < 32; ++i) CHECK(out[i] == 0.25f * float(i * 8 - 128));
}

// Bounds from the definitions: Q8_0 rounds to the nearest step (half a step) but stores the
// step in f16 (relative error 2^-11, times up to 128 steps). Q4_0 scales by the signed extreme
// / -8, so values on the other side reach +8 steps and are clamped to +7: up to one step, plus
// the f16 error of the scale times 8 steps.
TEST_CASE("reference quantizers stay within their rounding bounds") {
    const auto x = random_floats(32 * 64, 5);
    std::vector<quant::BlockQ8_0> q8(64);
    std::vector<quant::BlockQ4_0> q4(64);
    quant::quantize_q8_0(x.data(), x.size(), q8.data());
    quant::quantize_q4_0(x.data(), x.size(), q4.data());
    std::vector<float> back8(x.size()), back4(x.size());
    quant::dequantize_q8_0(q8.data(), x.size(), back8.data());
    quant::dequantize_q4_0(q4.data(), x.size(), back4.data());
    for (size_t b = 0; b < 64; ++b) {
        const float step8 = f16_to_f32(q8[b].d), step4 = std::fabs(f16_to_f32(q4[b].d));
        for (size_t i = b * 32; i < b * 32 + 32; ++i) {
            CHECK(std::fabs(back8[i] - x[i]) <= step8 * (0.5f + 128.0f / 2048.0f) + 1e-6f);
            CHECK(std::fabs(back4[i] - x[i]) <= step4 * (1.0f + 8.0f / 2048.0f) + 1e-6f);
        }
    }
}

TEST_CASE("products from quantized weights equal products from their dequantized values") {
    ThreadPool pool(2);
    const size_t rows = 19, cols = 96;
    const auto w = random_floats(rows * cols, 9);
    std::vector<quant::BlockQ8_0> q8(rows * cols / 32);
    std::vector<quant::BlockQ4_0> q4(rows * cols / 32);
    quant::quantize_q8_0(w.data(), w.size(), q8.data());
    quant::quantize_q4_0(w.data(), w.size(), q4.data());
    for (auto [type, data] : {std::pair{DType::q8_0, (const void*)q8.data()}, std::pair{DType::q4_0, (const void*)q4.data()}}) {
        std::vector<float> dequantized(rows * cols);
        kernels::row_to_f32(type, data, dequantized.size(), dequantized.data());
        for (size_t n_tokens : {1u, 9u}) {
            const auto x = random_floats(n_tokens * cols, uint32_t(n_tokens));
            std::vector<float> y(n_tokens * rows), expect(n_tokens * rows);
            kernels::matmul({type, data, rows, cols}, x.data(), n_tokens, y.data(), pool);
            kernels::ref::matmul({DType::f32, dequantized.data(), rows, cols}, x.data(), n_tokens, expect.data());
            CAPTURE(type);
            CAPTURE(n_tokens);
            for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == doctest::Approx(expect[i]).epsilon(1e-4).scale(10));
        }
    }
}
