#include "attention_options.hpp"

#include <stdexcept>

namespace cwm_cli {

void add_attention_options(CLI::App* app, AttentionOptions& o) {
    app->add_option("--attention", o.layout,
                    "local/global layout: file (what the file says), cwm (CWM's pattern, e.g. for a community "
                    "llama-architecture file of CWM) or global (every layer)")
        ->check(CLI::IsMember({"file", "cwm", "global"}));
    app->add_option("--window", o.window, "with --attention cwm: the sliding window (default CWM's 8192)")
        ->check(CLI::Range(1u, 1u << 30));
}

cwm_attention_layout attention_layout(const AttentionOptions& o) {
    if (o.window != 0 && o.layout != "cwm") throw std::runtime_error("--window needs --attention cwm");
    return o.layout == "cwm" ? CWM_ATTENTION_CWM : o.layout == "global" ? CWM_ATTENTION_GLOBAL : CWM_ATTENTION_FROM_FILE;
}

cwm::model load_model(const std::string& path, const AttentionOptions& o) {
    return cwm::model(path, {.attention = attention_layout(o), .sliding_window = o.window});
}

}  // namespace cwm_cli
