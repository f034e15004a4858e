// Kernels for a tile of attention queries that share one KV head (grouped-query heads, and a
// few consecutive tokens), so that every f16 key and value row is read and widened once for
// the whole tile instead of once per query.
//
// Scores and weights are kept "queries in lanes": s[j * kTileQueries + i] is query i's value
// for key j. Every output is one chain of fused multiply-adds in a fixed order (over the head
// dimension for scores, over the keys for weighted values, as the scalar references spell
// out), so the AVX-512, AVX2 and scalar versions give identical bits, and a query's result does
// not depend on which other queries share its tile: prefill equals token-by-token decode. The
// softmax between them works lane by lane too (its e^x differs by instruction set).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cwm::kernels {

constexpr size_t kTileQueries = 16;

// qt[d * kTileQueries + i] = q[i][d] for i < n_q; the other lanes are zero.
void transpose_queries(const float* const* q, size_t n_q, size_t dim, float* qt);

// s[j * kTileQueries + i] = sum over d of qt[d * kTileQueries + i] * f16(keys[j][d]), for every
// lane i and key j < n_keys.
void tile_scores(const float* qt, const uint16_t* const* keys, size_t n_keys, size_t dim, float* s);

// out[i][d] = sum over j of w[j * kTileQueries + i] * f16(values[j][d]), for i < n_q.
void tile_weighted_values(const float* w, size_t n_q, const uint16_t* const* values, size_t n_keys, size_t dim,
                          float* const* out);

// Turns the scores of each lane i < n_q over keys [lo[i], hi[i]] into softmax weights:
// s = e^(scale * s - m) / sum, m the lane's largest scaled score, the sum taken in double; the
// lane's other keys get 0. The AVX-512 version's e^x is a polynomial within 2 ulp (exp_avx512.hpp).
void tile_softmax(float* s, size_t n_q, size_t n_keys, const uint32_t* lo, const uint32_t* hi, float scale);

namespace ref {
void tile_softmax(float* s, size_t n_q, size_t n_keys, const uint32_t* lo, const uint32_t* hi, float scale);
void tile_scores(const float* qt, const uint16_t* const* keys, size_t n_keys, size_t dim, float* s);
void tile_weighted_values(const float* w, size_t n_q, const uint16_t* const* values, size_t n_keys, size_t dim,
                          float* const* out);
}  // namespace ref

}  // namespace cwm::kernels
