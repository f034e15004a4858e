// Key/value cache of one sequence, stored as IEEE half (as llama.cpp does by default).
//
// A global layer keeps one slot per position of the context. A local (sliding-window) layer
// keeps a ring of `window + slack` slots: position p lives in slot p % capacity, so its memory
// never grows past that however long the context is. The slack keeps the `slack` positions
// before the window too, so that the sequence can be cut back by up to `slack` tokens (a
// cancelled batch, a debugger stepping back) without losing keys the window still needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "model_config.hpp"

namespace cwm {

class KvCache {
public:
    KvCache(const ModelConfig& config, uint32_t n_ctx, uint32_t slack = 0);

    uint32_t n_ctx() const { return n_ctx_; }
    uint32_t capacity(uint32_t layer) const { return layers_[layer].capacity; }
    uint32_t n_layer() const { return uint32_t(layers_.size()); }
    // How many tokens a sequence of n_past can be cut back by with every layer still holding
    // the keys its window needs (all of them when no ring wraps).
    uint32_t max_rewind(uint32_t n_past) const;
    size_t row_size() const { return row_; }  // halves per position: n_head_kv * head_dim

    uint16_t* key(uint32_t layer, uint32_t pos) { return slot(layers_[layer].keys, layer, pos); }
    uint16_t* value(uint32_t layer, uint32_t pos) { return slot(layers_[layer].values, layer, pos); }
    const uint16_t* key(uint32_t layer, uint32_t pos) const { return slot(layers_[layer].keys, layer, pos); }
    const uint16_t* value(uint32_t layer, uint32_t pos) const { return slot(layers_[layer].values, layer, pos); }

    size_t bytes() const;  // memory reserved for keys and values

private:
    struct Layer {
        uint32_t capacity = 0;
        // Not value-initialised: pages are only touched once positions are written.
        std::unique_ptr<uint16_t[]> keys, values;
    };
    uint16_t* slot(const std::unique_ptr<uint16_t[]>& data, uint32_t layer, uint32_t pos) const {
        return data.get() + size_t(pos % layers_[layer].capacity) * row_;
    }

    uint32_t n_ctx_;
    uint32_t window_;
    size_t row_;
    std::vector<Layer> layers_;
};

}  // namespace cwm
