#include "hf_config.hpp"

#include <cmath>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "error.hpp"

namespace cwm {

namespace {

using json = nlohmann::json;

// CWM's published values (cwm-model.md; the window is model_config.hpp's kCwmWindow), used for
// what a config leaves out.
constexpr uint32_t kCwmContext = 131072;
constexpr float kCwmTheta = 1e6f;

// Typed access to the keys of one JSON object, with errors that name the file and key and
// defaults that are recorded.
class Keys {
public:
    Keys(const json& object, std::string path, std::string prefix, std::vector<std::string>& defaults)
        : object_(object), path_(std::move(path)), prefix_(std::move(prefix)), defaults_(defaults) {}

    bool has(const char* key) const { return object_.contains(key) && !object_.at(key).is_null(); }
    const json& at(const char* key) const { return object_.at(key); }

    uint32_t u32(const char* key) const {
        if (!has(key)) bad(key, "is missing");
        return checked_u32(key);
    }

    uint32_t u32_or(const char* key, uint32_t fallback, const char* why) const {
        if (has(key)) return checked_u32(key);
        note(key, std::to_string(fallback), why);
        return fallback;
    }

    double number_or(const char* key, double fallback, const char* why) const {
        if (!has(key)) {
            note(key, format(fallback), why);
            return fallback;
        }
        const json& v = object_.at(key);
        if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() <= 0) bad(key, "must be a positive number");
        return v.get<double>();
    }

    bool bool_or(const char* key, bool fallback) const {
        if (!has(key)) return fallback;
        if (!object_.at(key).is_boolean()) bad(key, "must be true or false");
        return object_.at(key).get<bool>();
    }

    std::string string_or(const char* key, const std::string& fallback) const {
        if (!has(key)) return fallback;
        if (!object_.at(key).is_string()) bad(key, "must be a string");
        return object_.at(key).get<std::string>();
    }

    [[noreturn]] void bad(const char* key, const std::string& what, Status status = Status::invalid_file) const {
        fail(status, path_ + ": '" + prefix_ + key + "' " + what);
    }

private:
    uint32_t checked_u32(const char* key) const {
        const json& v = object_.at(key);
        if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > int64_t(UINT32_MAX))
            bad(key, "must be a positive integer");
        return uint32_t(v.get<int64_t>());
    }

    void note(const char* key, const std::string& value, const char* why) const {
        defaults_.push_back(prefix_ + key + ": absent, using " + value + " (" + why + ")");
    }

    static std::string format(double v) {
        std::ostringstream s;
        s << v;
        return s.str();
    }

    const json& object_;
    std::string path_, prefix_;
    std::vector<std::string>& defaults_;
};

json parse_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(Status::io_error, path + ": cannot open config.json");
    try {
        json root = json::parse(in);
        if (!root.is_object()) fail(Status::invalid_file, path + ": config.json is not a JSON object");
        return root;
    } catch (const json::exception& e) {
        fail(Status::invalid_file, path + ": config.json is not valid JSON: " + e.what());
    }
}

void read_shape(HfConfig& hf, const Keys& keys) {
    ModelConfig& c = hf.model;
    c.n_embd = keys.u32("hidden_size");
    c.n_ff = keys.u32("intermediate_size");
    c.n_layer = keys.u32("num_hidden_layers");
    c.n_head = keys.u32("num_attention_heads");
    c.n_head_kv = keys.u32_or("num_key_value_heads", c.n_head, "as many as query heads: no grouping");
    if (c.n_head % c.n_head_kv != 0) keys.bad("num_attention_heads", "is not a multiple of num_key_value_heads");
    const bool divisible = c.n_embd % c.n_head == 0;
    c.head_dim = keys.has("head_dim") || !divisible ? keys.u32("head_dim") : c.n_embd / c.n_head;
    if (c.head_dim % 2 != 0 || c.head_dim > 1024) keys.bad("head_dim", "must be even and at most 1024");
    c.rope_dim = c.head_dim;
    c.n_ctx_train = keys.u32_or("max_position_embeddings", kCwmContext, "CWM's context");
    c.rms_eps = float(keys.number_or("rms_norm_eps", 1e-5, "CWM's RMSNorm epsilon"));
    hf.vocab_size = keys.u32("vocab_size");
    hf.tie_word_embeddings = keys.bool_or("tie_word_embeddings", false);
    if (keys.bool_or("attention_bias", false)) keys.bad("attention_bias", "is true: biases are not supported", Status::unsupported);
    if (keys.bool_or("mlp_bias", false)) keys.bad("mlp_bias", "is true: biases are not supported", Status::unsupported);
    const std::string act = keys.string_or("hidden_act", "silu");
    if (act != "silu") keys.bad("hidden_act", "is '" + act + "': only silu (SwiGLU) is supported", Status::unsupported);
}

// RoPE parameters from either form: transformers' newer `rope_parameters` (theta inside) or
// the older `rope_scaling` with a top-level `rope_theta`.
void read_rope(HfConfig& hf, const json& root, const std::string& path, std::vector<std::string>& defaults) {
    ModelConfig& c = hf.model;
    const Keys top(root, path, "", defaults);
    const bool new_form = top.has("rope_parameters");
    const char* block = new_form ? "rope_parameters" : "rope_scaling";
    if (top.has(block) && !top.at(block).is_object()) top.bad(block, "must be an object");
    static const json kEmpty = json::object();
    const json* params = top.has(block) ? &top.at(block) : &kEmpty;
    // Per-layer-type RoPE (transformers' newest form) must agree: CWM's layers share one.
    if (params->contains("full_attention")) {
        if (params->contains("sliding_attention") && params->at("sliding_attention") != params->at("full_attention"))
            top.bad(block, "gives local and global layers different RoPE (not supported)", Status::unsupported);
        params = &params->at("full_attention");
        if (!params->is_object()) top.bad(block, "full_attention entry must be an object");
    }
    const Keys rope(*params, path, std::string(block) + ".", defaults);
    c.rope_theta = float(new_form ? rope.number_or("rope_theta", kCwmTheta, "CWM's RoPE theta")
                                  : top.number_or("rope_theta", kCwmTheta, "CWM's RoPE theta"));
    if (root.contains(block) && root.at(block).is_null()) return;  // explicitly no scaling
    if (!top.has(block)) {
        defaults.push_back(std::string(block) + ": absent, using CWM's llama3 scaling (factor 16, low 1, high 4, original 8192)");
        c.rope_scaling = {RopeScaling::Kind::llama3, 16.0f, 1.0f, 4.0f, 8192};
        return;
    }
    const std::string type = rope.has("rope_type") ? rope.string_or("rope_type", "") : rope.string_or("type", "default");
    RopeScaling& s = c.rope_scaling;
    if (type == "default") {
        s.kind = RopeScaling::Kind::none;
    } else if (type == "linear") {
        s.kind = RopeScaling::Kind::linear;
        s.factor = float(rope.number_or("factor", 1.0, "no scaling"));
    } else if (type == "llama3") {
        s.kind = RopeScaling::Kind::llama3;
        s.factor = float(rope.number_or("factor", 16.0, "CWM's"));
        s.low_freq_factor = float(rope.number_or("low_freq_factor", 1.0, "CWM's"));
        s.high_freq_factor = float(rope.number_or("high_freq_factor", 4.0, "CWM's"));
        s.original_context = rope.u32_or("original_max_position_embeddings", 8192, "CWM's");
        if (s.high_freq_factor <= s.low_freq_factor) rope.bad("high_freq_factor", "must exceed low_freq_factor");
    } else {
        rope.bad("rope_type", "is '" + type + "': supported are default, linear and llama3", Status::unsupported);
    }
}

void read_layer_types(HfConfig& hf, const Keys& keys, std::vector<std::string>& defaults) {
    ModelConfig& c = hf.model;
    c.window = keys.u32_or("sliding_window", kCwmWindow, "CWM's window");
    if (!keys.has("layer_types")) {
        defaults.push_back("layer_types: absent, using CWM's pattern (layer i global when i % 4 == 0, and the last)");
        c.layer_is_local = cwm_default_local_layers(c.n_layer);
        return;
    }
    const json& types = keys.at("layer_types");
    if (!types.is_array() || types.size() != c.n_layer)
        keys.bad("layer_types", "must be a list of one entry per layer (" + std::to_string(c.n_layer) + ")");
    c.layer_is_local.assign(c.n_layer, false);
    for (uint32_t i = 0; i < c.n_layer; ++i) {
        const std::string t = types[i].is_string() ? types[i].get<std::string>() : "";
        if (t != "full_attention" && t != "sliding_attention")
            keys.bad("layer_types", "entry " + std::to_string(i) + " is not \"full_attention\" or \"sliding_attention\"");
        c.layer_is_local[i] = t == "sliding_attention";
    }
}

}  // namespace

HfConfig read_hf_config(const std::string& path) {
    const json root = parse_config(path);
    HfConfig hf;
    const Keys keys(root, path, "", hf.defaults);
    hf.model_type = keys.string_or("model_type", "");
    if (hf.model_type != "cwm" && hf.model_type != "llama")
        keys.bad("model_type", "is '" + hf.model_type + "': expected cwm or llama (a CWM checkpoint)", Status::unsupported);
    hf.model.arch = "cwm";
    hf.model.pair_layout = RopePairLayout::rotate_half;
    read_shape(hf, keys);
    read_rope(hf, root, path, hf.defaults);
    read_layer_types(hf, keys, hf.defaults);
    return hf;
}

}  // namespace cwm
