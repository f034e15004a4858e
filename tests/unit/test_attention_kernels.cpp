// The attention tile kernels: every instruction set this CPU has gives the scalar reference's
// bits, for head dimensions that are and are not whole vectors and for any number of keys and
// queries.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "attention_kernels.hpp"
#include "attention_kernels_avx2.hpp"
#include "attention_kernels_avx512.hpp"
#include "cpu.hpp"
#include "dtype.hpp"

using namespace cwm;
using kernels::kTileQueries;

namespace {

struct Rows {
    std::vector<uint16_t> data;
    std::vector<const uint16_t*> ptrs;  // in reverse order: rows need not be contiguous or ascending
    Rows(size_t n, size_t dim, std::mt19937& rng) : data(n * dim), ptrs(n) {
        std::normal_distribution<float> d;
        for (auto& x : data) x = f32_to_f16(d(rng));
        for (size_t j = 0; j < n; ++j) ptrs[j] = data.data() + (n - 1 - j) * dim;
    }
};

std::vector<float> random_floats(size_t n, std::mt19937& rng) {
    std::normal_distribution<float> d;
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

using Scores = void (*)(const float*, const uint16_t* const*, size_t, size_t, float*);
using Values = void (*)(const float*, size_t, const uint16_t* const*, size_t, size_t, float* const*);

void check_same_as_reference(Scores scores, Values values, size_t dim) {
    std::mt19937 rng{uint32_t(dim)};
    for (size_t n_keys : {1, 3, 8, 9, 37}) {
        for (size_t n_q : {1, 4, 5, 16}) {
            CAPTURE(dim);
            CAPTURE(n_keys);
            CAPTURE(n_q);
            const Rows keys(n_keys, dim, rng), vals(n_keys, dim, rng);
            const std::vector<float> q = random_floats(n_q * dim, rng);
            std::vector<const float*> q_rows(n_q);
            for (size_t i = 0; i < n_q; ++i) q_rows[i] = q.data() + i * dim;
            std::vector<float> qt(dim * kTileQueries), fast(n_keys * kTileQueries), ref(fast.size());
            kernels::transpose_queries(q_rows.data(), n_q, dim, qt.data());
            scores(qt.data(), keys.ptrs.data(), n_keys, dim, fast.data());
            kernels::ref::tile_scores(qt.data(), keys.ptrs.data(), n_keys, dim, ref.data());
            CHECK(fast == ref);

            const std::vector<float> w = random_floats(n_keys * kTileQueries, rng);
            std::vector<float> out_fast(n_q * dim), out_ref(n_q * dim);
            std::vector<float*> fast_rows(n_q), ref_rows(n_q);
            for (size_t i = 0; i < n_q; ++i) fast_rows[i] = out_fast.data() + i * dim, ref_rows[i] = out_ref.data() + i * dim;
            values(w.data(), n_q, vals.ptrs.data(), n_keys, dim, fast_rows.data());
            kernels::ref::tile_weighted_values(w.data(), n_q, vals.ptrs.data(), n_keys, dim, ref_rows.data());
            CHECK(out_fast == out_ref);
        }
    }
}

}  // namespace

TEST_CASE("attention tile kernels give the reference's bits") {
    for (size_t dim : {8, 16, 24, 64, 80, 128}) {
        check_same_as_reference(kernels::tile_scores, kernels::tile_weighted_values, dim);
        if (kernels::cpu_has_avx512() && kernels::avx512::tile_kernels_support(dim))
            check_same_as_reference(kernels::avx512::tile_scores, kernels::avx512::tile_weighted_values, dim);
        if (kernels::cpu_has_avx2() && kernels::avx2::tile_kernels_support(dim))
            check_same_as_reference(kernels::avx2::tile_scores, kernels::avx2::tile_weighted_values, dim);
    }
}

TEST_CASE("tile scores are dot products") {
    std::mt19937 rng(5);
    const size_t dim = 64, n_keys = 5;
    const Rows keys(n_keys, dim, rng);
    const std::vector<float> q = random_floats(dim, rng);
    const float* q_row = q.data();
    std::vector<float> qt(dim * kTileQueries), s(n_keys * kTileQueries);
    kernels::transpose_queries(&q_row, 1, dim, qt.data());
    kernels::tile_scores(qt.data(), keys.ptrs.data(), n_keys, dim, s.data());
    for (size_t j = 0; j < n_keys; ++j) {
        double dot = 0;
        for (size_t d = 0; d < dim; ++d) dot += double(q[d]) * f16_to_f32(keys.ptrs[j][d]);
        CHECK(s[j * kTileQueries] == doctest::Approx(dot).epsilon(1e-5));
        CHECK(s[j * kTileQueries + 1] == 0.0f);  // an empty lane
    }
}

TEST_CASE("tile softmax agrees with the reference and is zero outside each lane's keys") {
    std::mt19937 rng(9);
    const size_t n_keys = 40;
    for (size_t n_q : {1, 7, 16}) {
        CAPTURE(n_q);
        std::vector<uint32_t> lo(n_q), hi(n_q);
        for (size_t i = 0; i < n_q; ++i) lo[i] = uint32_t(i), hi[i] = uint32_t(n_keys - 1 - i % 5);
        const std::vector<float> s = random_floats(n_keys * kTileQueries, rng);
        std::vector<float> fast = s, ref = s;
        kernels::tile_softmax(fast.data(), n_q, n_keys, lo.data(), hi.data(), 3.0f);
        kernels::ref::tile_softmax(ref.data(), n_q, n_keys, lo.data(), hi.data(), 3.0f);
        for (size_t i = 0; i < n_q; ++i) {
            double sum = 0;
            for (size_t j = 0; j < n_keys; ++j) {
                const float w = fast[j * kTileQueries + i];
                CHECK(w == doctest::Approx(ref[j * kTileQueries + i]).epsilon(1e-6));
                if (j < lo[i] || j > hi[i]) CHECK(w == 0.0f);
                sum += w;
            }
            CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
        }
    }
}
