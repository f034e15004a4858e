// The ring KV cache of a local layer gives exactly what a full cache restricted to the
// window gives, and a naive attention written out here agrees with both.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "attention.hpp"

using namespace cwm;

namespace {

struct Sequence {
    uint32_t n_head = 6, n_head_kv = 1, head_dim = 8;  // GQA ratio 6, as CWM
    uint32_t length = 40;
    std::vector<float> q;          // [length][n_head*head_dim]
    std::vector<uint16_t> k, v;    // [length][n_head_kv*head_dim]

    explicit Sequence(uint32_t seed) {
        std::mt19937 rng(seed);
        std::normal_distribution<float> d;
        q.resize(size_t(length) * n_head * head_dim);
        k.resize(size_t(length) * n_head_kv * head_dim);
        v.resize(k.size());
        for (float& x : q) x = d(rng);
        for (auto& x : k) x = f32_to_f16(d(rng));
        for (auto& x : v) x = f32_to_f16(d(rng));
    }
    size_t kv_row() const { return size_t(n_head_kv) * head_dim; }
};

// Runs the sequence through attention in batches of `batch` tokens with a cache of
// `capacity` slots, storing each batch's keys/values into the cache afterwards.
std::vector<float> run(const Sequence& s, uint32_t window, uint32_t capacity, uint32_t batch) {
    std::vector<uint16_t> cache_k(size_t(capacity) * s.kv_row()), cache_v(cache_k.size());
    std::vector<float> out(s.q.size());
    std::vector<AttentionScratch> scratch;
    ThreadPool pool(2);
    for (uint32_t pos0 = 0; pos0 < s.length; pos0 += batch) {
        const uint32_t n = std::min(batch, s.length - pos0);
        const AttentionBatch b{s.q.data() + size_t(pos0) * s.n_head * s.head_dim,
                               s.k.data() + size_t(pos0) * s.kv_row(),
                               s.v.data() + size_t(pos0) * s.kv_row(),
                               cache_k.data(), cache_v.data(), capacity, n, pos0,
                               s.n_head, s.n_head_kv, s.head_dim, window};
        attention(b, out.data() + size_t(pos0) * s.n_head * s.head_dim, scratch, pool);
        for (uint32_t t = 0; t < n; ++t) {
            const size_t slot = size_t((pos0 + t) % capacity) * s.kv_row();
            std::copy_n(s.k.data() + size_t(pos0 + t) * s.kv_row(), s.kv_row(), cache_k.data() + slot);
            std::copy_n(s.v.data() + size_t(pos0 + t) * s.kv_row(), s.kv_row(), cache_v.data() + slot);
        }
    }
    return out;
}

// Softmax attention written directly from the definition, in double precision.
std::vector<float> naive(const Sequence& s, uint32_t window) {
    std::vector<float> out(s.q.size());
    for (uint32_t p = 0; p < s.length; ++p)
        for (uint32_t h = 0; h < s.n_head; ++h) {
            const uint32_t first = window && p + 1 > window ? p + 1 - window : 0;
            std::vector<double> w;
            double max_w = -1e300, sum = 0;
            for (uint32_t j = first; j <= p; ++j) {
                double dot = 0;
                for (uint32_t d = 0; d < s.head_dim; ++d)
                    dot += double(s.q[(size_t(p) * s.n_head + h) * s.head_dim + d]) *
                           f16_to_f32(s.k[size_t(j) * s.kv_row() + d]);
                w.push_back(dot / std::sqrt(double(s.head_dim)));
                max_w = std::max(max_w, w.back());
            }
            for (double& x : w) sum += (x = std::exp(x - max_w));
            for (uint32_t d = 0; d < s.head_dim; ++d) {
                double acc = 0;
                for (uint32_t j = first; j <= p; ++j) acc += w[j - first] / sum * f16_to_f32(s.v[size_t(j) * s.kv_row() + d]);
                out[(size_t(p) * s.n_head + h) * s.head_dim + d] = float(acc);
            }
        }
    return out;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
    return m;
}

}  // namespace

TEST_CASE("ring cache of `window` slots equals a full cache restricted to the window") {
    const Sequence s(42);
    for (uint32_t window : {1u, 5u, 8u, 13u}) {
        for (uint32_t batch : {1u, 3u, 8u, 40u}) {
            CAPTURE(window);
            CAPTURE(batch);
            const auto full = run(s, window, s.length, batch);
            const auto ring = run(s, window, window, batch);
            CHECK(full == ring);
            CHECK(max_diff(ring, naive(s, window)) < 1e-5);
        }
    }
}

TEST_CASE("global attention with batches of any size equals the definition") {
    const Sequence s(7);
    for (uint32_t batch : {1u, 7u, 40u}) CHECK(max_diff(run(s, 0, s.length, batch), naive(s, 0)) < 1e-5);
}
