// cwm bench: prompt-processing (pp N) and token-generation (tg N) throughput, measured as
// llama-bench measures them: pp = one decode of N tokens into an empty context; tg = N
// single-token decodes from an empty context. One warm-up of each, then `repetitions`
// rounds that interleave pp and tg; the reported figure is the median tokens/s. Time to first
// token is the pp time plus one decode after it.
//
// With a model and tg, it also measures the machine's memory read bandwidth and reports the
// decode roofline: decoding reads every weight matrix once per token (plus one embedding row
// and the KV cache so far), so tokens/s can be at most bandwidth / bytes read per token. The
// bandwidth is measured before every repetition and the median taken, because on a shared
// machine it drifts (this project's VM moves between ~36 and ~56 GB/s within minutes): a
// single measurement made at another moment than the decodes gave "rooflines" of 60-140%.
#include <cwm/cwm.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "attention_options.hpp"
#include "commands.hpp"

namespace cwm_cli {

namespace {

struct BenchOptions {
    std::string model;
    int prompt = 512, generate = 128, threads = 0, repetitions = 3, bandwidth_mib = 1024;
    bool json = false, bandwidth = false;
    AttentionOptions attention = {};  // initialised: run_round copies the options with a brace list
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

// Bytes of weights read to generate one token: every tensor but the embedding table (all
// layer matrices, norms and output.weight), plus the one embedding row the token looks up.
double weight_bytes_per_token(const cwm::model& model, const cwm_model_info& info) {
    double bytes = 0;
    for (const cwm::tensor_info& t : model.tensors())
        bytes += t.name == "token_embd.weight" ? double(t.n_bytes) / info.n_vocab : double(t.n_bytes);
    return bytes;
}

// Mean bytes read per token over `n` tokens generated from an empty context: the weights plus
// the f16 keys and values of the cached positions each token attends to (a local layer's
// token sees at most window - 1 of them; its own key and value are not read from the cache).
double bytes_per_token(const cwm::model& model, const cwm_model_info& info, int n) {
    const double kv_bytes_per_position = 2.0 * info.n_head_kv * info.head_dim * 2;  // K and V, f16
    double kv = 0;
    for (uint32_t layer = 0; layer < info.n_layer; ++layer) {
        const bool local = model.layer_is_local(layer);
        for (int past = 0; past < n; ++past)
            kv += kv_bytes_per_position * (local ? std::min<double>(past, info.window - 1) : past);
    }
    return weight_bytes_per_token(model, info) + kv / n;
}

double measure_bandwidth(const BenchOptions& o) {
    return cwm::measure_read_bandwidth(size_t(o.bandwidth_mib) << 20, o.threads);
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

struct Summary {
    double pp_tps = 0, ttft_s = 0, tg_tps = 0;
    double bandwidth_gbs = 0, bytes_per_token = 0, roofline_tps = 0;  // set when tg ran
    double roofline_pct() const { return roofline_tps > 0 ? 100 * tg_tps / roofline_tps : 0; }
};

void print_json(const BenchOptions& o, int threads, const Summary& s) {
    std::printf("{\"model\": %s, \"threads\": %d, \"repetitions\": %d, \"pp_tokens\": %d, \"pp_tps\": %.3f, "
                "\"ttft_s\": %.4f, \"tg_tokens\": %d, \"tg_tps\": %.3f",
                json_string(o.model).c_str(), threads, o.repetitions, o.prompt, s.pp_tps, s.ttft_s, o.generate, s.tg_tps);
    if (s.bandwidth_gbs > 0) std::printf(", \"bandwidth_gbs\": %.3f", s.bandwidth_gbs);
    if (s.roofline_tps > 0)
        std::printf(", \"tg_bytes_per_token\": %.0f, \"tg_roofline_tps\": %.3f, \"tg_roofline_pct\": %.4g",
                    s.bytes_per_token, s.roofline_tps, s.roofline_pct());
    std::printf("}\n");
}

void print_table(const BenchOptions& o, int threads, const Summary& s) {
    std::printf("| model | threads | test | t/s (median of %d) | roofline t/s | %% of roofline |\n"
                "| --- | --- | --- | --- | --- | --- |\n",
                o.repetitions);
    if (o.prompt > 0) std::printf("| %s | %d | pp%d | %.2f | | |\n", o.model.c_str(), threads, o.prompt, s.pp_tps);
    if (o.generate > 0)
        std::printf("| %s | %d | tg%d | %.2f | %.2f | %.1f |\n", o.model.c_str(), threads, o.generate, s.tg_tps,
                    s.roofline_tps, s.roofline_pct());
    if (o.prompt > 0) std::printf("time to first token after a %d-token prompt: %.3f s\n", o.prompt, s.ttft_s);
    if (s.bandwidth_gbs > 0)
        std::printf("memory read bandwidth: %.2f GB/s (median of one measurement per repetition)\n", s.bandwidth_gbs);
    if (o.generate > 0)
        std::printf("roofline: %.2f GB/s / %.3f MB read per generated token (mean over tg%d)\n", s.bandwidth_gbs,
                    s.bytes_per_token / 1e6, o.generate);
}

int run_bench(const BenchOptions& o) {
    const cwm::model model = load_model(o.model, o.attention);
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
    std::vector<double> pp, tg, ttft, bandwidth;
    for (int r = 0; r < o.repetitions; ++r) {
        if (o.generate > 0 || o.bandwidth) bandwidth.push_back(measure_bandwidth(o));
        const Round round = run_round(o, pp_ctx, tg_ctx, tokens);
        if (o.prompt > 0) pp.push_back(o.prompt / round.pp_seconds), ttft.push_back(round.ttft_seconds);
        if (o.generate > 0) tg.push_back(o.generate / round.tg_seconds);
        std::fprintf(stderr, "rep %d: pp %.2f t/s, tg %.2f t/s\n", r + 1, pp.empty() ? 0 : pp.back(),
                     tg.empty() ? 0 : tg.back());
    }
    Summary sum{median(pp), median(ttft), median(tg)};
    sum.bandwidth_gbs = median(bandwidth);
    if (o.generate > 0) {
        sum.bytes_per_token = bytes_per_token(model, info, o.generate);
        sum.roofline_tps = sum.bandwidth_gbs * 1e9 / sum.bytes_per_token;
    }
    if (o.json)
        print_json(o, pp_ctx.n_threads(), sum);
    else
        print_table(o, pp_ctx.n_threads(), sum);
    return 0;
}

int run_bandwidth_only(const BenchOptions& o) {
    const double gbs = measure_bandwidth(o);
    if (o.json)
        std::printf("{\"bandwidth_gbs\": %.3f, \"bandwidth_bytes\": %zu}\n", gbs, size_t(o.bandwidth_mib) << 20);
    else
        std::printf("memory read bandwidth: %.2f GB/s (%d MiB buffer, best of 5 passes)\n", gbs, o.bandwidth_mib);
    return 0;
}

}  // namespace

Command add_bench(CLI::App& parent) {
    auto opts = std::make_shared<BenchOptions>();
    CLI::App* app = parent.add_subcommand("bench", "Measure prompt processing (pp) and generation (tg) speed");
    app->add_option("-m,--model", opts->model, "GGUF model (required unless --bandwidth)");
    app->add_option("-p,--prompt", opts->prompt, "prompt tokens for pp (0: skip)")->check(CLI::Range(0, 1 << 20));
    app->add_option("-n,--generate", opts->generate, "tokens for tg (0: skip)")->check(CLI::Range(0, 1 << 20));
    app->add_option("-t,--threads", opts->threads, "threads (0: one per physical core)")->check(CLI::Range(0, 1024));
    app->add_option("-r,--repetitions", opts->repetitions, "measured rounds")->check(CLI::Range(1, 1000));
    app->add_flag("--json", opts->json, "print one JSON object instead of a table");
    app->add_flag("--bandwidth", opts->bandwidth, "measure and print the memory read bandwidth (alone without -m)");
    app->add_option("--bandwidth-mib", opts->bandwidth_mib, "buffer size of the bandwidth test (MiB)")
        ->check(CLI::Range(1, 1 << 20));
    add_attention_options(app, opts->attention);
    return {app, [opts] {
                if (opts->model.empty() && !opts->bandwidth) throw std::runtime_error("bench needs -m MODEL or --bandwidth");
                return opts->model.empty() ? run_bandwidth_only(*opts) : run_bench(*opts);
            }};
}

}  // namespace cwm_cli
