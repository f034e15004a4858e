// AVX-512 attention tile kernels; call only when the CPU reports AVX-512F (attention_kernels.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cwm::kernels::avx512 {

bool tile_kernels_support(size_t dim);  // else use the scalar reference
void tile_softmax(float* s, size_t n_q, size_t n_keys, const uint32_t* lo, const uint32_t* hi, float scale);
void tile_scores(const float* qt, const uint16_t* const* keys, size_t n_keys, size_t dim, float* s);
void tile_weighted_values(const float* w, size_t n_q, const uint16_t* const* values, size_t n_keys, size_t dim,
                          float* const* out);

}  // namespace cwm::kernels::avx512
