#include "attention.hpp"

#include <algorithm>
#include <cmath>

#include "attention_kernels.hpp"

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

template <class T>
T* grow(std::vector<T>& buffer, size_t n) {
    if (buffer.size() < n) buffer.resize(n);
    return buffer.data();
}

// A tile: the queries of heads [head0, head0 + n_heads) (all on one KV head) for tokens
// [token0, token0 + n_tokens), query i being token i / n_heads, head i % n_heads.
struct Tile {
    uint32_t kv_head, head0, n_heads, token0, n_tokens;
};

// How the queries are cut into tiles: heads_per_tile heads of a KV head times tokens_per_tile
// tokens fill the kTileQueries lanes.
struct Tiling {
    uint32_t heads_per_tile, head_chunks, tokens_per_tile, token_tiles;

    explicit Tiling(const AttentionBatch& b) {
        const uint32_t group = b.n_head / b.n_head_kv, lanes = uint32_t(kernels::kTileQueries);
        heads_per_tile = std::min(group, lanes);
        head_chunks = (group + heads_per_tile - 1) / heads_per_tile;
        tokens_per_tile = lanes / heads_per_tile;
        token_tiles = (b.n_tokens + tokens_per_tile - 1) / tokens_per_tile;
    }
    size_t n_jobs(const AttentionBatch& b) const { return size_t(token_tiles) * b.n_head_kv * head_chunks; }

    // Causal attention makes later tokens costlier, and threads take jobs in order as they
    // finish: the last token tiles come first so that the cheap ones even out the end.
    Tile tile(const AttentionBatch& b, size_t job) const {
        const size_t per_tile = size_t(b.n_head_kv) * head_chunks, slot = job / per_tile, rest = job % per_tile;
        const uint32_t tile = uint32_t(token_tiles - 1 - slot);
        const uint32_t kv_head = uint32_t(rest / head_chunks), chunk = uint32_t(rest % head_chunks);
        const uint32_t group = b.n_head / b.n_head_kv, head0 = kv_head * group + chunk * heads_per_tile;
        const uint32_t token0 = tile * tokens_per_tile;
        return {kv_head, head0, std::min(heads_per_tile, kv_head * group + group - head0), token0,
                std::min(tokens_per_tile, b.n_tokens - token0)};
    }
};

void attend_tile(const AttentionBatch& b, const Tile& tile, float* out, AttentionScratch& scratch) {
    constexpr size_t L = kernels::kTileQueries;
    const uint32_t first = visible_range(b, b.pos0 + tile.token0).first;
    const uint32_t last = b.pos0 + tile.token0 + tile.n_tokens - 1;
    const size_t n_keys = last - first + 1, n_q = size_t(tile.n_heads) * tile.n_tokens;
    const uint16_t** keys = grow(scratch.keys, n_keys);
    const uint16_t** values = grow(scratch.values, n_keys);
    for (uint32_t j = 0; j < n_keys; ++j) {
        keys[j] = row_at(b, b.k, b.cache_k, first + j, tile.kv_head);
        values[j] = row_at(b, b.v, b.cache_v, first + j, tile.kv_head);
    }
    const float* queries[L];
    float* outputs[L];
    for (size_t i = 0; i < n_q; ++i) {
        const size_t row = (size_t(tile.token0) + i / tile.n_heads) * b.n_head + tile.head0 + i % tile.n_heads;
        queries[i] = b.q + row * b.head_dim;
        outputs[i] = out + row * b.head_dim;
    }
    float* qt = grow(scratch.queries, size_t(b.head_dim) * L);
    float* s = grow(scratch.scores, n_keys * L);
    kernels::transpose_queries(queries, n_q, b.head_dim, qt);
    kernels::tile_scores(qt, keys, n_keys, b.head_dim, s);
    uint32_t lo[L], hi[L];  // each query's visible keys, as indices into the tile's
    for (size_t i = 0; i < n_q; ++i) {
        const Visible range = visible_range(b, b.pos0 + tile.token0 + uint32_t(i / tile.n_heads));
        lo[i] = range.first - first;
        hi[i] = range.last - first;
    }
    kernels::tile_softmax(s, n_q, n_keys, lo, hi, 1.0f / std::sqrt(float(b.head_dim)));
    kernels::tile_weighted_values(s, n_q, values, n_keys, b.head_dim, outputs);
}

}  // namespace

void attention(const AttentionBatch& b, float* out, std::vector<AttentionScratch>& scratch, ThreadPool& pool) {
    scratch.resize(size_t(pool.n_threads()));
    const Tiling tiling(b);
    constexpr size_t kGrain = 4;  // jobs per chunk: a tile's job is tens of microseconds or more
    pool.parallel_for_dynamic(tiling.n_jobs(b), kGrain, [&](size_t begin, size_t end, int thread) {
        for (size_t job = begin; job < end; ++job) attend_tile(b, tiling.tile(b, job), out, scratch[size_t(thread)]);
    });
}

}  // namespace cwm
