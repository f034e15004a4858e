// --attention and --window: the attention layout a command loads its model with, shared by every
// command that runs a model (a community `llama` file of CWM needs `--attention cwm`).
#pragma once

#include <CLI/CLI.hpp>
#include <cwm/cwm.hpp>

#include <string>

namespace cwm_cli {

struct AttentionOptions {
    std::string layout = "file";  // file, cwm or global
    uint32_t window = 0;          // with cwm: the sliding window (0: CWM's 8192)
};

void add_attention_options(CLI::App* app, AttentionOptions& o);
cwm_attention_layout attention_layout(const AttentionOptions& o);
// Loads `path` with the chosen layout; std::runtime_error for --window without --attention cwm.
cwm::model load_model(const std::string& path, const AttentionOptions& o);

}  // namespace cwm_cli
