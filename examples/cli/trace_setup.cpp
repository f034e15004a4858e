#include "trace_setup.hpp"

#include <algorithm>

namespace cwm_cli {

namespace {

cwm_context_params context_params(const cwm::model& m, const ModelOptions& o) {
    auto params = cwm::context::default_params();
    params.n_ctx = std::min(o.ctx, m.info().n_ctx_train);
    params.n_threads = o.threads;
    return params;
}

}  // namespace

void add_model_options(CLI::App* app, ModelOptions& o) {
    app->add_option("-m,--model", o.model, "GGUF model whose vocabulary has the trace tokens")->required();
    app->add_option("-c,--ctx", o.ctx, "context size (capped at the model's)")->check(CLI::Range(64u, 1u << 24));
    app->add_option("-t,--threads", o.threads, "threads (0: one per physical core)")->check(CLI::Range(0, 1024));
    app->add_option("--max-frame-tokens", o.max_frame_tokens, "a frame not ended after this many tokens is malformed")
        ->check(CLI::Range(1u, 1u << 20));
    app->add_option("--temp", o.temperature, "sampling temperature (0: greedy, the default)");
    app->add_option("-s,--seed", o.seed, "random seed when sampling");
    add_attention_options(app, o.attention);
}

void add_program_options(CLI::App* app, std::string& program, std::string& entry, ModelOptions& model) {
    app->add_option("program", program, "Python file; its entry function is marked '# << START_OF_TRACE'")->required();
    add_model_options(app, model);
    app->add_option("--entry", entry, "trace this function instead of the marked one");
}

void add_colour_option(CLI::App* app, std::string& colour) {
    app->add_option("--color", colour, "colour: auto (on a terminal), always, never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
}

Loaded::Loaded(const ModelOptions& o)
    : model(load_model(o.model, o.attention)), context(model, context_params(model, o)), max_frame_tokens(o.max_frame_tokens) {
    if (o.temperature > 0) {
        auto params = cwm::sampler::default_params();
        params.temperature = o.temperature;
        params.seed = o.seed;
        sampler = std::make_unique<cwm::sampler>(params);
    }
}

cwm::trace_session Loaded::session(const std::string& source, const std::string& entry) {
    return cwm::trace_session(context, source, entry, sampler.get(), max_frame_tokens);
}

std::string source_line(const std::string& source, int number) {
    size_t at = 0;
    for (int i = 1; i < number; ++i) {
        at = source.find('\n', at);
        if (at == std::string::npos) return "";
        ++at;
    }
    if (number < 1 || at >= source.size()) return "";
    const size_t end = source.find('\n', at);
    return source.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace cwm_cli
