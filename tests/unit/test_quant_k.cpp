// Q4_K / Q6_K / Q8_K (lib/quant_k.hpp): layouts, quantization error bounds, and the SIMD dot
// products (lib/kernels_k.hpp) against the scalar references. Byte equality with llama.cpp is
// tests/integration/test_kquant_llama_cpp.py's job.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "dtype.hpp"
#include "kernels_k.hpp"
#include "quant_k.hpp"

using namespace cwm;
using quant::BlockQ4_K;
using quant::BlockQ6_K;
using quant::BlockQ8_K;

namespace cwm::kernels::avx512_emulated {  // tests/unit/kernels_k_avx512_emulated.cpp
extern const bool available;
float dot_q4_k_q8_k(const void* w, const void* a, size_t n);
float dot_q6_k_q8_k(const void* w, const void* a, size_t n);
}  // namespace cwm::kernels::avx512_emulated

namespace {

constexpr size_t kQK = quant::kSuperBlock;

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

template <class Block>
std::vector<Block> random_blocks(size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<Block> blocks(n / kQK);
    auto* bytes = reinterpret_cast<uint8_t*>(blocks.data());
    for (size_t i = 0; i < blocks.size() * sizeof(Block); ++i) bytes[i] = uint8_t(rng());
    return blocks;
}

double rms(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += double(x) * x;
    return std::sqrt(s / double(v.size()));
}

double rms_error(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    return std::sqrt(s / double(a.size()));
}

std::vector<float> dequantize(const std::vector<BlockQ8_K>& a) {
    std::vector<float> out(a.size() * kQK);
    for (size_t i = 0; i < out.size(); ++i) out[i] = a[i / kQK].d * a[i / kQK].qs[i % kQK];
    return out;
}

// Sum of |w_i * a_i| with each weight's terms taken in absolute value (Q4_K: |d sc q| + |dmin m|):
// the scale of the rounding error any summation order of the dot product can make.
double magnitude(std::vector<BlockQ4_K> w, const std::vector<BlockQ8_K>& a) {
    for (BlockQ4_K& b : w) b.d &= 0x7fff, b.dmin = uint16_t((b.dmin & 0x7fff) | 0x8000);  // -|dmin|: adds |dmin m|
    std::vector<float> wf(w.size() * kQK);
    quant::dequantize_q4_k(w.data(), wf.size(), wf.data());
    const std::vector<float> af = dequantize(a);
    double s = 0;
    for (size_t i = 0; i < wf.size(); ++i) s += std::fabs(double(wf[i]) * af[i]);
    return s;
}

double magnitude(const std::vector<BlockQ6_K>& w, const std::vector<BlockQ8_K>& a) {
    std::vector<float> wf(w.size() * kQK);
    quant::dequantize_q6_k(w.data(), wf.size(), wf.data());
    const std::vector<float> af = dequantize(a);
    double s = 0;
    for (size_t i = 0; i < wf.size(); ++i) s += std::fabs(double(wf[i]) * af[i]);
    return s;
}

std::vector<BlockQ8_K> activations(size_t n, uint32_t seed) {
    std::vector<BlockQ8_K> a(n / kQK);
    quant::quantize_row_q8_k(random_floats(n, seed).data(), n, a.data());
    return a;
}

// Random finite f16 scales, so that random bytes make valid blocks with every scale pattern.
uint16_t random_scale(std::mt19937& rng) { return f32_to_f16(std::uniform_real_distribution<float>(-0.1f, 0.1f)(rng)); }

struct DotImpl {
    const char* name;
    bool available;
    float (*q4)(const void*, const void*, size_t);
    float (*q6)(const void*, const void*, size_t);
};

std::vector<DotImpl> simd_impls() {
    return {{"avx512", kernels::cpu_has_avx512_vnni(), kernels::avx512::dot_q4_k_q8_k, kernels::avx512::dot_q6_k_q8_k},
            {"avx2", kernels::cpu_has_avx2(), kernels::avx2::dot_q4_k_q8_k, kernels::avx2::dot_q6_k_q8_k},
            {"avx512 (SIMDe emulation)", kernels::avx512_emulated::available, kernels::avx512_emulated::dot_q4_k_q8_k,
             kernels::avx512_emulated::dot_q6_k_q8_k}};
}

}  // namespace

TEST_CASE("K-quant block sizes are ggml's") {
    CHECK(dtype_info(uint32_t(DType::q4_k))->block_bytes == sizeof(BlockQ4_K));
    CHECK(dtype_info(uint32_t(DType::q6_k))->block_bytes == sizeof(BlockQ6_K));
    CHECK(dtype_info(uint32_t(DType::q8_k))->block_bytes == sizeof(BlockQ8_K));
    CHECK(offsetof(BlockQ6_K, d) == 208);
    CHECK(offsetof(BlockQ8_K, bsums) == 260);
}

TEST_CASE("Q4_K 6-bit scale packing: the per-sub-block and the 32-bit-word unpacking agree") {
    std::mt19937 rng(7);
    for (int trial = 0; trial < 1000; ++trial) {
        uint8_t packed[12], all[16];
        for (uint8_t& b : packed) b = uint8_t(rng());
        quant::unpack_scales_mins_q4_k(packed, all);
        for (int j = 0; j < 8; ++j) {
            const quant::ScaleMin sm = quant::scale_min_q4_k(packed, j);
            REQUIRE(sm.scale == all[j]);
            REQUIRE(sm.min == all[8 + j]);
        }
    }
}

TEST_CASE("Q4_K layout: nibbles and scales spelled out") {
    BlockQ4_K b{};
    b.d = f32_to_f16(0.5f);
    b.dmin = f32_to_f16(0.25f);
    // sub-block 1: scale 3, min 2; sub-block 5: scale 33 (0b100001), min 18 (0b010010)
    b.scales[1] = 3, b.scales[5] = 2;
    b.scales[9] = uint8_t((33 & 0xf) | ((18 & 0xf) << 4));
    b.scales[1] |= uint8_t((33 >> 4) << 6), b.scales[5] |= uint8_t((18 >> 4) << 6);
    b.qs[0] = 0x21;       // weight 0 (sub 0) = 1, weight 32 (sub 1) = 2
    b.qs[64 + 3] = 0x70;  // weight 128 + 3 (sub 4) = 0, weight 160 + 3 (sub 5) = 7
    float out[kQK];
    quant::dequantize_q4_k(&b, kQK, out);
    CHECK(out[0] == 0.0f);  // sub-block 0 has scale 0 and min 0
    CHECK(out[32] == 0.5f * 3 * 2 - 0.25f * 2);
    CHECK(out[33] == -0.25f * 2);
    CHECK(out[160 + 3] == 0.5f * 33 * 7 - 0.25f * 18);
}

TEST_CASE("Q6_K layout: low nibbles, high bit pairs and signed scales spelled out") {
    BlockQ6_K b{};
    b.d = f32_to_f16(0.5f);
    for (int j = 0; j < 16; ++j) b.scales[j] = int8_t(j - 8);
    b.ql[0] = 0x5a;          // value 0: low 0xa, value 64: low 0x5
    b.ql[32 + 1] = 0x03;     // value 33: low 3
    b.qh[0] = 0b11'10'00'01;  // value 0: top 1, value 32: 0, value 64: 2, value 96: 3
    b.qh[1] = 0b00'00'11'00;  // value 33: top 3
    b.ql[64 + 2] = 0xf0;     // second half, value 128 + 66: low 0xf (qh 0)
    float out[kQK];
    quant::dequantize_q6_k(&b, kQK, out);
    CHECK(out[0] == 0.5f * (0 - 8) * ((0x1a) - 32));
    CHECK(out[64] == 0.5f * (4 - 8) * ((0x25) - 32));
    CHECK(out[96] == 0.5f * (6 - 8) * ((0x30) - 32));
    CHECK(out[33] == 0.5f * (2 - 8) * ((0x33) - 32));
    CHECK(out[128 + 66] == 0.5f * (12 - 8) * (0xf - 32));
}

TEST_CASE("K-quant round trips stay within their error bounds") {
    for (size_t n : {size_t(256), size_t(4096)}) {
        const std::vector<float> x = random_floats(n, uint32_t(n), 0.02f);
        std::vector<float> back(n);
        std::vector<BlockQ4_K> q4(n / kQK);
        quant::quantize_q4_k(x.data(), n, q4.data());
        quant::dequantize_q4_k(q4.data(), n, back.data());
        CHECK(rms_error(x, back) < 0.12 * rms(x));  // 4 bits + min: ~0.09 measured on Gaussians
        std::vector<BlockQ6_K> q6(n / kQK);
        quant::quantize_q6_k(x.data(), n, q6.data());
        quant::dequantize_q6_k(q6.data(), n, back.data());
        CHECK(rms_error(x, back) < 0.03 * rms(x));  // 6 bits: ~0.02 measured
        // Q8_K: every value within half a step of its block's scale (plus f32 rounding).
        std::vector<BlockQ8_K> q8(n / kQK);
        quant::quantize_q8_k(x.data(), n, q8.data());
        for (size_t i = 0; i < n; ++i) {
            const BlockQ8_K& b = q8[i / kQK];
            REQUIRE(std::fabs(x[i] - b.d * b.qs[i % kQK]) <= std::fabs(b.d) * 0.5001f);
        }
        for (const BlockQ8_K& b : q8)
            for (int j = 0; j < 16; ++j) {
                int sum = 0;
                for (int i = 0; i < 16; ++i) sum += b.qs[16 * j + i];
                REQUIRE(b.bsums[j] == sum);
            }
    }
}

TEST_CASE("K-quant edge rows: zeros stay zero, one huge value is kept") {
    std::vector<float> x(kQK, 0.0f), back(kQK);
    BlockQ4_K q4;
    BlockQ6_K q6;
    BlockQ8_K q8;
    quant::quantize_q4_k(x.data(), kQK, &q4);
    quant::quantize_q6_k(x.data(), kQK, &q6);
    quant::quantize_q8_k(x.data(), kQK, &q8);
    quant::dequantize_q4_k(&q4, kQK, back.data());
    for (float v : back) REQUIRE(v == 0.0f);
    quant::dequantize_q6_k(&q6, kQK, back.data());
    for (float v : back) REQUIRE(v == 0.0f);
    CHECK(q8.d == 0.0f);
    x[77] = -1000.0f;
    quant::quantize_q4_k(x.data(), kQK, &q4);
    quant::dequantize_q4_k(&q4, kQK, back.data());
    CHECK(std::fabs(back[77] + 1000.0f) < 1000.0f * 0.01f);
    quant::quantize_q6_k(x.data(), kQK, &q6);
    quant::dequantize_q6_k(&q6, kQK, back.data());
    CHECK(std::fabs(back[77] + 1000.0f) < 1000.0f * 0.01f);
}

TEST_CASE("K-quant scalar dots equal the dequantized dot") {
    const size_t n = 1024;
    std::vector<BlockQ4_K> q4(n / kQK);
    std::vector<BlockQ6_K> q6(n / kQK);
    const std::vector<float> x = random_floats(n, 3);
    quant::quantize_q4_k(x.data(), n, q4.data());
    quant::quantize_q6_k(x.data(), n, q6.data());
    const std::vector<BlockQ8_K> a = activations(n, 4);
    const std::vector<float> af = dequantize(a);
    std::vector<float> wf(n);
    double expect = 0;
    quant::dequantize_q4_k(q4.data(), n, wf.data());
    for (size_t i = 0; i < n; ++i) expect += double(wf[i]) * af[i];
    CHECK(std::fabs(quant::dot_q4_k_q8_k_ref(q4.data(), a.data(), n) - expect) <= 1e-5 * magnitude(q4, a));
    expect = 0;
    quant::dequantize_q6_k(q6.data(), n, wf.data());
    for (size_t i = 0; i < n; ++i) expect += double(wf[i]) * af[i];
    CHECK(std::fabs(quant::dot_q6_k_q8_k_ref(q6.data(), a.data(), n) - expect) <= 1e-5 * magnitude(q6, a));
}

// The integer parts are exact in every implementation; only the float sum over super-blocks
// is ordered differently, so 1e-5 of sum |w_i a_i| is a wide bound (n <= 11008: 43 terms).
TEST_CASE("K-quant SIMD dots equal the scalar references") {
    std::mt19937 rng(11);
    for (const DotImpl& impl : simd_impls()) {
        if (!impl.available) {
            MESSAGE("skipping " << std::string(impl.name) << ": not supported here");
            continue;
        }
        for (size_t n : {size_t(256), size_t(512), size_t(4096), size_t(11008)}) {
            const std::string name = impl.name;
            CAPTURE(name);
            CAPTURE(n);
            const std::vector<BlockQ8_K> a = activations(n, uint32_t(n) + 1);
            // Quantized from floats (realistic) and raw random bytes (every scale and level pattern).
            std::vector<BlockQ4_K> q4 = random_blocks<BlockQ4_K>(n, uint32_t(n) + 2);
            std::vector<BlockQ6_K> q6 = random_blocks<BlockQ6_K>(n, uint32_t(n) + 3);
            for (auto& b : q4) b.d = random_scale(rng), b.dmin = random_scale(rng);
            for (auto& b : q6) b.d = random_scale(rng);
            for (int source = 0; source < 2; ++source) {
                if (source == 1) {
                    const std::vector<float> x = random_floats(n, uint32_t(n) + 4);
                    quant::quantize_q4_k(x.data(), n, q4.data());
                    quant::quantize_q6_k(x.data(), n, q6.data());
                }
                const float r4 = quant::dot_q4_k_q8_k_ref(q4.data(), a.data(), n);
                CHECK(std::fabs(impl.q4(q4.data(), a.data(), n) - r4) <= 1e-5 * magnitude(q4, a));
                const float r6 = quant::dot_q6_k_q8_k_ref(q6.data(), a.data(), n);
                CHECK(std::fabs(impl.q6(q6.data(), a.data(), n) - r6) <= 1e-5 * magnitude(q6, a));
            }
        }
    }
}
