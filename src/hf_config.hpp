// A Hugging Face config.json of a CWM (or Llama-layout CWM) checkpoint read into the engine's
// ModelConfig. What the file leaves out takes CWM's documented value (cwm-model.md) and is
// listed in `defaults`, so a converter can say what it assumed.
#pragma once

#include <string>
#include <vector>

#include "model_config.hpp"

namespace cwm {

struct HfConfig {
    ModelConfig model;                  // arch "cwm"; pair_layout is rotate_half (HF's q/k order)
    uint32_t vocab_size = 0;
    bool tie_word_embeddings = false;
    std::string model_type;             // "cwm" or "llama", as the file says
    std::vector<std::string> defaults;  // "sliding_window: absent, CWM's 8192", ...
};

// Reads and validates `path` (a config.json). Throws Error(io_error) if unreadable,
// Error(invalid_file) naming the key for a malformed or inconsistent value, and
// Error(unsupported) for another model type, biases, or a RoPE type other than
// default / linear / llama3.
HfConfig read_hf_config(const std::string& path);

}  // namespace cwm
