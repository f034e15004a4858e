#include "attention.hpp"

#include <algorithm>
#include <cmath>

namespace cwm {

namespace {

struct Visible {
    uint32_t first, last;  // inclusive range of positions a token attends to
};

Visible visible_range(const AttentionBatch& b, uint32_t pos) {
    const uint32_t first = (b.window && pos + 1 > b.window) ? pos + 1 - b.window : 0;
    return {first, pos};
}

const uint16_t* row_at(const AttentionBatch& b, const uint16_t* batch, const uint16_t* cache, uint32_t pos,
                       uint32_t kv_head) {
    const size_t row = size_t(b.n_head_kv) * b.head_dim, offset = size_t(kv_head) * b.head_dim;
    if (pos >= b.pos0) return batch + size_t(pos - b.pos0) * row + offset;
    return cache + size_t(pos % b.capacity) * row + offset;
}

void attend_one(const AttentionBatch& b, uint32_t t, uint32_t head, float* out, std::vector<float>& scores) {
    const uint32_t pos = b.pos0 + t, kv_head = head / (b.n_head / b.n_head_kv);
    const Visible range = visible_range(b, pos);
    const float* q = b.q + (size_t(t) * b.n_head + head) * b.head_dim;
    const float scale = 1.0f / std::sqrt(float(b.head_dim));
    const uint32_t n = range.last - range.first + 1;
    scores.resize(std::max<size_t>(scores.size(), n));
    float max_score = -INFINITY;
    for (uint32_t i = 0; i < n; ++i) {
        const uint16_t* k = row_at(b, b.k, b.cache_k, range.first + i, kv_head);
        scores[i] = kernels::dot_f32_f16(q, k, b.head_dim) * scale;
        max_score = std::max(max_score, scores[i]);
    }
    double sum = 0.0;
    for (uint32_t i = 0; i < n; ++i) {
        scores[i] = std::exp(scores[i] - max_score);
        sum += scores[i];
    }
    std::fill(out, out + b.head_dim, 0.0f);
    const float inv_sum = float(1.0 / sum);
    for (uint32_t i = 0; i < n; ++i) {
        const uint16_t* v = row_at(b, b.v, b.cache_v, range.first + i, kv_head);
        kernels::axpy_f16(scores[i] * inv_sum, v, b.head_dim, out);
    }
}

}  // namespace

void attention(const AttentionBatch& b, float* out, std::vector<std::vector<float>>& scratch, ThreadPool& pool) {
    scratch.resize(size_t(pool.n_threads()));
    const size_t n_jobs = size_t(b.n_tokens) * b.n_head;
    pool.parallel_for(n_jobs, [&](size_t begin, size_t end, int thread) {
        for (size_t job = begin; job < end; ++job) {
            const uint32_t t = uint32_t(job / b.n_head), head = uint32_t(job % b.n_head);
            attend_one(b, t, head, out + (size_t(t) * b.n_head + head) * b.head_dim, scratch[size_t(thread)]);
        }
    });
}

}  // namespace cwm
