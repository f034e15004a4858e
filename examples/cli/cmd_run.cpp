// cwm run: generate text from a prompt, streaming it as it is produced.
#include <cwm/cwm.hpp>

#include <chrono>
#include <cstdio>

#include "attention_options.hpp"
#include "commands.hpp"

namespace cwm_cli {

namespace {

struct RunOptions {
    std::string model, prompt, file;
    int n_predict = 128, threads = 0;
    uint32_t ctx = 4096;
    bool no_parse_special = false, no_bos = false;
    cwm_sampler_params sampling = cwm::sampler::default_params();
    AttentionOptions attention;
};

int run_generate(const RunOptions& o) {
    const cwm::model model = load_model(o.model, o.attention);
    const std::string text = o.file.empty() ? o.prompt : read_file(o.file);
    const auto prompt = model.tokenize(text, !o.no_bos, !o.no_parse_special);
    auto params = cwm::context::default_params();
    params.n_ctx = std::min(o.ctx, model.info().n_ctx_train);
    params.n_threads = o.threads;
    cwm::context context(model, params);
    if (prompt.size() >= context.n_ctx())
        throw std::runtime_error("the prompt has " + std::to_string(prompt.size()) + " tokens but the context holds " +
                                 std::to_string(context.n_ctx()) + " (including generated ones); raise -c/--ctx");
    cwm::sampler sampler(o.sampling);

    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    size_t generated = 0;
    const auto t0 = std::chrono::steady_clock::now();
    context.generate(prompt, size_t(o.n_predict), &sampler, [&](std::string_view piece, cwm::token) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        ++generated;
        return true;
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("\n");
    std::fprintf(stderr, "cwm: prompt %zu tokens, generated %zu tokens in %.2f s\n", prompt.size(), generated, seconds);
    return 0;
}

}  // namespace

Command add_run(CLI::App& parent) {
    auto opts = std::make_shared<RunOptions>();
    CLI::App* app = parent.add_subcommand("run", "Generate text from a prompt (streaming)");
    app->add_option("-m,--model", opts->model, "GGUF model")->required();
    auto* prompt = app->add_option("-p,--prompt", opts->prompt, "prompt text");
    app->add_option("-f,--file", opts->file, "read the prompt from a file")->excludes(prompt);
    app->add_option("-n,--n-predict", opts->n_predict, "maximum tokens to generate")->check(CLI::Range(0, 1 << 24));
    app->add_option("-c,--ctx", opts->ctx, "context size (capped at the model's)")->check(CLI::Range(1u, 1u << 24));
    app->add_option("-t,--threads", opts->threads, "threads (0: one per physical core)")->check(CLI::Range(0, 1024));
    app->add_option("--temp", opts->sampling.temperature, "temperature (0: greedy)");
    app->add_option("--top-k", opts->sampling.top_k, "top-k (0: off)");
    app->add_option("--top-p", opts->sampling.top_p, "top-p (1: off)");
    app->add_option("--min-p", opts->sampling.min_p, "min-p (0: off)");
    app->add_option("--repeat-penalty", opts->sampling.repeat_penalty, "repetition penalty (1: off)");
    app->add_option("--repeat-last-n", opts->sampling.repeat_last_n, "tokens the penalty looks back over");
    app->add_option("-s,--seed", opts->sampling.seed, "random seed");
    app->add_flag("--no-parse-special", opts->no_parse_special, "treat special-token texts in the prompt as plain text");
    app->add_flag("--no-bos", opts->no_bos, "do not prepend BOS");
    add_attention_options(app, opts->attention);
    return {app, [opts] { return run_generate(*opts); }};
}

}  // namespace cwm_cli
