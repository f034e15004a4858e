// Hugging Face checkpoint -> one self-contained GGUF (issue 6; docs/real-cwm.md): config.json,
// the safetensors shards and the tokenizer files of a CWM checkpoint become a `cwm`-architecture
// GGUF with its layer pattern, tokenizer, stop tokens and chat template.
//
// Memory stays bounded whatever the model size: one tensor at a time, its source pages dropped
// from resident memory once converted, so peak RSS is about one source tensor plus its output
// plus the tokenizer. The output appears only when complete (temporary file, then rename).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "dtype.hpp"

namespace cwm {

struct ConvertOptions {
    // Weight matrices: f32, f16, bf16 (as released), q8_0, q4_0 or q4_k (llama.cpp's Q4_K_M
    // mix). Norms are always f32.
    DType type = DType::bf16;
    int n_threads = 0;  // 0: one per physical core
    // Called as output bytes are produced (done, total); returning false cancels (Error
    // cancelled, no output file).
    std::function<bool(uint64_t, uint64_t)> progress;
    // Receives what the conversion assumed or could not carry over (defaults taken for absent
    // config keys, padded vocabulary, stop tokens), one line each.
    std::function<void(const std::string&)> note;
};

// Throws Error: io_error (a missing file or shard, an unwritable output), invalid_file (a
// malformed config, index or shard; a tensor missing or of the wrong shape), unsupported (an
// unknown architecture, dtype or tensor), cancelled.
void convert_hf_checkpoint(const std::string& dir, const std::string& output, const ConvertOptions& options);

}  // namespace cwm
