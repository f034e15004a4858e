// The packed K-quant products (lib/packed_k.hpp): packing is lossless, the scalar packed
// reference equals quant::dot_*_q8_k_ref bit for bit, and so does the AVX-512 body, however the
// work units are split.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

#include "cpu.hpp"
#include "packed_k.hpp"
#include "packed_quant.hpp"
#include "quant_k.hpp"

using namespace cwm;
using namespace cwm::kernels;

namespace {

constexpr size_t kQK = quant::kSuperBlock;

size_t block_bytes(DType type) { return type == DType::q4_k ? sizeof(quant::BlockQ4_K) : sizeof(quant::BlockQ6_K); }

// Random blocks (any level, scale and min bytes) with finite f16 scales of both signs; every
// 5th row is extreme: all levels and scales at their maximum (Q6_K: scales alternate -128, 127).
std::vector<uint8_t> random_matrix(DType type, size_t rows, size_t cols, std::mt19937& rng) {
    const size_t bb = block_bytes(type), n_blocks = rows * cols / kQK;
    std::vector<uint8_t> m(n_blocks * bb);
    for (auto& v : m) v = uint8_t(rng());
    std::uniform_real_distribution<float> scale(-0.1f, 0.1f);
    for (size_t b = 0; b < n_blocks; ++b) {
        uint8_t* block = &m[b * bb];
        if (b / (cols / kQK) % 5 == 4) {
            std::memset(block, 0xff, bb);
            if (type == DType::q6_k)
                for (size_t j = 0; j < 16; ++j) block[offsetof(quant::BlockQ6_K, scales) + j] = j % 2 ? 127 : 0x80;
        }
        const uint16_t d[2] = {f32_to_f16(scale(rng)), f32_to_f16(scale(rng))};
        std::memcpy(block + (type == DType::q4_k ? 0 : offsetof(quant::BlockQ6_K, d)), d, type == DType::q4_k ? 4 : 2);
    }
    return m;
}

// Q8_K rows of random floats; some blocks are all zero or all one extreme (every value -127).
std::vector<quant::BlockQ8_K> random_activations(size_t n_tokens, size_t cols, std::mt19937& rng) {
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<float> x(n_tokens * cols);
    for (auto& v : x) v = normal(rng);
    for (size_t b = 0; b < x.size() / kQK; b += 3)
        std::fill(x.begin() + long(b * kQK), x.begin() + long((b + 1) * kQK), b % 2 ? -1.0f : 0.0f);
    std::vector<quant::BlockQ8_K> acts(x.size() / kQK);
    quant::quantize_row_q8_k(x.data(), x.size(), acts.data());
    return acts;
}

std::vector<uint8_t> packed_copy(DType type, const std::vector<uint8_t>& plain, size_t rows, size_t cols) {
    std::vector<uint8_t> packed(packed_k_bytes(type, rows, cols));
    pack_k_groups(type, plain.data(), rows, cols, packed.data(), 0, group_count(rows));
    return packed;
}

struct Shape {
    size_t rows, cols;
};
const Shape kShapes[] = {{16, 256}, {1, 512}, {17, 256}, {37, 768}, {64, 1024}, {53, 512}};

}  // namespace

TEST_CASE("packed K-quants keep the source size") {
    for (const Shape& s : kShapes) {
        const size_t source = s.rows * s.cols / kQK;
        CHECK(packed_k_bytes(DType::q6_k, s.rows, s.cols) == source * sizeof(quant::BlockQ6_K));
        CHECK(packed_k_bytes(DType::q4_k, s.rows, s.cols) == source * sizeof(quant::BlockQ4_K));
    }
}

TEST_CASE("packing K-quants is lossless") {
    std::mt19937 rng(1);
    for (DType type : {DType::q4_k, DType::q6_k})
        for (const Shape& s : kShapes) {
            CAPTURE(int(type));
            CAPTURE(s.rows);
            const auto plain = random_matrix(type, s.rows, s.cols, rng);
            const auto packed = packed_copy(type, plain, s.rows, s.cols);
            std::vector<float> got(s.cols), expect(s.cols);
            for (size_t r = 0; r < s.rows; ++r) {
                const uint8_t* row = plain.data() + r * s.cols / kQK * block_bytes(type);
                if (type == DType::q4_k)
                    quant::dequantize_q4_k(reinterpret_cast<const quant::BlockQ4_K*>(row), s.cols, expect.data());
                else
                    quant::dequantize_q6_k(reinterpret_cast<const quant::BlockQ6_K*>(row), s.cols, expect.data());
                dequantize_packed_k_row(type, packed.data(), s.rows, s.cols, r, got.data());
                REQUIRE(std::memcmp(got.data(), expect.data(), s.cols * sizeof(float)) == 0);
            }
        }
}

TEST_CASE("the packed K-quant reference equals quant::dot_*_q8_k_ref bit for bit") {
    std::mt19937 rng(2);
    for (DType type : {DType::q4_k, DType::q6_k})
        for (const Shape& s : kShapes) {
            CAPTURE(int(type));
            CAPTURE(s.rows);
            const size_t n_tokens = 3;
            const auto plain = random_matrix(type, s.rows, s.cols, rng);
            const auto packed = packed_copy(type, plain, s.rows, s.cols);
            const auto acts = random_activations(n_tokens, s.cols, rng);
            std::vector<float> y(n_tokens * s.rows);
            ref::matmul_packed_k(type, packed.data(), s.rows, s.cols, acts.data(), n_tokens, y.data(), s.rows, 0,
                                 work_unit_count(s.rows));
            const auto dot = type == DType::q4_k ? quant::dot_q4_k_q8_k_ref : quant::dot_q6_k_q8_k_ref;
            const size_t row_size = s.cols / kQK * block_bytes(type);
            for (size_t t = 0; t < n_tokens; ++t)
                for (size_t r = 0; r < s.rows; ++r) {
                    const float expect = dot(plain.data() + r * row_size, &acts[t * s.cols / kQK], s.cols);
                    REQUIRE(std::memcmp(&y[t * s.rows + r], &expect, sizeof expect) == 0);
                }
        }
}

TEST_CASE("the AVX-512 packed K-quant products equal the scalar reference bit for bit") {
    if (!cpu_has_avx512_vnni()) {
        MESSAGE("skipped: this CPU lacks AVX-512 VNNI");
        return;
    }
    std::mt19937 rng(3);
    const size_t token_counts[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 37, 70};
    for (DType type : {DType::q4_k, DType::q6_k})
        for (const Shape& s : kShapes)
            for (size_t n_tokens : token_counts) {
                CAPTURE(int(type));
                CAPTURE(s.rows);
                CAPTURE(s.cols);
                CAPTURE(n_tokens);
                const auto packed = packed_copy(type, random_matrix(type, s.rows, s.cols, rng), s.rows, s.cols);
                const auto acts = random_activations(n_tokens, s.cols, rng);
                const size_t units = work_unit_count(s.rows), ldy = s.rows + 3;
                std::vector<float> fast(n_tokens * ldy, -1.0f), expect(n_tokens * ldy, -1.0f);
                // An uneven split: the engine may cut the units anywhere.
                const size_t cut = std::uniform_int_distribution<size_t>(0, units)(rng);
                matmul_packed_k(type, packed.data(), s.rows, s.cols, acts.data(), n_tokens, fast.data(), ldy, 0, cut);
                matmul_packed_k(type, packed.data(), s.rows, s.cols, acts.data(), n_tokens, fast.data(), ldy, cut,
                                units);
                ref::matmul_packed_k(type, packed.data(), s.rows, s.cols, acts.data(), n_tokens, expect.data(), ldy,
                                     0, units);
                REQUIRE(std::memcmp(fast.data(), expect.data(), fast.size() * sizeof(float)) == 0);
            }
}
