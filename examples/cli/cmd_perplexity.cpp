// cwm perplexity: computed exactly as llama.cpp's llama-perplexity does by default.
//
// The text (one trailing newline dropped) is tokenized with BOS and without special-token
// parsing. It is cut into n_chunks = tokens / ctx non-overlapping chunks; each chunk is
// evaluated from an empty KV cache at positions 0..ctx-1 with its first token replaced by
// BOS. Only the second half is scored: the logits at position j (ctx/2 <= j <= ctx-2)
// score the token at j+1, nll = -(logit[t] - max - log(sum exp(logit - max))).
// ppl = exp(sum nll / count). See docs/perplexity.md.
#include <cwm/cwm.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "commands.hpp"

namespace cwm_cli {

namespace {

struct PerplexityOptions {
    std::string model, file, dump_logits, dump_tokens;
    int ctx = 512, threads = 0, chunks = -1;
};

double token_nll(std::span<const float> logits, cwm::token target) {
    float max_logit = logits[0];
    for (float l : logits) max_logit = std::max(max_logit, l);
    double sum_exp = 0.0;
    for (float l : logits) sum_exp += std::exp(double(l - max_logit));
    return -(double(logits[size_t(target)] - max_logit) - std::log(sum_exp));
}

// Writes one value a line to a temporary file renamed over `path` at the end, so a failed
// write never leaves a truncated dump behind.
void write_lines(const std::string& path, const auto& values, const char* format) {
    const std::string tmp = path + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + path);
    bool ok = true;
    for (auto v : values) ok = ok && std::fprintf(f, format, v) > 0;
    ok = std::fclose(f) == 0 && ok;
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw std::runtime_error("error writing " + path);
    }
}

int run_perplexity(const PerplexityOptions& o) {
    const cwm::model model(o.model);
    std::string text = read_file(o.file);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    const auto tokens = model.tokenize(text, true, false);
    if (!o.dump_tokens.empty()) write_lines(o.dump_tokens, tokens, "%d\n");
    const size_t ctx = size_t(o.ctx);
    if (tokens.size() < 2 * ctx)
        throw std::runtime_error("need at least " + std::to_string(2 * ctx) + " tokens for ctx=" + std::to_string(ctx) +
                                 ", the text has " + std::to_string(tokens.size()));
    const size_t n_chunks = o.chunks < 0 ? tokens.size() / ctx : std::min(size_t(o.chunks), tokens.size() / ctx);
    auto params = cwm::context::default_params();
    params.n_ctx = uint32_t(ctx);
    params.n_threads = o.threads;
    params.n_batch = uint32_t(ctx);
    cwm::context context(model, params);
    const cwm_model_info info = model.info();
    const size_t first = ctx / 2;
    double nll = 0.0;
    size_t count = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t k = 0; k < n_chunks; ++k) {
        std::vector<cwm::token> chunk(tokens.begin() + long(k * ctx), tokens.begin() + long((k + 1) * ctx));
        if (info.bos >= 0) chunk[0] = info.bos;
        context.clear();
        context.decode(chunk, ctx - first);
        for (size_t j = first; j + 1 < ctx; ++j, ++count) nll += token_nll(context.logits(j - first), chunk[j + 1]);
        if (k == 0 && !o.dump_logits.empty()) write_lines(o.dump_logits, context.logits(ctx - 1 - first), "%.9g\n");
        std::fprintf(stderr, "[%zu]%.4f%s", k + 1, std::exp(nll / double(count)), k + 1 == n_chunks ? "\n" : ",");
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "cwm: %.2f s for %zu chunks (%.1f tokens/s)\n", seconds, n_chunks,
                 double(n_chunks * ctx) / seconds);
    std::printf("ppl=%.6f tokens=%zu\n", std::exp(nll / double(count)), count);
    return 0;
}

}  // namespace

Command add_perplexity(CLI::App& parent) {
    auto opts = std::make_shared<PerplexityOptions>();
    CLI::App* app = parent.add_subcommand("perplexity", "Perplexity of a text, computed as llama-perplexity does");
    app->add_option("-m,--model", opts->model, "GGUF model")->required();
    app->add_option("-f,--file", opts->file, "text file")->required();
    app->add_option("-c,--ctx", opts->ctx, "tokens per chunk")->check(CLI::Range(4, 1 << 20));
    app->add_option("-t,--threads", opts->threads, "threads (0: one per physical core)")->check(CLI::Range(0, 1024));
    app->add_option("--chunks", opts->chunks, "evaluate at most this many chunks")->check(CLI::PositiveNumber);
    app->add_option("--dump-logits", opts->dump_logits, "write the logits of the last position of chunk 0, one per line");
    app->add_option("--dump-tokens", opts->dump_tokens, "write every token id of the text, one per line");
    return {app, [opts] { return run_perplexity(*opts); }};
}

}  // namespace cwm_cli
