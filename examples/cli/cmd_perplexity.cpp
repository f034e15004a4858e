// cwm perplexity: computed exactly as llama.cpp's llama-perplexity does by default.
//
// The text (one trailing newline dropped) is tokenized with BOS and without special-token
// parsing. It is cut into n_chunks = tokens / ctx non-overlapping chunks; each chunk is
// evaluated from an empty KV cache at positions 0..ctx-1 with its first token replaced by
// BOS. Only the second half is scored: the logits at position j (ctx/2 <= j <= ctx-2)
// score the token at j+1, nll = -(logit[t] - max - log(sum exp(logit - max))).
// ppl = exp(sum nll / count). See docs/perplexity.md.
//
// With --kl-reference REF.gguf (e.g. the f16 file a quantized model came from) the same chunks
// also run through REF, and at every scored position the KL divergence KL(P_ref || P_model) of
// the two next-token distributions is accumulated, with top-1 agreement and REF's perplexity:
// perplexity alone hides errors that cancel out, the per-position divergence does not.
#include <cwm/cwm.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "attention_options.hpp"
#include "commands.hpp"

namespace cwm_cli {

namespace {

struct PerplexityOptions {
    std::string model, file, dump_logits, dump_tokens, kl_reference;
    int ctx = 512, threads = 0, chunks = -1;
    AttentionOptions attention;  // for the model and the reference alike
};

// log softmax(l)[i] = double(l[i] - max) - log_sum: the same float subtraction and double
// exponentials llama-perplexity uses, shared by the nll and the KL divergence.
struct LogSoftmax {
    float max = 0;
    double log_sum = 0;
    explicit LogSoftmax(std::span<const float> logits) {
        max = *std::max_element(logits.begin(), logits.end());
        double sum_exp = 0.0;
        for (float l : logits) sum_exp += std::exp(double(l - max));
        log_sum = std::log(sum_exp);
    }
    double operator()(float logit) const { return double(logit - max) - log_sum; }
};

double token_nll(std::span<const float> logits, cwm::token target) {
    return -LogSoftmax(logits)(logits[size_t(target)]);
}

// Divergence of the model from the reference over the scored positions.
struct KlStats {
    double sum = 0, sum_sq = 0, ref_nll = 0;
    size_t top1 = 0, count = 0;

    void add(std::span<const float> model, std::span<const float> ref, cwm::token target) {
        const LogSoftmax log_q(model), log_p(ref);
        double kl = 0;
        for (size_t i = 0; i < ref.size(); ++i) {
            const double lp = log_p(ref[i]);
            kl += std::exp(lp) * (lp - log_q(model[i]));
        }
        sum += kl;
        sum_sq += kl * kl;
        ref_nll -= log_p(ref[size_t(target)]);
        top1 += std::max_element(model.begin(), model.end()) - model.begin() ==
                std::max_element(ref.begin(), ref.end()) - ref.begin();
        ++count;
    }
    void print() const {
        const double mean = sum / double(count);
        const double var = count > 1 ? std::max(0.0, (sum_sq - sum * mean) / double(count - 1)) : 0.0;
        std::printf("kld=%.9g kld_se=%.9g top1=%.6f ref_ppl=%.6f\n", mean, std::sqrt(var / double(count)),
                    double(top1) / double(count), std::exp(ref_nll / double(count)));
    }
};

// The model a perplexity run compares against, evaluated on the same chunks.
struct Reference {
    cwm::model model;
    cwm::context context;
    Reference(const PerplexityOptions& o, const cwm_context_params& params)
        : model(load_model(o.kl_reference, o.attention)), context(model, params) {}
};

cwm_context_params chunk_params(const PerplexityOptions& o) {
    auto params = cwm::context::default_params();
    params.n_ctx = uint32_t(o.ctx);
    params.n_threads = o.threads;
    params.n_batch = uint32_t(o.ctx);
    return params;
}

// Evaluates a chunk from an empty KV cache, keeping the logits of its last `n_logits` positions.
void evaluate(cwm::context& context, const std::vector<cwm::token>& chunk, size_t n_logits) {
    context.clear();
    context.decode(chunk, n_logits);
}

// Loads --kl-reference and checks it reads the text as the same tokens with the same vocabulary,
// without which the two distributions are not comparable position by position.
std::unique_ptr<Reference> load_reference(const PerplexityOptions& o, const cwm::model& model, const std::string& text,
                                          const std::vector<cwm::token>& tokens) {
    if (o.kl_reference.empty()) return nullptr;
    auto ref = std::make_unique<Reference>(o, chunk_params(o));
    const uint32_t n_vocab = model.info().n_vocab, ref_vocab = ref->model.info().n_vocab;
    if (n_vocab != ref_vocab)
        throw std::runtime_error("--kl-reference: vocabulary sizes differ (" + std::to_string(n_vocab) + " in " + o.model +
                                 ", " + std::to_string(ref_vocab) + " in " + o.kl_reference + ")");
    if (ref->model.tokenize(text, true, false) != tokens)
        throw std::runtime_error("--kl-reference: " + o.kl_reference + " tokenizes the text differently from " + o.model);
    return ref;
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
    const cwm::model model = load_model(o.model, o.attention);
    std::string text = read_file(o.file);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    const auto tokens = model.tokenize(text, true, false);
    if (!o.dump_tokens.empty()) write_lines(o.dump_tokens, tokens, "%d\n");
    const size_t ctx = size_t(o.ctx);
    if (tokens.size() < 2 * ctx)
        throw std::runtime_error("need at least " + std::to_string(2 * ctx) + " tokens for ctx=" + std::to_string(ctx) +
                                 ", the text has " + std::to_string(tokens.size()));
    const size_t n_chunks = o.chunks < 0 ? tokens.size() / ctx : std::min(size_t(o.chunks), tokens.size() / ctx);
    cwm::context context(model, chunk_params(o));
    const auto ref = load_reference(o, model, text, tokens);
    KlStats kl;
    const cwm_model_info info = model.info();
    const size_t first = ctx / 2;
    double nll = 0.0;
    size_t count = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t k = 0; k < n_chunks; ++k) {
        std::vector<cwm::token> chunk(tokens.begin() + long(k * ctx), tokens.begin() + long((k + 1) * ctx));
        if (info.bos >= 0) chunk[0] = info.bos;
        evaluate(context, chunk, ctx - first);
        if (ref) evaluate(ref->context, chunk, ctx - first);
        for (size_t j = first; j + 1 < ctx; ++j, ++count) {
            nll += token_nll(context.logits(j - first), chunk[j + 1]);
            if (ref) kl.add(context.logits(j - first), ref->context.logits(j - first), chunk[j + 1]);
        }
        if (k == 0 && !o.dump_logits.empty()) write_lines(o.dump_logits, context.logits(ctx - 1 - first), "%.9g\n");
        std::fprintf(stderr, "[%zu]%.4f%s", k + 1, std::exp(nll / double(count)), k + 1 == n_chunks ? "\n" : ",");
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "cwm: %.2f s for %zu chunks (%.1f tokens/s)\n", seconds, n_chunks,
                 double(n_chunks * ctx) / seconds);
    std::printf("ppl=%.6f tokens=%zu\n", std::exp(nll / double(count)), count);
    if (ref) kl.print();
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
    app->add_option("--kl-reference", opts->kl_reference,
                    "also run this model (e.g. the f16 source; loaded with the same --attention) and report "
                    "KL(P_ref || P_model), top-1 agreement and its ppl");
    add_attention_options(app, opts->attention);
    return {app, [opts] { return run_perplexity(*opts); }};
}

}  // namespace cwm_cli
