#include "kv_cache.hpp"

#include <algorithm>

namespace cwm {

KvCache::KvCache(const ModelConfig& config, uint32_t n_ctx, uint32_t slack)
    : n_ctx_(n_ctx), window_(config.window), row_(size_t(config.n_head_kv) * config.head_dim), layers_(config.n_layer) {
    for (uint32_t i = 0; i < config.n_layer; ++i) {
        Layer& l = layers_[i];
        l.capacity = config.layer_is_local[i] ? uint32_t(std::min<uint64_t>(uint64_t(config.window) + slack, n_ctx)) : n_ctx;
        l.keys.reset(new uint16_t[size_t(l.capacity) * row_]);
        l.values.reset(new uint16_t[size_t(l.capacity) * row_]);
    }
}

uint32_t KvCache::max_rewind(uint32_t n_past) const {
    uint32_t limit = n_past;
    // Ring l holds positions [n_past - capacity, n_past); going back to n, the next token
    // needs [n + 1 - window, n), so n_past - n <= capacity + 1 - window.
    for (const Layer& l : layers_)
        if (l.capacity < n_ctx_ && n_past > l.capacity) limit = std::min(limit, l.capacity + 1 - window_);
    return limit;
}

size_t KvCache::bytes() const {
    size_t total = 0;
    for (const Layer& l : layers_) total += 2 * size_t(l.capacity) * row_ * sizeof(uint16_t);
    return total;
}

}  // namespace cwm
