// The loop order the packed AVX-512 products (packed_quant_avx512.cpp, packed_k_avx512.cpp)
// share: tokens in blocks of kTokenBlock, whose activations stay in cache while every group
// of the call passes over them, and within a block tiles of up to kTile tokens that share each
// loaded weight register. Register tiles are templates on their token count, so a tile's
// size is turned into a compile-time constant here.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace cwm::kernels {

constexpr int kTile = 8;            // tokens per register tile
constexpr size_t kTokenBlock = 64;  // tokens whose activations stay in cache across groups

// Calls f(std::integral_constant<int, n>{}) for 1 <= n <= N.
template <int N, class F>
inline void with_tile_size(int n, F&& f) {
    if constexpr (N == 1) {
        f(std::integral_constant<int, 1>{});
    } else {
        if (n >= N) return f(std::integral_constant<int, N>{});
        with_tile_size<N - 1>(n, f);
    }
}

// Calls tile(group, first_token, n_tokens_in_tile) for every group of [group_begin, group_end)
// and every tile of tokens, in the order above.
template <class Tile>
inline void for_each_tile(size_t n_tokens, size_t group_begin, size_t group_end, Tile&& tile) {
    for (size_t tb = 0; tb < n_tokens; tb += kTokenBlock) {
        const size_t tb_end = std::min(n_tokens, tb + kTokenBlock);
        for (size_t g = group_begin; g < group_end; ++g)
            for (size_t t0 = tb; t0 < tb_end; t0 += kTile) tile(g, t0, int(std::min<size_t>(kTile, tb_end - t0)));
    }
}

}  // namespace cwm::kernels
