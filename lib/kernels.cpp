// Runtime dispatch and the matrix-product driver.
//
// Products with few tokens (decode) are memory-bound: each weight row is streamed once and
// dotted with every token. Products with many tokens (prefill) are compute-bound: weight
// rows are widened to f32 a block at a time and handed to OpenBLAS's sgemm.
#include <cblas.h>

#include <algorithm>
#include <mutex>
#include <array>
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

// OpenBLAS would otherwise start threads of its own, one per core, next to the context's pool:
// two sets of busy threads on the same cores (measured: a 64-token prefill of the small test
// model 40x slower while the pool's workers spun). Its sgemm runs single-threaded on each pool
// thread's rows instead. (OpenBLAS has one process-wide setting; libcwm sets it once.)
void single_threaded_blas() {
    static std::once_flag once;
    std::call_once(once, [] { openblas_set_num_threads(1); });
}

// Each pool thread multiplies its own rows: f32 weights directly, others widened to f32 a block
// of about 4 MiB at a time (it stays in cache between widening and sgemm).
void matmul_gemm(const WeightMatrix& w, MatmulInput& in, const float* x, float* y, ThreadPool& pool) {
    single_threaded_blas();
    const int m = int(in.n_tokens()), k = int(w.cols), ldy = int(w.rows);
    const size_t block_rows = std::max<size_t>(16, (size_t(1) << 20) / std::max<size_t>(1, w.cols));
    float* blocks = w.type == DType::f32 ? nullptr : in.weight_block(size_t(pool.n_threads()) * block_rows * w.cols);
    pool.parallel_for(w.rows, [&](size_t begin, size_t end, int thread) {
        for (size_t r0 = begin; r0 < end; r0 += block_rows) {
            const size_t n_rows = std::min(block_rows, end - r0);
            const float* rows = static_cast<const float*>(w.data) + r0 * w.cols;
            if (blocks) {
                float* block = blocks + size_t(thread) * block_rows * w.cols;
                for (size_t r = 0; r < n_rows; ++r) row_to_f32(w.type, row_ptr(w, r0 + r), w.cols, block + r * w.cols);
                rows = block;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, int(n_rows), k, 1.0f, x, k, rows, k, 0.0f, y + r0,
                        ldy);
        }
    });
}

// Chunks of work per thread when the threads share work out dynamically: enough that a thread
// held up (the machine may be shared) leaves little for the others to wait for, few enough
// that each chunk still reuses the activations it streams through the cache.
constexpr size_t kChunksPerThread = 4;

size_t grain(size_t n, const ThreadPool& pool) { return n / (kChunksPerThread * size_t(pool.n_threads())) + 1; }


using KDot = float (*)(const void*, const void*, size_t);

KDot k_quant_dot(DType type) {
    const bool q4 = type == DType::q4_k;
    if (cpu_has_avx512_vnni()) return q4 ? avx512::dot_q4_k_q8_k : avx512::dot_q6_k_q8_k;
    if (cpu_has_avx2()) return q4 ? avx2::dot_q4_k_q8_k : avx2::dot_q6_k_q8_k;
    return q4 ? quant::dot_q4_k_q8_k_ref : quant::dot_q6_k_q8_k_ref;
}

size_t q8_k_row_bytes(size_t cols) { return cols / quant::kSuperBlock * sizeof(quant::BlockQ8_K); }

// Row by row for any number of tokens: each weight row is read once and dotted with every
// token's Q8_K activations.
void matmul_k_quant(const WeightMatrix& w, MatmulInput& in, float* y, ThreadPool& pool) {
    const uint8_t* acts = in.q8_k_rows(pool);
    const size_t act_size = q8_k_row_bytes(w.cols);
    const KDot dot = k_quant_dot(w.type);
    pool.parallel_for_dynamic(w.rows, grain(w.rows, pool), [&](size_t begin, size_t end, int) {
        for (size_t r = begin; r < end; ++r)
            for (size_t t = 0; t < in.n_tokens(); ++t)
                y[t * w.rows + r] = dot(row_ptr(w, r), acts + t * act_size, w.cols);
    });
}

template <class T>
T* grow(std::vector<T>& buffer, size_t n) {
    if (buffer.size() < n) buffer.resize(n);
    return buffer.data();
}

// Fills `row_size` elements per token of `out` with convert(x_t, out_t), tokens split across threads.
template <class T, class Convert>
void convert_rows(const MatmulInput& in, T* out, size_t row_size, ThreadPool& pool, Convert convert) {
    pool.parallel_for_dynamic(in.n_tokens(), grain(in.n_tokens(), pool), [&](size_t begin, size_t end, int) {
        for (size_t t = begin; t < end; ++t) convert(in.x() + t * in.cols(), out + t * row_size);
    });
}

// Packed products (packed_quant.hpp, packed_k.hpp) in one pass: each product's work units
// (16-row groups, then its tail rows) are numbered after the previous product's, and the
// threads take chunks of that numbering, a chunk spanning products if it falls so.
void matmul_packed(std::span<const Product> products, MatmulInput& in, ThreadPool& pool) {
    constexpr size_t kMaxProducts = 4;
    if (products.size() > kMaxProducts) {
        matmul_packed(products.first(kMaxProducts), in, pool);
        return matmul_packed(products.subspan(kMaxProducts), in, pool);
    }
    std::array<const uint8_t*, kMaxProducts> acts{};
    std::array<size_t, kMaxProducts + 1> first_unit{};  // product p's units: [first_unit[p], first_unit[p + 1])
    for (size_t p = 0; p < products.size(); ++p) {
        const WeightMatrix& w = *products[p].w;
        acts[p] = is_k_quant(w.type) ? in.q8_k_rows(pool) : in.q8_0_rows(pool);
        first_unit[p + 1] = first_unit[p] + work_unit_count(w.rows);
    }
    const size_t units = first_unit[products.size()];
    pool.parallel_for_dynamic(units, grain(units, pool), [&](size_t begin, size_t end, int) {
        for (size_t p = 0; p < products.size(); ++p) {
            const size_t lo = std::max(begin, first_unit[p]), hi = std::min(end, first_unit[p + 1]);
            if (lo >= hi) continue;
            const WeightMatrix& w = *products[p].w;
            const auto run = is_k_quant(w.type) ? kernels::matmul_packed_k : kernels::matmul_packed;
            run(w.type, w.data, w.rows, w.cols, acts[p], in.n_tokens(), products[p].y, w.rows, lo - first_unit[p],
                hi - first_unit[p]);
        }
    });
}

}  // namespace

void MatmulInput::reset(const float* x, size_t n_tokens, size_t cols) {
    x_ = x;
    n_tokens_ = n_tokens;
    cols_ = cols;
    have_q8_0_ = have_q8_k_ = have_f16_ = false;
}

const uint8_t* MatmulInput::q8_0_rows(ThreadPool& pool) {
    const size_t size = activation_row_bytes(cols_);
    uint8_t* out = grow(q8_0_, n_tokens_ * size);
    if (!have_q8_0_)
        convert_rows(*this, out, size, pool, [&](const float* x, uint8_t* row) { quantize_activation_row(x, cols_, row); });
    have_q8_0_ = true;
    return out;
}

const uint8_t* MatmulInput::q8_k_rows(ThreadPool& pool) {
    const size_t size = q8_k_row_bytes(cols_);
    uint8_t* out = grow(q8_k_, n_tokens_ * size);
    if (!have_q8_k_)
        convert_rows(*this, out, size, pool, [&](const float* x, uint8_t* row) { quant::quantize_row_q8_k(x, cols_, row); });
    have_q8_k_ = true;
    return out;
}

const float* MatmulInput::f16_rounded(ThreadPool& pool) {
    float* out = grow(f16_, n_tokens_ * cols_);
    if (!have_f16_)
        convert_rows(*this, out, cols_, pool, [&](const float* x, float* row) { round_to_f16(x, cols_, row); });
    have_f16_ = true;
    return out;
}

float* MatmulInput::weight_block(size_t n) { return grow(weight_block_, n); }

const char* active_isa() {
    if (cpu_has_avx512_vnni()) return "avx512-vnni";
    if (cpu_has_avx512()) return "avx512";
    return cpu_has_avx2() ? "avx2" : "scalar";
}

void matmul(const WeightMatrix& w, MatmulInput& in, float* y, ThreadPool& pool) {
    if (w.packed) return matmul_packed(std::array{Product{&w, y}}, in, pool);
    if (is_k_quant(w.type)) return matmul_k_quant(w, in, y, pool);
    // f16 products take f16-rounded inputs (kernels.hpp)
    const float* x = w.type == DType::f16 ? in.f16_rounded(pool) : in.x();
    if (in.n_tokens() >= kGemmMinTokens)
        matmul_gemm(w, in, x, y, pool);
    else
        matmul_rows(w, x, in.n_tokens(), y, pool);
}

void matmul(std::span<const Product> products, MatmulInput& in, ThreadPool& pool) {
    const bool all_packed = std::all_of(products.begin(), products.end(), [](const Product& p) { return p.w->packed; });
    if (all_packed) return matmul_packed(products, in, pool);
    for (const Product& p : products) matmul(*p.w, in, p.y, pool);
}

void matmul(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, ThreadPool& pool) {
    MatmulInput in;
    in.reset(x, n_tokens, w.cols);
    matmul(w, in, y, pool);
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

void silu_mul(float* gate, const float* up, size_t n) {
    if (has_avx512()) return avx512::silu_mul(gate, up, n);
    ref::silu_mul(gate, up, n);
}

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

}  // namespace cwm::kernels
