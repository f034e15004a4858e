// Fast kernels against their scalar references, on random inputs with awkward sizes
// (tails shorter than a vector, both the row-streaming and the sgemm product paths).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels.hpp"
#include "packed_k.hpp"
#include "packed_quant.hpp"
#include "quant.hpp"
#include "quant_k.hpp"

using namespace cwm;

namespace {

std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

// Stores `values` as `type`, returning the raw bytes.
std::vector<uint8_t> encode(DType type, const std::vector<float>& values) {
    std::vector<uint8_t> out(values.size() * (type == DType::f32 ? 4 : 2));
    for (size_t i = 0; i < values.size(); ++i) {
        if (type == DType::f32) {
            std::memcpy(out.data() + 4 * i, &values[i], 4);
        } else {
            const uint16_t h = type == DType::f16 ? f32_to_f16(values[i]) : f32_to_bf16(values[i]);
            std::memcpy(out.data() + 2 * i, &h, 2);
        }
    }
    return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
    return m;
}

}  // namespace

TEST_CASE("matmul equals the scalar reference for every weight type and both product paths") {
    ThreadPool pool(2);
    for (DType type : {DType::f32, DType::f16, DType::bf16}) {
        for (size_t cols : {1u, 15u, 64u, 97u, 300u}) {
            for (size_t n_tokens : {1u, 3u, 8u, 21u}) {
                const size_t rows = 37;
                const auto weights = encode(type, random_floats(rows * cols, uint32_t(cols)));
                const auto x = random_floats(n_tokens * cols, uint32_t(cols + n_tokens));
                const kernels::WeightMatrix w{type, weights.data(), rows, cols};
                std::vector<float> fast(n_tokens * rows), ref(n_tokens * rows);
                kernels::matmul(w, x.data(), n_tokens, fast.data(), pool);
                kernels::ref::matmul(w, x.data(), n_tokens, ref.data());
                // f32 accumulation of `cols` products of unit-variance terms: error ~ sqrt(cols) * eps * |terms|.
                const double bound = 1e-5 * std::sqrt(double(cols)) * 8;
                CAPTURE(type);
                CAPTURE(cols);
                CAPTURE(n_tokens);
                CHECK(max_abs_diff(fast, ref) <= bound);
            }
        }
    }
}

TEST_CASE("the row-streaming product gives identical results for any thread count") {
    const size_t rows = 101, cols = 77;
    const auto weights = encode(DType::f16, random_floats(rows * cols, 7));
    const auto x = random_floats(2 * cols, 8);
    const kernels::WeightMatrix w{DType::f16, weights.data(), rows, cols};
    std::vector<float> one(2 * rows), three(2 * rows);
    ThreadPool p1(1), p3(3);
    kernels::matmul(w, x.data(), 2, one.data(), p1);
    kernels::matmul(w, x.data(), 2, three.data(), p3);
    CHECK(one == three);
}

// The fast e^x is within 2 ulp; the division and the product round once more each.
TEST_CASE("silu_mul is within 3e-7 (relative) of the scalar reference") {
    auto gate = random_floats(1000, 4, 8.0f);
    for (float x : {0.0f, -0.0f, 1e-30f, -87.5f, -104.5f, -200.0f, 88.0f, 89.5f, 300.0f, -INFINITY, INFINITY})
        gate.push_back(x);
    for (int i = -1000; i <= 1000; ++i) gate.push_back(float(i) * 0.1f);
    const auto up = random_floats(gate.size(), 5);
    std::vector<float> fast = gate, ref = gate;
    kernels::silu_mul(fast.data(), up.data(), fast.size());
    kernels::ref::silu_mul(ref.data(), up.data(), ref.size());
    for (size_t i = 0; i < gate.size(); ++i) {
        CAPTURE(gate[i]);
        if (std::isnan(ref[i]) || std::isinf(ref[i]))
            CHECK(std::memcmp(&fast[i], &ref[i], sizeof(float)) == 0);
        else
            CHECK(std::fabs(fast[i] - ref[i]) <= 3e-7 * std::fabs(ref[i]) + 1e-37);
    }
}

TEST_CASE("f16 row conversion rounds exactly like the scalar conversion") {
    auto x = random_floats(1000, 3, 100.0f);
    x.push_back(65504.0f);
    x.push_back(1e-7f);
    x.push_back(-0.0f);
    std::vector<uint16_t> fast(x.size());
    kernels::f32_to_f16_row(x.data(), x.size(), fast.data());
    for (size_t i = 0; i < x.size(); ++i) CHECK(fast[i] == f32_to_f16(x[i]));
    std::vector<float> back(x.size());
    kernels::f16_to_f32_row(fast.data(), x.size(), back.data());
    for (size_t i = 0; i < x.size(); ++i) CHECK(back[i] == f16_to_f32(fast[i]));
}

TEST_CASE("thread pool covers every index exactly once") {
    for (int threads : {1, 2, 5}) {
        ThreadPool pool(threads);
        for (size_t n : {0u, 1u, 4u, 1000u}) {
            std::vector<int> hits(n, 0), dynamic_hits(n, 0);
            pool.parallel_for(n, [&](size_t b, size_t e, int) {
                for (size_t i = b; i < e; ++i) ++hits[i];
            });
            for (int h : hits) CHECK(h == 1);
            for (size_t grain : {1u, 7u}) {
                std::fill(dynamic_hits.begin(), dynamic_hits.end(), 0);
                pool.parallel_for_dynamic(n, grain, [&](size_t b, size_t e, int) {
                    for (size_t i = b; i < e; ++i) dynamic_hits[i] += e - b <= grain || threads == 1 ? 1 : 100;
                });
                for (int h : dynamic_hits) CHECK(h == 1);
            }
        }
    }
}

namespace {

// A packed matrix (packed_quant.hpp / packed_k.hpp) of random weights, with its bytes.
struct PackedMatrix {
    std::vector<uint8_t> bytes;
    kernels::WeightMatrix w;
};

PackedMatrix random_packed(DType type, size_t rows, size_t cols, uint32_t seed) {
    const auto values = random_floats(rows * cols, seed, 0.05f);
    std::vector<uint8_t> plain(rows * kernels::row_bytes(type, cols));
    switch (type) {
        case DType::q8_0: quant::quantize_q8_0(values.data(), values.size(), reinterpret_cast<quant::BlockQ8_0*>(plain.data())); break;
        case DType::q4_0: quant::quantize_q4_0(values.data(), values.size(), reinterpret_cast<quant::BlockQ4_0*>(plain.data())); break;
        case DType::q4_k: quant::quantize_q4_k(values.data(), values.size(), reinterpret_cast<quant::BlockQ4_K*>(plain.data())); break;
        default: quant::quantize_q6_k(values.data(), values.size(), reinterpret_cast<quant::BlockQ6_K*>(plain.data())); break;
    }
    const bool k = kernels::is_k_quant(type);
    PackedMatrix m{std::vector<uint8_t>(k ? kernels::packed_k_bytes(type, rows, cols) : plain.size()), {}};
    (k ? kernels::pack_k_groups : kernels::pack_groups)(type, plain.data(), rows, cols, m.bytes.data(), 0,
                                                          kernels::group_count(rows));
    m.w = {type, m.bytes.data(), rows, cols, true};
    return m;
}

// The scalar definition of a packed product, from activations quantized by the scalar code.
std::vector<float> packed_reference(const kernels::WeightMatrix& w, const std::vector<float>& x, size_t n_tokens) {
    std::vector<float> y(n_tokens * w.rows);
    const size_t units = kernels::work_unit_count(w.rows);
    if (kernels::is_k_quant(w.type)) {
        std::vector<quant::BlockQ8_K> acts(x.size() / quant::kSuperBlock);
        quant::quantize_row_q8_k(x.data(), x.size(), acts.data());
        kernels::ref::matmul_packed_k(w.type, w.data, w.rows, w.cols, acts.data(), n_tokens, y.data(), w.rows, 0, units);
    } else {
        const size_t row = kernels::activation_row_bytes(w.cols);
        std::vector<uint8_t> acts(n_tokens * row);
        for (size_t t = 0; t < n_tokens; ++t)
            kernels::ref::quantize_activation_row(x.data() + t * w.cols, w.cols, acts.data() + t * row);
        kernels::ref::matmul_packed(w.type, w.data, w.rows, w.cols, acts.data(), n_tokens, y.data(), w.rows, 0, units);
    }
    return y;
}

}  // namespace

TEST_CASE("products sharing an input, done in one pass, equal each packed product's scalar definition") {
    const size_t cols = 512;
    std::vector<std::pair<DType, size_t>> shapes{{DType::q4_0, 40}, {DType::q8_0, 17}, {DType::q4_0, 5}, {DType::q8_0, 64}};
    if (kernels::is_packable_k(DType::q4_k))  // packed K-quants exist only on AVX-512 VNNI CPUs
        shapes.insert(shapes.begin() + 2, {{DType::q4_k, 37}, {DType::q6_k, 16}});
    std::vector<PackedMatrix> matrices;
    for (const auto& [type, rows] : shapes) matrices.push_back(random_packed(type, rows, cols, uint32_t(rows)));
    for (int threads : {1, 2, 3})
        for (size_t n_tokens : {1u, 13u}) {
            ThreadPool pool(threads);
            const auto x = random_floats(n_tokens * cols, uint32_t(n_tokens), 2.0f);
            std::vector<std::vector<float>> out;
            std::vector<kernels::Product> products;
            for (const PackedMatrix& m : matrices) out.emplace_back(n_tokens * m.w.rows, -1.0f);
            for (size_t p = 0; p < matrices.size(); ++p) products.push_back({&matrices[p].w, out[p].data()});
            kernels::MatmulInput in;
            in.reset(x.data(), n_tokens, cols);
            kernels::matmul(products, in, pool);
            for (size_t p = 0; p < matrices.size(); ++p) {
                CAPTURE(p);
                CAPTURE(threads);
                CAPTURE(n_tokens);
                CHECK(out[p] == packed_reference(matrices[p].w, x, n_tokens));
            }
        }
}
