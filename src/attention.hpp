// Causal grouped-query attention over the KV cache plus the keys/values of the batch being
// evaluated, aware of sliding windows. Memory per (token, head) is one score per visible
// position: no n_ctx x n_ctx matrix is ever built.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels.hpp"

namespace cwm {

struct AttentionBatch {
    const float* q;               // [n_tokens][n_head * head_dim], RoPE applied
    const uint16_t* k;            // [n_tokens][n_head_kv * head_dim] f16, this batch
    const uint16_t* v;            // same layout
    const uint16_t* cache_k;      // ring of `capacity` positions before the batch
    const uint16_t* cache_v;
    uint32_t capacity;            // slots in the cache ring (position p lives in slot p % capacity)
    uint32_t n_tokens;
    uint32_t pos0;                // position of the batch's first token
    uint32_t n_head, n_head_kv, head_dim;
    uint32_t window;              // 0: global (all earlier positions); else a token sees `window` positions
};

// Buffers of one thread, kept between calls.
struct AttentionScratch {
    std::vector<float> queries, scores;
    std::vector<const uint16_t*> keys, values;
};

// out: [n_tokens][n_head * head_dim]. `scratch` gets one entry per pool thread.
void attention(const AttentionBatch& b, float* out, std::vector<AttentionScratch>& scratch, ThreadPool& pool);

}  // namespace cwm
