// cwm info: metadata, tensors, layer layout and memory of a model file.
#include <cwm/cwm.hpp>

#include <algorithm>
#include <cstdio>

#include "attention_options.hpp"
#include "commands.hpp"

namespace cwm_cli {

namespace {

struct InfoOptions {
    std::string model;
    bool all_tensors = false;
    uint32_t ctx = 0;
    AttentionOptions attention;
};

std::string human_bytes(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f %s", bytes, units[u]);
    return buf;
}

// What the FILE says about local/global attention, whatever layout the load applied. Returns
// whether it states one (a `cwm` file always does: without the pattern key, CWM's rule).
bool print_file_layout(const cwm::model& model) {
    const std::string arch = model.meta_value("general.architecture");
    const auto keys = model.meta_keys();
    const bool has_pattern = std::find(keys.begin(), keys.end(), "cwm.attention.sliding_window_pattern") != keys.end();
    const std::string said = arch != "cwm" ? "none (" + arch + " architecture: every layer global)"
                             : has_pattern ? "cwm architecture, explicit pattern (cwm.attention.sliding_window_pattern)"
                                           : "cwm architecture, CWM's default rule (no pattern key)";
    std::printf("attention layout in the file: %s\n", said.c_str());
    return arch == "cwm";
}

// A CWM checkpoint, whatever its architecture says: its vocabulary has CWM's trace tokens, or it
// has CWM-32B's shape.
bool looks_like_cwm(const cwm::model& model, const cwm_model_info& info) {
    const cwm::tokenizer tokenizer = model.get_tokenizer();
    const auto has = [&](const char* text) {
        cwm_token id = -1;
        return cwm_tokenizer_find(tokenizer.get(), text, &id) == CWM_OK;
    };
    const bool trace_tokens = has("<|frame_sep|>") && has("<|trace_context_start|>");
    return trace_tokens || (info.n_layer == 64 && info.n_embd == 6144 && info.n_head == 48 && info.n_head_kv == 8);
}

void print_attention(const cwm::model& model, const cwm_model_info& info, const AttentionOptions& attention) {
    const bool file_has_layout = print_file_layout(model);
    const char* used = attention.layout == "cwm"      ? "CWM's pattern (--attention cwm)"
                       : attention.layout == "global" ? "every layer global (--attention global)"
                                                      : "the file's";
    std::printf("attention layout used: %s\n", used);
    if (!file_has_layout && attention.layout == "file" && looks_like_cwm(model, info))
        std::printf("hint: this file has no local/global layout; CWM checkpoints need --attention cwm "
                    "(or cwm convert-gguf)\n");
}

void print_layout(const cwm::model& model, const cwm_model_info& info) {
    std::string pattern;
    for (uint32_t i = 0; i < info.n_layer; ++i) pattern += model.layer_is_local(i) ? 'L' : 'G';
    std::printf("layers: %u (%u global, %u local", info.n_layer, info.n_layer - info.n_local_layers, info.n_local_layers);
    if (info.n_local_layers) std::printf(", window %u", info.window);
    std::printf(")\nlayout: %s\n", pattern.c_str());
    std::printf("local/global attention: %s\n",
                info.n_local_layers ? "yes (sliding-window layers present)" : "no (every layer attends globally)");
}

void print_memory(const cwm_model_info& info, uint32_t ctx) {
    const double per_position = 2.0 * info.n_head_kv * info.head_dim * 2;  // K and V in f16
    const uint32_t n_global = info.n_layer - info.n_local_layers;
    // A context's local rings hold window + n_batch positions (cwm_context_truncate's slack).
    const uint32_t n_batch = cwm::context::default_params().n_batch;
    const double local_positions = info.n_local_layers ? std::min(ctx, info.window + n_batch) : 0;
    const double kv = per_position * (double(n_global) * ctx + info.n_local_layers * local_positions);
    std::printf("memory: file %s, weights %s (mapped)\n", human_bytes(double(info.file_bytes)).c_str(),
                human_bytes(double(info.weight_bytes)).c_str());
    std::printf("kv cache at %u tokens: %s (f16; local layers keep a ring of window + n_batch %u positions)\n", ctx,
                human_bytes(kv).c_str(), n_batch);
}

int run_info(const InfoOptions& o) {
    const cwm::model model = load_model(o.model, o.attention);
    const cwm_model_info info = model.info();
    std::printf("architecture: %s\nvocabulary: %u tokens (bos %d, eos %d)\n", info.arch, info.n_vocab, info.bos, info.eos);
    std::printf("embedding %u, feed-forward %u, heads %u (kv %u, dim %u), context %u\n", info.n_embd, info.n_ff,
                info.n_head, info.n_head_kv, info.head_dim, info.n_ctx_train);
    print_layout(model, info);
    print_attention(model, info, o.attention);
    print_memory(info, o.ctx ? o.ctx : info.n_ctx_train);
    const auto keys = model.meta_keys();
    std::printf("\nmetadata (%zu keys):\n", keys.size());
    for (const auto& key : keys) std::printf("  %-45s %s\n", key.c_str(), model.meta_value(key, 8).c_str());
    const auto tensors = model.tensors();
    std::printf("\ntensors (%zu):\n", tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
        if (!o.all_tensors && i >= 24 && i + 1 < tensors.size()) {
            std::printf("  ... %zu more (--all-tensors lists them)\n", tensors.size() - i);
            break;
        }
        const auto& t = tensors[i];
        std::string shape;
        for (size_t d = 0; d < t.ne.size(); ++d) shape += (d ? " x " : "") + std::to_string(t.ne[d]);
        std::printf("  %-32s %-6s %-20s %s\n", t.name.c_str(), t.type.c_str(), shape.c_str(),
                    human_bytes(double(t.n_bytes)).c_str());
    }
    return 0;
}

}  // namespace

Command add_info(CLI::App& parent) {
    auto opts = std::make_shared<InfoOptions>();
    CLI::App* app = parent.add_subcommand("info", "Show a model's metadata, tensors, layer layout and memory");
    app->add_option("-m,--model,model", opts->model, "GGUF model")->required();
    app->add_flag("--all-tensors", opts->all_tensors, "list every tensor");
    app->add_option("-c,--ctx", opts->ctx, "context length for the KV-cache estimate (default: the model's)");
    add_attention_options(app, opts->attention);
    return {app, [opts] { return run_info(*opts); }};
}

}  // namespace cwm_cli
