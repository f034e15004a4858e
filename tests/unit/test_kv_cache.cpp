// KV-cache sizing: local layers keep a ring of `window` slots however long the context.
#include <doctest/doctest.h>

#include "kv_cache.hpp"

using namespace cwm;

TEST_CASE("local layers of a 131072-token context keep only their window") {
    ModelConfig c;
    c.n_layer = 8;
    c.n_head_kv = 2;
    c.head_dim = 16;
    c.window = 512;
    c.layer_is_local = cwm_default_local_layers(c.n_layer);  // G L L L G L L G
    const uint32_t n_ctx = 131072;
    const KvCache cache(c, n_ctx);
    size_t expected = 0;
    for (uint32_t i = 0; i < c.n_layer; ++i) {
        CHECK(cache.capacity(i) == (c.layer_is_local[i] ? c.window : n_ctx));
        expected += size_t(cache.capacity(i)) * 2 * c.n_head_kv * c.head_dim * sizeof(uint16_t);
    }
    CHECK(cache.bytes() == expected);
    // 3 global layers at full length, 5 local ones at 512 positions.
    CHECK(cache.bytes() == (3ull * n_ctx + 5ull * 512) * 2 * 2 * 16 * 2);
}

TEST_CASE("ring slots wrap at the window and global slots never do") {
    ModelConfig c;
    c.n_layer = 2;
    c.n_head_kv = 1;
    c.head_dim = 4;
    c.window = 3;
    c.layer_is_local = {true, false};
    KvCache cache(c, 10);
    CHECK(cache.key(0, 0) == cache.key(0, 3));
    CHECK(cache.key(0, 1) != cache.key(0, 3));
    CHECK(cache.key(1, 0) != cache.key(1, 3));
    CHECK(cache.key(1, 9) - cache.key(1, 0) == 9 * 4);
}

TEST_CASE("CWM's documented layer pattern: 17 global layers out of 64") {
    const auto local = cwm_default_local_layers(64);
    int global = 0;
    for (uint32_t i = 0; i < 64; ++i) global += local[i] ? 0 : 1;
    CHECK(global == 17);
    CHECK_FALSE(local[0]);
    CHECK_FALSE(local[63]);
    CHECK(local[62]);
    CHECK_FALSE(local[60]);
}
