// cwm convert: a Hugging Face checkpoint directory to one GGUF, with progress and the
// assumptions the conversion made.
#include <cwm/cwm.hpp>

#include <cstdio>
#include <map>

#include "commands.hpp"
#include "progress.hpp"

namespace cwm_cli {

namespace {

struct ConvertOptions {
    std::string input, output, type = "bf16";
    int threads = 0;
};

int run_convert(const ConvertOptions& o) {
    const std::map<std::string, cwm_weight_type> types = {
        {"f32", CWM_WEIGHT_F32},   {"f16", CWM_WEIGHT_F16},   {"bf16", CWM_WEIGHT_BF16},
        {"q8_0", CWM_WEIGHT_Q8_0}, {"q4_0", CWM_WEIGHT_Q4_0}, {"q4_k_m", CWM_WEIGHT_Q4_K_M}};
    ProgressLine line("convert");
    cwm::convert_hf(
        o.input, o.output, types.at(o.type), o.threads, [&](uint64_t done, uint64_t total) { return line.update(done, total); },
        [](const std::string& note) { std::fprintf(stderr, "convert: note: %s\n", note.c_str()); });
    line.finish("wrote " + o.output);
    return 0;
}

}  // namespace

Command add_convert(CLI::App& parent) {
    auto opts = std::make_shared<ConvertOptions>();
    CLI::App* app = parent.add_subcommand("convert", "Convert a Hugging Face CWM checkpoint (safetensors) to one GGUF");
    app->add_option("hf_dir", opts->input, "directory with config.json, *.safetensors and tokenizer.json")
        ->required()
        ->check(CLI::ExistingDirectory);
    app->add_option("output", opts->output, "GGUF file to write (appears only when complete)")->required();
    app->add_option("--type", opts->type, "weight matrices: bf16 (as released), f16, f32, q8_0, q4_0 or q4_k_m")
        ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0", "q4_0", "q4_k_m"}));
    app->add_option("-t,--threads", opts->threads, "threads (0: one per physical core)")->check(CLI::Range(0, 1024));
    return {app, [opts] { return run_convert(*opts); }};
}

}  // namespace cwm_cli
