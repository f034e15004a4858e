// Rewrites a GGUF model's attention layout into its metadata: a community `llama` file of a
// CWM checkpoint becomes a `cwm` file that states CWM's local/global pattern, so every later
// load (and every tool reading the file) gets it without being told.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "model_config.hpp"

namespace cwm {

struct ConvertOptions {
    // AttentionLayout::cwm: write architecture `cwm` with CWM's pattern and `window` (0:
    // kCwmWindow). AttentionLayout::global: write architecture `llama` (every layer global).
    AttentionLayout layout = AttentionLayout::cwm;
    uint32_t window = 0;
    // Called after each tensor with (tensors done, tensor count, bytes written, total bytes);
    // returning false cancels (Error cancelled, no output file).
    std::function<bool(size_t, size_t, uint64_t, uint64_t)> progress;
};

// Copies `input` to `output` with the metadata rewritten (docs/gguf-format.md, "Community
// files") and every tensor unchanged, one at a time straight from the mapped input, so memory
// stays bounded. The output appears only when complete. Throws Error: invalid_argument (output
// is the input, layout from_file, a bad window), io_error, invalid_file, unsupported (a
// rotate_half `cwm` file asked to become `llama`, which has no such layout), cancelled.
void convert_gguf(const std::string& input, const std::string& output, const ConvertOptions& options);

}  // namespace cwm
