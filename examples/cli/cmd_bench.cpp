// cwm bench: prompt-processing (pp N) and token-generation (tg N) throughput, measured as
// llama-bench measures them: pp = one decode of N tokens into an empty context; tg = N
// single-token decodes from an empty context. One warm-up of each, then `repetitions`
// rounds that interleave pp and tg; the reported figure is the median tokens/s. Time to first
// token is the pp time plus one decode after it.
#include <cwm/cwm.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "commands.hpp"

namespace cwm_cli {

namespace {

struct BenchOptions {
    std::string model;
    int prompt = 512, generate = 128, threads = 0, repetitions = 3;
    bool json = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

std::vector<cwm::token> random_tokens(const cwm_model_info& info, size_t n) {
    std::mt19937 rng(42);
    std::vector<cwm::token> t(n);
    for (auto& x : t) x = cwm::token(rng() % info.n_vocab);
    if (info.bos >= 0 && n) t[0] = info.bos;
    return t;
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
    return out + "\"";
}

struct Round {
    double pp_seconds = 0, ttft_seconds = 0, tg_seconds = 0;
};

Round run_round(const BenchOptions& o, cwm::context& pp_ctx, cwm::context& tg_ctx, const std::vector<cwm::token>& tokens) {
    Round r;
    if (o.prompt > 0) {
        pp_ctx.clear();
        auto t0 = std::chrono::steady_clock::now();
        pp_ctx.decode(std::span(tokens).first(size_t(o.prompt)), 1);
        r.pp_seconds = seconds_since(t0);
        pp_ctx.decode(std::span(tokens).subspan(size_t(o.prompt), 1), 1);
        r.ttft_seconds = seconds_since(t0);
    }
    if (o.generate > 0) {
        tg_ctx.clear();
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < o.generate; ++i) tg_ctx.decode(std::span(tokens).subspan(size_t(i), 1), 1);
        r.tg_seconds = seconds_since(t0);
    }
    return r;
}

int run_bench(const BenchOptions& o) {
    const cwm::model model(o.model);
    const cwm_model_info info = model.info();
    const auto tokens = random_tokens(info, size_t(std::max(o.prompt + 1, o.generate)));
    auto params = cwm::context::default_params();
    params.n_threads = o.threads;
    params.n_ctx = uint32_t(o.prompt + 1);
    params.n_batch = uint32_t(std::max(o.prompt, 1));
    cwm::context pp_ctx(model, params);
    params.n_ctx = uint32_t(std::max(o.generate, 1));
    cwm::context tg_ctx(model, params);

    run_round({o.model, std::min(o.prompt, 16), std::min(o.generate, 1)}, pp_ctx, tg_ctx, tokens);  // warm-up
    std::vector<double> pp, tg, ttft;
    for (int r = 0; r < o.repetitions; ++r) {
        const Round round = run_round(o, pp_ctx, tg_ctx, tokens);
        if (o.prompt > 0) pp.push_back(o.prompt / round.pp_seconds), ttft.push_back(round.ttft_seconds);
        if (o.generate > 0) tg.push_back(o.generate / round.tg_seconds);
        std::fprintf(stderr, "rep %d: pp %.2f t/s, tg %.2f t/s\n", r + 1, pp.empty() ? 0 : pp.back(),
                     tg.empty() ? 0 : tg.back());
    }
    if (o.json) {
        std::printf("{\"model\": %s, \"threads\": %d, \"repetitions\": %d, \"pp_tokens\": %d, \"pp_tps\": %.3f, "
                    "\"ttft_s\": %.4f, \"tg_tokens\": %d, \"tg_tps\": %.3f}\n",
                    json_string(o.model).c_str(), pp_ctx.n_threads(), o.repetitions, o.prompt, median(pp), median(ttft), o.generate,
                    median(tg));
        return 0;
    }
    std::printf("| model | threads | test | t/s (median of %d) |\n| --- | --- | --- | --- |\n", o.repetitions);
    if (o.prompt > 0) std::printf("| %s | %d | pp%d | %.2f |\n", o.model.c_str(), pp_ctx.n_threads(), o.prompt, median(pp));
    if (o.generate > 0)
        std::printf("| %s | %d | tg%d | %.2f |\n", o.model.c_str(), pp_ctx.n_threads(), o.generate, median(tg));
    if (o.prompt > 0) std::printf("time to first token after a %d-token prompt: %.3f s\n", o.prompt, median(ttft));
    return 0;
}

}  // namespace

Command add_bench(CLI::App& parent) {
    auto opts = std::make_shared<BenchOptions>();
    CLI::App* app = parent.add_subcommand("bench", "Measure prompt processing (pp) and generation (tg) speed");
    app->add_option("-m,--model", opts->model, "GGUF model")->required();
    app->add_option("-p,--prompt", opts->prompt, "prompt tokens for pp (0: skip)")->check(CLI::Range(0, 1 << 20));
    app->add_option("-n,--generate", opts->generate, "tokens for tg (0: skip)")->check(CLI::Range(0, 1 << 20));
    app->add_option("-t,--threads", opts->threads, "threads (0: one per physical core)")->check(CLI::Range(0, 1024));
    app->add_option("-r,--repetitions", opts->repetitions, "measured rounds")->check(CLI::Range(1, 1000));
    app->add_flag("--json", opts->json, "print one JSON object instead of a table");
    return {app, [opts] { return run_bench(*opts); }};
}

}  // namespace cwm_cli
