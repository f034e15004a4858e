// Model quantization: copies a GGUF model with its weight matrices converted to a
// block-quantized type, one tensor at a time (memory bounded by the largest tensor), into a
// temporary file renamed over the output only when complete. The per-tensor choices and row
// encoders are shared with the Hugging Face converter (convert_hf.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dtype.hpp"

namespace cwm {

class ThreadPool;

struct QuantizeOptions {
    // q8_0 or q4_0: every quantized matrix gets that type. q4_k: llama.cpp's Q4_K_M mix (Q4_K,
    // with Q6_K for output and some attn_v / ffn_down; see KMix in quantize.cpp).
    DType type = DType::q8_0;
    int n_threads = 0;         // 0: one per physical core
    // Called after each tensor with (tensors done, tensor count, bytes written, total bytes);
    // returning false cancels (Error cancelled, no output file).
    std::function<bool(size_t, size_t, uint64_t, uint64_t)> progress;
};

// Which tensors are quantized: 2-D ".weight" matrices stored as f32, f16 or bf16 whose rows
// are a multiple of 32. Norms, RoPE factors and anything else are copied as they are. Throws
// Error (io_error, invalid_file, unsupported, cancelled).
void quantize_model(const std::string& input, const std::string& output, const QuantizeOptions& options);

// The shape facts llama.cpp's Q4_K_M mix depends on.
struct QuantModelFacts {
    std::string arch;
    uint32_t n_layer = 0, n_head = 0, n_head_kv = 0;
    std::vector<std::string> tensor_names;  // the whole model's, in file order
};

// Decides each tensor's stored type for a target: f32, f16 or bf16 (every matrix in that type)
// or q8_0, q4_0, q4_k (the Q4_K_M mix). Call type_for in file order: llama.cpp's counters
// advance in file order.
class QuantPlan {
public:
    QuantPlan(DType target, const QuantModelFacts& facts);
    ~QuantPlan();
    QuantPlan(const QuantPlan&) = delete;
    QuantPlan& operator=(const QuantPlan&) = delete;

    // `source` is the tensor's type now; what is not a weight matrix keeps it.
    DType type_for(const std::string& name, DType source, const std::vector<uint64_t>& ne);

private:
    class KMix;
    DType target_;
    std::unique_ptr<KMix> mix_;
};

// Encodes a matrix of `rows` x `cols` in `type` (f32, f16, bf16, q8_0, q4_0, q4_k, q6_k) into
// `dst`, rows one after another; `row(r, out)` writes row r as f32 into out[cols]. Rows are
// produced in parallel: `row` must be safe to call from several threads at once.
using RowSource = std::function<void(size_t row, float* out)>;
void encode_rows(DType type, size_t rows, size_t cols, const RowSource& row, uint8_t* dst, ThreadPool& pool);

}  // namespace cwm
