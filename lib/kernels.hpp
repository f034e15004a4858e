// Compute kernels used by the model graph. Every function here has a plain scalar version in
// namespace cwm::kernels::ref that the fast (runtime-dispatched) version is tested against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

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

// The input of one or more products: n_tokens rows of cols floats, plus each rounded form of it
// that a weight type multiplies (see matmul above), made on first use and reused by every
// matrix that shares the input (wq/wk/wv, w_gate/w_up). Buffers only grow, so an owner that
// keeps one (a context) allocates nothing per product once warmed up.
class MatmulInput {
public:
    // Takes a new input (not copied: x must outlive its use) and forgets the rounded forms.
    void reset(const float* x, size_t n_tokens, size_t cols);
    const float* x() const { return x_; }
    size_t n_tokens() const { return n_tokens_; }
    size_t cols() const { return cols_; }

    // Q8_0-style activation rows of packed_quant.hpp, activation_row_bytes(cols) per token.
    const uint8_t* q8_0_rows(ThreadPool& pool);
    // Q8_K blocks (quant_k.hpp), cols / 256 blocks per token.
    const uint8_t* q8_k_rows(ThreadPool& pool);
    // x rounded to f16 and back (the input of f16 weights).
    const float* f16_rounded(ThreadPool& pool);
    // Scratch for widening weight blocks to f32 before sgemm.
    float* weight_block(size_t n);

private:
    const float* x_ = nullptr;
    size_t n_tokens_ = 0, cols_ = 0;
    bool have_q8_0_ = false, have_q8_k_ = false, have_f16_ = false;
    std::vector<uint8_t> q8_0_, q8_k_;
    std::vector<float> f16_, weight_block_;
};

// The same product from a shared input.
void matmul(const WeightMatrix& w, MatmulInput& in, float* y, ThreadPool& pool);

// One product of a batch that shares its input: y = w x, y holding n_tokens rows of w.rows.
struct Product {
    const WeightMatrix* w;
    float* y;
};

// Every product of `products` from the same input, with the same results as calling matmul on
// each. When all the matrices are packed, the threads share out the row groups of all of them in
// one parallel pass: decode then waits for the slowest thread once (wq/wk/wv, w_gate/w_up)
// instead of once per matrix, and no thread idles between them.
void matmul(std::span<const Product> products, MatmulInput& in, ThreadPool& pool);

// Converts `n` elements of a f32/f16/bf16 row to f32.
void row_to_f32(DType type, const void* row, size_t n, float* out);

// out = x / sqrt(mean(x^2) + eps) * weight
void rms_norm(const float* x, const float* weight, size_t n, float eps, float* out);

// gate[i] = silu(gate[i]) * up[i]. The fast version's e^x is a polynomial within 2 ulp.
void silu_mul(float* gate, const float* up, size_t n);

// Rounds `n` floats to IEEE half (storage for the KV cache) and back.
void f32_to_f16_row(const float* x, size_t n, uint16_t* out);
void f16_to_f32_row(const uint16_t* x, size_t n, float* out);

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
}  // namespace ref

}  // namespace cwm::kernels
