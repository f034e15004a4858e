// Compute kernels used by the model graph. Every function here has a plain scalar version in
// namespace cwm::kernels::ref that the fast (runtime-dispatched) version is tested against.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtype.hpp"
#include "thread_pool.hpp"

namespace cwm::kernels {

// A weight matrix: `rows` output features of `cols` elements of `type` (f32, f16, bf16, or
// blocks of q8_0 / q4_0 / q4_k / q6_k). Stored row-major as in a model file, or, when `packed`,
// in the interleaved layout of packed_quant.hpp (q8_0 / q4_0) or packed_k.hpp (q4_k / q6_k).
struct WeightMatrix {
    DType type = DType::f32;
    const void* data = nullptr;
    size_t rows = 0;
    size_t cols = 0;
    bool packed = false;
};

bool is_supported_weight_type(DType type);
// Q4_K / Q6_K (quant_k.hpp): multiplied as llama.cpp does, with activations quantized to Q8_K.
bool is_k_quant(DType type);
// Bytes of one row of `cols` elements (cols a multiple of the type's block size).
size_t row_bytes(DType type, size_t cols);

// y[t * rows + r] = sum_c W[r][c] * x[t * cols + c] for t < n_tokens.
// The activations x are rounded the way llama.cpp's CPU backend rounds them for the same
// weights, so the same file gives the same numbers in both engines (docs/design.md,
// "Numerics"): to f16 for f16 weights, to int8 Q8_0 blocks for packed q8_0 / q4_0 weights
// (packed_quant.hpp), to Q8_K blocks for q4_k / q6_k. Unpacked q8_0 / q4_0 weights multiply
// f32 activations.
// Every output depends only on its row and token: not on n_tokens nor the thread count.
void matmul(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, ThreadPool& pool);

// Converts `n` elements of a f32/f16/bf16 row to f32.
void row_to_f32(DType type, const void* row, size_t n, float* out);

// out = x / sqrt(mean(x^2) + eps) * weight
void rms_norm(const float* x, const float* weight, size_t n, float eps, float* out);

// gate[i] = silu(gate[i]) * up[i]
void silu_mul(float* gate, const float* up, size_t n);

// Rounds `n` floats to IEEE half (storage for the KV cache) and back.
void f32_to_f16_row(const float* x, size_t n, uint16_t* out);
void f16_to_f32_row(const uint16_t* x, size_t n, float* out);

// sum_i q[i] * f16(k[i])
float dot_f32_f16(const float* q, const uint16_t* k, size_t n);
// out[i] += a * f16(v[i])
void axpy_f16(float a, const uint16_t* v, size_t n, float* out);

// out[i] = f32(f16(x[i])): round-to-nearest-even through IEEE half.
void round_to_f16(const float* x, size_t n, float* out);

// Which instruction set the dispatched kernels use on this machine ("avx512" or "scalar").
const char* active_isa();

namespace ref {
void round_to_f16(const float* x, size_t n, float* out);
void row_to_f32(DType type, const void* row, size_t n, float* out);
float dot_row(DType type, const void* row, const float* x, size_t n);
void matmul(const WeightMatrix& w, const float* x, size_t n_tokens, float* y);
void rms_norm(const float* x, const float* weight, size_t n, float eps, float* out);
void silu_mul(float* gate, const float* up, size_t n);
float dot_f32_f16(const float* q, const uint16_t* k, size_t n);
void axpy_f16(float a, const uint16_t* v, size_t n, float* out);
}  // namespace ref

}  // namespace cwm::kernels
