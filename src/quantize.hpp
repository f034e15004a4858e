// Model quantization: copies a GGUF model with its weight matrices converted to a
// block-quantized type, one tensor at a time (memory bounded by the largest tensor), into a
// temporary file renamed over the output only when complete.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "dtype.hpp"

namespace cwm {

struct QuantizeOptions {
    // q8_0 or q4_0: every quantized matrix gets that type. q4_k: llama.cpp's Q4_K_M mix (Q4_K,
    // with Q6_K for output and some attn_v / ffn_down; see choose_type in quantize.cpp).
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

}  // namespace cwm
