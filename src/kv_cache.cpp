#include "kv_cache.hpp"

#include <algorithm>

namespace cwm {

KvCache::KvCache(const ModelConfig& config, uint32_t n_ctx)
    : n_ctx_(n_ctx), row_(size_t(config.n_head_kv) * config.head_dim), layers_(config.n_layer) {
    for (uint32_t i = 0; i < config.n_layer; ++i) {
        Layer& l = layers_[i];
        l.capacity = config.layer_is_local[i] ? std::min(config.window, n_ctx) : n_ctx;
        l.keys.reset(new uint16_t[size_t(l.capacity) * row_]);
        l.values.reset(new uint16_t[size_t(l.capacity) * row_]);
    }
}

size_t KvCache::bytes() const {
    size_t total = 0;
    for (const Layer& l : layers_) total += 2 * size_t(l.capacity) * row_ * sizeof(uint16_t);
    return total;
}

}  // namespace cwm
