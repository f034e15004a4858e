// The tile kernels of attention_kernels.hpp written once over a vector type, for the AVX-512 and
// AVX2 translation units. `V` provides: F (a vector of V::kLanes floats), zero(), load(const
// float*), store(float*, F), set1(float), load_f16(const uint16_t*) (kLanes halves widened),
// fmadd(a, b, c) = a * b + c rounded once, and, sized to what the registers hold, kScoreKeys
// (keys per pass of tile_scores) and kValueQueries (queries per pass of tile_weighted_values).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "attention_kernels.hpp"

namespace cwm::kernels::simd {

// The SIMD kernels need whole vectors of the head dimension; callers fall back to the
// (bit-identical) scalar reference otherwise.
template <class V>
bool supports(size_t dim) {
    return dim % V::kLanes == 0;
}

// Scores of K keys against all tile lanes, the keys widened kChunk dimensions at a time into a
// small buffer from which each element is broadcast.
template <class V, int K>
void scores_of_keys(const float* qt, const uint16_t* const* keys, size_t dim, float* s) {
    constexpr int L = int(kTileQueries / V::kLanes);
    constexpr size_t kChunk = 64;
    using F = typename V::F;
    F acc[K][L];
    for (int k = 0; k < K; ++k)
        for (int l = 0; l < L; ++l) acc[k][l] = V::zero();
    alignas(64) float widened[K][kChunk];
    for (size_t d0 = 0; d0 < dim; d0 += kChunk) {
        const size_t len = std::min(kChunk, dim - d0);
        for (int k = 0; k < K; ++k)
            for (size_t d = 0; d < len; d += V::kLanes) V::store(widened[k] + d, V::load_f16(keys[k] + d0 + d));
        for (size_t d = 0; d < len; ++d) {
            const float* q = qt + (d0 + d) * kTileQueries;
            F qv[L];
            for (int l = 0; l < L; ++l) qv[l] = V::load(q + l * V::kLanes);
            for (int k = 0; k < K; ++k) {
                const F kd = V::set1(widened[k][d]);
                for (int l = 0; l < L; ++l) acc[k][l] = V::fmadd(qv[l], kd, acc[k][l]);
            }
        }
    }
    for (int k = 0; k < K; ++k)
        for (int l = 0; l < L; ++l) V::store(s + k * kTileQueries + l * V::kLanes, acc[k][l]);
}

template <class V>
void tile_scores(const float* qt, const uint16_t* const* keys, size_t n_keys, size_t dim, float* s) {
    constexpr int K = V::kScoreKeys;
    size_t j = 0;
    for (; j + K <= n_keys; j += K) scores_of_keys<V, K>(qt, keys + j, dim, s + j * kTileQueries);
    for (; j < n_keys; ++j) scores_of_keys<V, 1>(qt, keys + j, dim, s + j * kTileQueries);
}

// Weighted sum of values for G queries over B vectors of the head dimension starting at d0.
template <class V, int G, int B>
void weighted_values_block(const float* w, const uint16_t* const* values, size_t n_keys, size_t d0,
                           float* const* out) {
    using F = typename V::F;
    F acc[G][B];
    for (int g = 0; g < G; ++g)
        for (int b = 0; b < B; ++b) acc[g][b] = V::zero();
    for (size_t j = 0; j < n_keys; ++j) {
        F v[B];
        for (int b = 0; b < B; ++b) v[b] = V::load_f16(values[j] + d0 + b * V::kLanes);
        for (int g = 0; g < G; ++g) {
            const F a = V::set1(w[j * kTileQueries + g]);
            for (int b = 0; b < B; ++b) acc[g][b] = V::fmadd(a, v[b], acc[g][b]);
        }
    }
    for (int g = 0; g < G; ++g)
        for (int b = 0; b < B; ++b) V::store(out[g] + d0 + b * V::kLanes, acc[g][b]);
}

template <class V, int G>
void weighted_values_queries(const float* w, const uint16_t* const* values, size_t n_keys, size_t dim,
                             float* const* out) {
    constexpr int B = 4;  // vectors of the head dimension per pass
    size_t d0 = 0;
    for (; d0 + B * V::kLanes <= dim; d0 += B * V::kLanes) weighted_values_block<V, G, B>(w, values, n_keys, d0, out);
    for (; d0 < dim; d0 += V::kLanes) weighted_values_block<V, G, 1>(w, values, n_keys, d0, out);
}

template <class V>
void tile_weighted_values(const float* w, size_t n_q, const uint16_t* const* values, size_t n_keys, size_t dim,
                          float* const* out) {
    constexpr size_t G = V::kValueQueries;
    size_t i = 0;
    for (; i + G <= n_q; i += G) weighted_values_queries<V, G>(w + i, values, n_keys, dim, out + i);
    for (; i < n_q; ++i) weighted_values_queries<V, 1>(w + i, values, n_keys, dim, out + i);
}

}  // namespace cwm::kernels::simd
