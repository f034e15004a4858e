// cwm convert-gguf: a copy of a model file that states its attention layout, e.g. a community
// `llama` file of CWM rewritten as a `cwm` file with CWM's local/global pattern.
#include <cwm/cwm.hpp>

#include "attention_options.hpp"
#include "commands.hpp"
#include "progress.hpp"

namespace cwm_cli {

namespace {

struct ConvertGgufOptions {
    std::string input, output;
    AttentionOptions attention;
};

int run_convert_gguf(const ConvertGgufOptions& o) {
    ProgressLine line("convert-gguf");
    cwm::convert_gguf(o.input, o.output, attention_layout(o.attention), o.attention.window,
                      [&](size_t done, size_t count, uint64_t bytes, uint64_t total) {
                          return line.update(bytes, total, "tensor " + std::to_string(done) + "/" + std::to_string(count));
                      });
    const char* what = o.attention.layout == "cwm" ? "architecture cwm with CWM's local/global pattern"
                                                   : "architecture llama, every layer global";
    line.finish("wrote " + o.output + " (" + what + "; no --attention needed to load it)");
    return 0;
}

}  // namespace

Command add_convert_gguf(CLI::App& parent) {
    auto opts = std::make_shared<ConvertGgufOptions>();
    CLI::App* app = parent.add_subcommand(
        "convert-gguf", "Write a copy of a model whose metadata states its attention layout (tensors unchanged)");
    app->add_option("input", opts->input, "GGUF model, e.g. a community llama-architecture file of CWM")->required();
    app->add_option("output", opts->output, "GGUF file to write (a new file; appears only when complete)")->required();
    app->add_option("--attention", opts->attention.layout,
                    "cwm: architecture cwm with CWM's pattern (layer i global when i % 4 == 0, and the last); "
                    "global: architecture llama, every layer global")
        ->required()
        ->check(CLI::IsMember({"cwm", "global"}));
    app->add_option("--window", opts->attention.window, "with --attention cwm: the sliding window (default CWM's 8192)")
        ->check(CLI::Range(1u, 1u << 30));
    return {app, [opts] { return run_convert_gguf(*opts); }};
}

}  // namespace cwm_cli
