// cwm quantize: convert a model's weight matrices to q8_0, q4_0 or the q4_k_m mix, showing progress.
#include <cwm/cwm.hpp>

#include <cstdio>
#include <map>

#include "commands.hpp"

namespace cwm_cli {

namespace {

struct QuantizeOptions {
    std::string input, output, type = "q8_0";
    int threads = 0;
};

int run_quantize(const QuantizeOptions& o) {
    const std::map<std::string, cwm_weight_type> types = {
        {"q8_0", CWM_WEIGHT_Q8_0}, {"q4_0", CWM_WEIGHT_Q4_0}, {"q4_k_m", CWM_WEIGHT_Q4_K_M}};
    cwm::quantize(o.input, o.output, types.at(o.type), o.threads, file_progress("quantize"));
    std::fprintf(stderr, "\nquantize: wrote %s\n", o.output.c_str());
    return 0;
}

}  // namespace

Command add_quantize(CLI::App& parent) {
    auto opts = std::make_shared<QuantizeOptions>();
    CLI::App* app = parent.add_subcommand("quantize", "Write a copy of a model with q8_0, q4_0 or q4_k_m weight matrices");
    app->add_option("input", opts->input, "GGUF model (f32, f16 or bf16 matrices)")->required();
    app->add_option("output", opts->output, "GGUF file to write (appears only when complete)")->required();
    app->add_option("--type", opts->type, "q8_0, q4_0 or q4_k_m (llama.cpp's Q4_K_M mix)")
        ->check(CLI::IsMember({"q8_0", "q4_0", "q4_k_m"}));
    app->add_option("-t,--threads", opts->threads, "threads (0: one per physical core)")->check(CLI::Range(0, 1024));
    return {app, [opts] { return run_quantize(*opts); }};
}

}  // namespace cwm_cli
