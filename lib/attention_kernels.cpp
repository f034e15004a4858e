// Dispatch and scalar references of the attention tile kernels.
#include <algorithm>
#include <cmath>

#include "attention_kernels.hpp"
#include "attention_kernels_avx2.hpp"
#include "attention_kernels_avx512.hpp"
#include "cpu.hpp"
#include "dtype.hpp"

namespace cwm::kernels {

void transpose_queries(const float* const* q, size_t n_q, size_t dim, float* qt) {
    for (size_t d = 0; d < dim; ++d)
        for (size_t i = 0; i < kTileQueries; ++i) qt[d * kTileQueries + i] = i < n_q ? q[i][d] : 0.0f;
}

void tile_scores(const float* qt, const uint16_t* const* keys, size_t n_keys, size_t dim, float* s) {
    if (cpu_has_avx512() && avx512::tile_kernels_support(dim)) return avx512::tile_scores(qt, keys, n_keys, dim, s);
    if (cpu_has_avx2() && avx2::tile_kernels_support(dim)) return avx2::tile_scores(qt, keys, n_keys, dim, s);
    ref::tile_scores(qt, keys, n_keys, dim, s);
}

void tile_weighted_values(const float* w, size_t n_q, const uint16_t* const* values, size_t n_keys, size_t dim,
                          float* const* out) {
    if (cpu_has_avx512() && avx512::tile_kernels_support(dim))
        return avx512::tile_weighted_values(w, n_q, values, n_keys, dim, out);
    if (cpu_has_avx2() && avx2::tile_kernels_support(dim))
        return avx2::tile_weighted_values(w, n_q, values, n_keys, dim, out);
    ref::tile_weighted_values(w, n_q, values, n_keys, dim, out);
}

void tile_softmax(float* s, size_t n_q, size_t n_keys, const uint32_t* lo, const uint32_t* hi, float scale) {
    if (cpu_has_avx512()) return avx512::tile_softmax(s, n_q, n_keys, lo, hi, scale);
    ref::tile_softmax(s, n_q, n_keys, lo, hi, scale);
}

namespace ref {

void tile_softmax(float* s, size_t n_q, size_t n_keys, const uint32_t* lo, const uint32_t* hi, float scale) {
    constexpr size_t L = kTileQueries;
    for (size_t i = 0; i < n_q; ++i) {
        float max_score = -INFINITY;
        for (size_t j = lo[i]; j <= hi[i]; ++j) max_score = std::max(max_score, s[j * L + i] * scale);
        double sum = 0.0;
        for (size_t j = lo[i]; j <= hi[i]; ++j) {
            s[j * L + i] = std::exp(s[j * L + i] * scale - max_score);
            sum += s[j * L + i];
        }
        const float inv_sum = float(1.0 / sum);
        for (size_t j = 0; j < n_keys; ++j) s[j * L + i] = (j >= lo[i] && j <= hi[i]) ? s[j * L + i] * inv_sum : 0.0f;
    }
}

void tile_scores(const float* qt, const uint16_t* const* keys, size_t n_keys, size_t dim, float* s) {
    for (size_t j = 0; j < n_keys; ++j)
        for (size_t i = 0; i < kTileQueries; ++i) {
            float acc = 0.0f;
            for (size_t d = 0; d < dim; ++d) acc = std::fma(qt[d * kTileQueries + i], f16_to_f32(keys[j][d]), acc);
            s[j * kTileQueries + i] = acc;
        }
}

void tile_weighted_values(const float* w, size_t n_q, const uint16_t* const* values, size_t n_keys, size_t dim,
                          float* const* out) {
    for (size_t i = 0; i < n_q; ++i)
        for (size_t d = 0; d < dim; ++d) {
            float acc = 0.0f;
            for (size_t j = 0; j < n_keys; ++j) acc = std::fma(w[j * kTileQueries + i], f16_to_f32(values[j][d]), acc);
            out[i][d] = acc;
        }
}

}  // namespace ref
}  // namespace cwm::kernels
