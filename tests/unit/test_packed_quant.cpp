// The packed int8 products (lib/packed_quant.hpp): packing is lossless, every SIMD body gives
// exactly the scalar reference's floats, and activations round like llama.cpp's quantizer.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "cpu.hpp"
#include "packed_quant.hpp"
#include "packed_quant_simd.hpp"
#include "quant.hpp"

using namespace cwm;
using namespace cwm::kernels;

namespace {

size_t block_bytes(DType type) { return type == DType::q8_0 ? sizeof(quant::BlockQ8_0) : sizeof(quant::BlockQ4_0); }

// Random blocks: any quant bytes, scales spread over a few binades (positive and negative).
std::vector<uint8_t> random_matrix(DType type, size_t rows, size_t cols, std::mt19937& rng) {
    std::vector<uint8_t> m(rows * cols / quant::kBlock * block_bytes(type));
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& v : m) v = uint8_t(byte(rng));
    std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
    for (size_t off = 0; off < m.size(); off += block_bytes(type)) {
        const uint16_t d = f32_to_f16(scale(rng));
        std::memcpy(&m[off], &d, sizeof d);
        if (type == DType::q8_0)  // Q8_0 quants stay in [-127, 127], as the quantizer writes them
            for (size_t i = 2; i < block_bytes(type); ++i)
                if (m[off + i] == 0x80) m[off + i] = 0x81;
    }
    return m;
}

std::vector<uint8_t> random_activations(size_t n_tokens, size_t cols, std::mt19937& rng) {
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<float> x(n_tokens * cols);
    for (auto& v : x) v = normal(rng);
    std::vector<uint8_t> acts(n_tokens * activation_row_bytes(cols));
    for (size_t t = 0; t < n_tokens; ++t)
        ref::quantize_activation_row(x.data() + t * cols, cols, acts.data() + t * activation_row_bytes(cols));
    return acts;
}

std::vector<uint8_t> packed_copy(DType type, const std::vector<uint8_t>& plain, size_t rows, size_t cols) {
    std::vector<uint8_t> packed(plain.size());
    pack_groups(type, plain.data(), rows, cols, packed.data(), 0, group_count(rows));
    return packed;
}

struct Shape {
    size_t rows, cols, n_tokens;
};
const Shape kShapes[] = {{16, 32, 1}, {1, 64, 3}, {17, 96, 9}, {40, 256, 13}, {64, 128, 8}, {33, 512, 17}};

}  // namespace

TEST_CASE("packed products equal the plain-layout definition exactly") {
    std::mt19937 rng(7);
    for (DType type : {DType::q8_0, DType::q4_0})
        for (const Shape& s : kShapes) {
            CAPTURE(s.rows);
            CAPTURE(s.cols);
            CAPTURE(int(type));
            const auto plain = random_matrix(type, s.rows, s.cols, rng);
            const auto packed = packed_copy(type, plain, s.rows, s.cols);
            const auto acts = random_activations(s.n_tokens, s.cols, rng);
            std::vector<float> y(s.n_tokens * s.rows);
            ref::matmul_packed(type, packed.data(), s.rows, s.cols, acts.data(), s.n_tokens, y.data(), s.rows, 0,
                               work_unit_count(s.rows));
            const size_t row_size = plain.size() / s.rows, act_size = activation_row_bytes(s.cols);
            for (size_t t = 0; t < s.n_tokens; ++t)
                for (size_t r = 0; r < s.rows; ++r) {
                    const float expect = ref::dot_activation_row(
                        type, plain.data() + r * row_size, activation_row(acts.data() + t * act_size, s.cols), s.cols);
                    REQUIRE(y[t * s.rows + r] == expect);
                }
        }
}

TEST_CASE("every SIMD body of the packed products equals the scalar reference bit for bit") {
    using Body = void (*)(DType, const uint8_t*, size_t, const void*, size_t, float*, size_t, size_t, size_t);
    struct Isa {
        const char* name;
        bool available;
        Body body;
    };
    const Isa isas[] = {{"avx512", cpu_has_avx512_vnni(), avx512::matmul_groups},
                        {"avx2", cpu_has_avx2(), avx2::matmul_groups}};
    std::mt19937 rng(11);
    for (const Isa& isa : isas) {
        if (!isa.available) {
            MESSAGE("skipped: this CPU lacks " << isa.name);
            continue;
        }
        for (DType type : {DType::q8_0, DType::q4_0})
            for (const Shape& s : kShapes)
                for (size_t n_tokens : {size_t(1), s.n_tokens, size_t(70)}) {
                    CAPTURE(isa.name);
                    CAPTURE(s.rows);
                    CAPTURE(s.cols);
                    CAPTURE(n_tokens);
                    const auto packed = packed_copy(type, random_matrix(type, s.rows, s.cols, rng), s.rows, s.cols);
                    const auto acts = random_activations(n_tokens, s.cols, rng);
                    const size_t groups = group_count(s.rows), ldy = s.rows + 3;
                    std::vector<float> fast(n_tokens * ldy, -1.0f), expect(n_tokens * ldy, -1.0f);
                    isa.body(type, packed.data(), s.cols, acts.data(), n_tokens, fast.data(), ldy, 0, groups);
                    ref::matmul_packed(type, packed.data(), groups * kGroupRows, s.cols, acts.data(), n_tokens,
                                       expect.data(), ldy, 0, groups);
                    REQUIRE(std::memcmp(fast.data(), expect.data(), fast.size() * sizeof(float)) == 0);
                }
    }
}

TEST_CASE("dispatched packed products do not depend on how work units are split") {
    std::mt19937 rng(5);
    const size_t rows = 53, cols = 256, n_tokens = 5;  // 3 groups and a 5-row tail
    for (DType type : {DType::q8_0, DType::q4_0}) {
        const auto packed = packed_copy(type, random_matrix(type, rows, cols, rng), rows, cols);
        const auto acts = random_activations(n_tokens, cols, rng);
        std::vector<float> whole(n_tokens * rows), split(n_tokens * rows), expect(n_tokens * rows);
        const size_t units = work_unit_count(rows);
        REQUIRE(units == 4);
        matmul_packed(type, packed.data(), rows, cols, acts.data(), n_tokens, whole.data(), rows, 0, units);
        for (size_t u = 0; u < units; ++u)
            matmul_packed(type, packed.data(), rows, cols, acts.data(), n_tokens, split.data(), rows, u, u + 1);
        ref::matmul_packed(type, packed.data(), rows, cols, acts.data(), n_tokens, expect.data(), rows, 0, units);
        CHECK(whole == expect);
        CHECK(split == expect);
    }
}

TEST_CASE("activations round like llama.cpp's x86 quantize_row_q8_0") {
    // amax 127 makes the multiplier exactly 1, so the rounding of halves is visible.
    std::vector<float> x(32, 0.0f);
    x[0] = 127.0f, x[1] = 2.5f, x[2] = 3.5f, x[3] = -2.5f, x[4] = 0.4999f, x[5] = -126.5f;
    std::vector<uint8_t> row(activation_row_bytes(32));
    ref::quantize_activation_row(x.data(), 32, row.data());
    const ActivationRow a = activation_row(row.data(), 32);
    CHECK(a.d[0] == 1.0f);
    CHECK(a.q[0] == 127);
    CHECK(a.q[1] == 2);  // half to even, where roundf would give 3
    CHECK(a.q[2] == 4);
    CHECK(a.q[3] == -2);
    CHECK(a.q[4] == 0);
    CHECK(a.q[5] == -126);
    CHECK(a.sum[0] == 127 + 2 + 4 - 2 - 126);

    std::fill(x.begin(), x.end(), 0.0f);  // an all-zero block has scale 0 and zero quants
    ref::quantize_activation_row(x.data(), 32, row.data());
    CHECK(a.d[0] == 0.0f);
    CHECK(a.sum[0] == 0);
}

TEST_CASE("the AVX-512 activation quantizer equals the scalar one") {
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    const size_t cols = 4096;
    std::vector<float> x(cols);
    for (auto& v : x) v = normal(rng);
    std::vector<uint8_t> fast(activation_row_bytes(cols)), expect(activation_row_bytes(cols));
    ref::quantize_activation_row(x.data(), cols, expect.data());
    if (!cpu_has_avx512()) {
        MESSAGE("skipped: this CPU lacks AVX-512");
        return;
    }
    avx512::quantize_activation_row(x.data(), cols, fast.data());
    CHECK(fast == expect);
}
