// Runtime dispatch and the matrix-product driver.
//
// Products with few tokens (decode) are memory-bound: each weight row is streamed once and
// dotted with every token. Products with many tokens (prefill) are compute-bound: weight
// rows are widened to f32 a block at a time and handed to OpenBLAS's sgemm.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu.hpp"
#include "kernels.hpp"
#include "kernels_avx2.hpp"
#include "kernels_avx512.hpp"
#include "kernels_k.hpp"
#include "packed_k.hpp"
#include "packed_quant.hpp"
#include "quant_k.hpp"

namespace cwm::kernels {

namespace {

bool has_avx512() { return cpu_has_avx512(); }
bool has_avx2() { return cpu_has_avx2(); }

const uint8_t* row_ptr(const WeightMatrix& w, size_t r) {
    return static_cast<const uint8_t*>(w.data) + r * row_bytes(w.type, w.cols);
}

float dot_row(DType type, const void* row, const float* x, size_t n) {
    const bool float_row = type == DType::f32 || type == DType::f16 || type == DType::bf16;
    if (!has_avx512() && has_avx2() && float_row) return avx2::dot_row(type, row, x, n);
    if (!has_avx512()) return ref::dot_row(type, row, x, n);
    if (type == DType::q8_0) return avx512::dot_row_q8_0(row, x, n);
    if (type == DType::q4_0) return avx512::dot_row_q4_0(row, x, n);
    return avx512::dot_row(type, row, x, n);
}

// Below this many tokens the row-streaming product beats widening + sgemm.
constexpr size_t kGemmMinTokens = 8;

void matmul_rows(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, ThreadPool& pool) {
    pool.parallel_for(w.rows, [&](size_t begin, size_t end, int) {
        for (size_t r = begin; r < end; ++r) {
            const uint8_t* row = row_ptr(w, r);
            for (size_t t = 0; t < n_tokens; ++t) y[t * w.rows + r] = dot_row(w.type, row, x + t * w.cols, w.cols);
        }
    });
}

void widen_rows(const WeightMatrix& w, size_t r0, size_t n_rows, float* out, ThreadPool& pool) {
    pool.parallel_for(n_rows, [&](size_t begin, size_t end, int) {
        for (size_t r = begin; r < end; ++r) row_to_f32(w.type, row_ptr(w, r0 + r), w.cols, out + r * w.cols);
    });
}

void matmul_gemm(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, ThreadPool& pool) {
    const int m = int(n_tokens), k = int(w.cols), ldy = int(w.rows);
    if (w.type == DType::f32) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, int(w.rows), k, 1.0f, x, k,
                    static_cast<const float*>(w.data), k, 0.0f, y, ldy);
        return;
    }
    // Blocks of about 4 MiB of f32 weights stay in cache between widening and sgemm.
    const size_t block_rows = std::max<size_t>(16, (size_t(1) << 20) / std::max<size_t>(1, w.cols));
    std::vector<float> block(std::min(block_rows, w.rows) * w.cols);
    for (size_t r0 = 0; r0 < w.rows; r0 += block_rows) {
        const size_t n_rows = std::min(block_rows, w.rows - r0);
        widen_rows(w, r0, n_rows, block.data(), pool);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, int(n_rows), k, 1.0f, x, k, block.data(), k, 0.0f,
                    y + r0, ldy);
    }
}

// Quantizes every token's activations, then lets each thread take whole 16-row groups.
void matmul_packed(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, ThreadPool& pool) {
    const size_t act_size = activation_row_bytes(w.cols);
    std::vector<uint8_t> acts(n_tokens * act_size);
    pool.parallel_for(n_tokens, [&](size_t begin, size_t end, int) {
        for (size_t t = begin; t < end; ++t) quantize_activation_row(x + t * w.cols, w.cols, acts.data() + t * act_size);
    });
    pool.parallel_for(work_unit_count(w.rows), [&](size_t begin, size_t end, int) {
        kernels::matmul_packed(w.type, w.data, w.rows, w.cols, acts.data(), n_tokens, y, w.rows, begin, end);
    });
}

using KDot = float (*)(const void*, const void*, size_t);

KDot k_quant_dot(DType type) {
    const bool q4 = type == DType::q4_k;
    if (cpu_has_avx512_vnni()) return q4 ? avx512::dot_q4_k_q8_k : avx512::dot_q6_k_q8_k;
    if (cpu_has_avx2()) return q4 ? avx2::dot_q4_k_q8_k : avx2::dot_q6_k_q8_k;
    return q4 ? quant::dot_q4_k_q8_k_ref : quant::dot_q6_k_q8_k_ref;
}

size_t q8_k_row_bytes(size_t cols) { return cols / quant::kSuperBlock * sizeof(quant::BlockQ8_K); }

std::vector<uint8_t> quantize_q8_k_rows(const float* x, size_t n_tokens, size_t cols, ThreadPool& pool) {
    const size_t act_size = q8_k_row_bytes(cols);
    std::vector<uint8_t> acts(n_tokens * act_size);
    pool.parallel_for(n_tokens, [&](size_t begin, size_t end, int) {
        for (size_t t = begin; t < end; ++t) quant::quantize_row_q8_k(x + t * cols, cols, acts.data() + t * act_size);
    });
    return acts;
}

// Row by row for any number of tokens: each weight row is read once and dotted with every
// token's Q8_K activations.
void matmul_k_quant(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, ThreadPool& pool) {
    const size_t act_size = q8_k_row_bytes(w.cols);
    const std::vector<uint8_t> acts = quantize_q8_k_rows(x, n_tokens, w.cols, pool);
    const KDot dot = k_quant_dot(w.type);
    pool.parallel_for(w.rows, [&](size_t begin, size_t end, int) {
        for (size_t r = begin; r < end; ++r)
            for (size_t t = 0; t < n_tokens; ++t)
                y[t * w.rows + r] = dot(row_ptr(w, r), acts.data() + t * act_size, w.cols);
    });
}

// Packed q4_k / q6_k (packed_k.hpp): each thread takes whole 16-row groups.
void matmul_packed_k(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, ThreadPool& pool) {
    const std::vector<uint8_t> acts = quantize_q8_k_rows(x, n_tokens, w.cols, pool);
    pool.parallel_for(work_unit_count(w.rows), [&](size_t begin, size_t end, int) {
        kernels::matmul_packed_k(w.type, w.data, w.rows, w.cols, acts.data(), n_tokens, y, w.rows, begin, end);
    });
}

}  // namespace

const char* active_isa() {
    if (cpu_has_avx512_vnni()) return "avx512-vnni";
    if (cpu_has_avx512()) return "avx512";
    return cpu_has_avx2() ? "avx2" : "scalar";
}

void matmul(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, ThreadPool& pool) {
    if (w.packed) return is_k_quant(w.type) ? matmul_packed_k(w, x, n_tokens, y, pool) : matmul_packed(w, x, n_tokens, y, pool);
    if (is_k_quant(w.type)) return matmul_k_quant(w, x, n_tokens, y, pool);
    std::vector<float> rounded;
    if (w.type == DType::f16) {  // f16 products take f16-rounded inputs (kernels.hpp)
        rounded.resize(n_tokens * w.cols);
        round_to_f16(x, rounded.size(), rounded.data());
        x = rounded.data();
    }
    if (n_tokens >= kGemmMinTokens)
        matmul_gemm(w, x, n_tokens, y, pool);
    else
        matmul_rows(w, x, n_tokens, y, pool);
}

void row_to_f32(DType type, const void* row, size_t n, float* out) {
    const auto* half = static_cast<const uint16_t*>(row);
    if (has_avx512() && type == DType::f16) return avx512::f16_to_f32_row(half, n, out);
    if (has_avx512() && type == DType::bf16) return avx512::bf16_to_f32_row(half, n, out);
    if (has_avx2() && type == DType::f16) return avx2::f16_to_f32_row(half, n, out);
    if (has_avx2() && type == DType::bf16) return avx2::bf16_to_f32_row(half, n, out);
    ref::row_to_f32(type, row, n, out);
}

void round_to_f16(const float* x, size_t n, float* out) {
    if (!has_avx512() && !has_avx2()) return ref::round_to_f16(x, n, out);
    uint16_t halves[256];
    for (size_t i = 0; i < n; i += 256) {
        const size_t len = std::min<size_t>(256, n - i);
        f32_to_f16_row(x + i, len, halves);
        f16_to_f32_row(halves, len, out + i);
    }
}

void rms_norm(const float* x, const float* weight, size_t n, float eps, float* out) {
    ref::rms_norm(x, weight, n, eps, out);
}

void silu_mul(float* gate, const float* up, size_t n) { ref::silu_mul(gate, up, n); }

void f32_to_f16_row(const float* x, size_t n, uint16_t* out) {
    if (has_avx512()) return avx512::f32_to_f16_row(x, n, out);
    if (has_avx2()) return avx2::f32_to_f16_row(x, n, out);
    for (size_t i = 0; i < n; ++i) out[i] = f32_to_f16(x[i]);
}

void f16_to_f32_row(const uint16_t* x, size_t n, float* out) {
    if (has_avx512()) return avx512::f16_to_f32_row(x, n, out);
    if (has_avx2()) return avx2::f16_to_f32_row(x, n, out);
    for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32(x[i]);
}

float dot_f32_f16(const float* q, const uint16_t* k, size_t n) {
    if (has_avx512()) return avx512::dot_f32_f16(q, k, n);
    return has_avx2() ? avx2::dot_row(DType::f16, k, q, n) : ref::dot_f32_f16(q, k, n);
}

void axpy_f16(float a, const uint16_t* v, size_t n, float* out) {
    if (has_avx512()) return avx512::axpy_f16(a, v, n, out);
    if (has_avx2()) return avx2::axpy_f16(a, v, n, out);
    ref::axpy_f16(a, v, n, out);
}

}  // namespace cwm::kernels
