#include "model_config.hpp"

#include <cmath>
#include <numbers>

#include "error.hpp"
#include "gguf.hpp"

namespace cwm {

namespace {

// Typed lookups of `<arch>.<name>` keys with messages that name the key.
class ArchKeys {
public:
    ArchKeys(const GgufFile& file, std::string arch) : file_(file), arch_(std::move(arch)) {}

    const GgufValue* find(const std::string& name) const { return file_.find(arch_ + "." + name); }

    uint32_t u32(const std::string& name) const {
        const GgufValue* v = find(name);
        if (!v) fail(Status::invalid_file, file_.path() + ": missing key '" + key(name) + "'");
        return checked_u32(name, *v);
    }

    uint32_t u32_or(const std::string& name, uint32_t fallback) const {
        const GgufValue* v = find(name);
        return v ? checked_u32(name, *v) : fallback;
    }

    float f32_or(const std::string& name, float fallback) const {
        const GgufValue* v = find(name);
        if (!v) return fallback;
        const double d = naming_key(name, [&] { return v->as_float(); });
        if (!std::isfinite(d)) fail(Status::invalid_file, file_.path() + ": key '" + key(name) + "' is not finite");
        return float(d);
    }

    // Runs a GgufValue conversion, adding the file and key to its type-mismatch message.
    template <typename Convert>
    auto naming_key(const std::string& name, Convert&& convert) const -> decltype(convert()) {
        try {
            return convert();
        } catch (const Error& e) {
            fail(e.status(), file_.path() + ": key '" + key(name) + "': " + e.what());
        }
    }

private:
    std::string key(const std::string& name) const { return arch_ + "." + name; }

    uint32_t checked_u32(const std::string& name, const GgufValue& v) const {
        const uint64_t x = naming_key(name, [&] { return v.as_uint(); });
        if (x > UINT32_MAX) fail(Status::invalid_file, file_.path() + ": key '" + key(name) + "' is too large");
        return uint32_t(x);
    }

    const GgufFile& file_;
    std::string arch_;
};

void require(bool ok, const GgufFile& file, const std::string& what) {
    if (!ok) fail(Status::invalid_file, file.path() + ": " + what);
}

void read_rope(ModelConfig& c, const ArchKeys& keys, const GgufFile& file) {
    c.rope_theta = keys.f32_or("rope.freq_base", 10000.0f);
    c.rope_dim = keys.u32_or("rope.dimension_count", c.head_dim);
    require(c.rope_theta > 0, file, "rope.freq_base must be positive");
    require(c.rope_dim % 2 == 0 && c.rope_dim <= c.head_dim, file,
            "rope.dimension_count must be even and at most the head dimension");
    if (const GgufValue* type = keys.find("rope.scaling.type")) {
        const std::string t = keys.naming_key("rope.scaling.type", [&] { return type->as_string(); });
        if (t == "linear") {
            c.rope_scaling.kind = RopeScaling::Kind::linear;
            c.rope_scaling.factor = keys.f32_or("rope.scaling.factor", 1.0f);
            require(c.rope_scaling.factor > 0, file, "rope.scaling.factor must be positive");
        } else if (t == "llama3") {
            c.rope_scaling.kind = RopeScaling::Kind::llama3;
            c.rope_scaling.factor = keys.f32_or("rope.scaling.factor", 8.0f);
            c.rope_scaling.low_freq_factor = keys.f32_or("rope.scaling.low_freq_factor", 1.0f);
            c.rope_scaling.high_freq_factor = keys.f32_or("rope.scaling.high_freq_factor", 4.0f);
            c.rope_scaling.original_context = keys.u32_or("rope.scaling.original_context_length", 8192);
            const RopeScaling& s = c.rope_scaling;
            require(s.factor > 0 && s.low_freq_factor > 0 && s.high_freq_factor > s.low_freq_factor &&
                        s.original_context > 0,
                    file, "invalid llama3 rope scaling parameters");
        } else if (t != "none") {
            fail(Status::unsupported, file.path() + ": unsupported rope.scaling.type '" + t + "'");
        }
    }
}

void read_layer_pattern(ModelConfig& c, const ArchKeys& keys, const GgufFile& file) {
    c.layer_is_local.assign(c.n_layer, false);
    c.file_layout = "llama: all global";
    if (c.arch != "cwm") return;
    c.window = keys.u32_or("attention.sliding_window", kCwmWindow);
    require(c.window > 0, file, "cwm.attention.sliding_window must be positive");
    if (const GgufValue* pattern = keys.find("attention.sliding_window_pattern")) {
        const auto& items =
            keys.naming_key("attention.sliding_window_pattern", [&] { return &pattern->as_array().items; });
        require(items->size() == c.n_layer, file,
                "cwm.attention.sliding_window_pattern has " + std::to_string(items->size()) + " entries for " +
                    std::to_string(c.n_layer) + " layers");
        for (uint32_t i = 0; i < c.n_layer; ++i)
            c.layer_is_local[i] =
                keys.naming_key("attention.sliding_window_pattern", [&] { return (*items)[i].as_bool(); });
        c.file_layout = "cwm: sliding_window_pattern key";
    } else {
        c.layer_is_local = cwm_default_local_layers(c.n_layer);
        c.file_layout = "cwm: CWM's default rule";
    }
    if (const GgufValue* layout = keys.find("rope.pair_layout")) {
        const std::string l = keys.naming_key("rope.pair_layout", [&] { return layout->as_string(); });
        if (l == "rotate_half")
            c.pair_layout = RopePairLayout::rotate_half;
        else
            require(l == "interleaved", file, "unknown cwm.rope.pair_layout '" + l + "'");
    }
}

}  // namespace

std::vector<bool> cwm_default_local_layers(uint32_t n_layer) {
    std::vector<bool> local(n_layer);
    for (uint32_t i = 0; i < n_layer; ++i) local[i] = (i % 4 != 0) && (i + 1 != n_layer);
    return local;
}

void apply_attention_layout(ModelConfig& c, AttentionLayout layout, uint32_t window) {
    if (window != 0 && layout != AttentionLayout::cwm)
        fail(Status::invalid_argument, "a sliding window can only be given with the cwm attention layout");
    if (window > c.n_ctx_train)
        fail(Status::invalid_argument, "sliding window " + std::to_string(window) + " is longer than the model's context (" +
                                           std::to_string(c.n_ctx_train) + " tokens)");
    c.applied = layout;
    if (layout == AttentionLayout::cwm) {
        c.layer_is_local = cwm_default_local_layers(c.n_layer);
        c.window = window ? window : kCwmWindow;
    } else if (layout == AttentionLayout::global) {
        c.layer_is_local.assign(c.n_layer, false);
        c.window = 0;  // as for a llama file: no local layers, no window
    }
}

std::string describe_attention_layout(const ModelConfig& c) {
    std::string pattern;
    for (bool local : c.layer_is_local) pattern += local ? 'L' : 'G';
    const uint32_t n_local = c.n_local_layers();
    const char* origin = c.applied == AttentionLayout::cwm      ? "cwm pattern applied by the caller (file says "
                         : c.applied == AttentionLayout::global ? "all global by the caller's choice (file says "
                                                                : "from the file (";
    std::string text = origin + c.file_layout + "): " + std::to_string(c.n_layer - n_local) + " global, " +
                       std::to_string(n_local) + " local";
    if (n_local) text += ", window " + std::to_string(c.window);
    return text + ", layout " + pattern;
}

uint32_t ModelConfig::n_local_layers() const {
    uint32_t n = 0;
    for (bool l : layer_is_local) n += l ? 1 : 0;
    return n;
}

ModelConfig ModelConfig::from_gguf(const GgufFile& file) {
    ModelConfig c;
    try {
        c.arch = file.get("general.architecture").as_string();
    } catch (const Error& e) {
        fail(e.status(), file.path() + ": general.architecture: " + e.what());
    }
    if (c.arch != "llama" && c.arch != "cwm")
        fail(Status::unsupported, file.path() + ": unsupported architecture '" + c.arch + "' (expected llama or cwm)");
    const ArchKeys keys(file, c.arch);
    c.n_layer = keys.u32("block_count");
    c.n_ctx_train = keys.u32("context_length");
    c.n_embd = keys.u32("embedding_length");
    c.n_ff = keys.u32("feed_forward_length");
    c.n_head = keys.u32("attention.head_count");
    c.n_head_kv = keys.u32_or("attention.head_count_kv", c.n_head);
    require(c.n_layer > 0 && c.n_embd > 0 && c.n_ff > 0 && c.n_head > 0 && c.n_ctx_train > 0, file,
            "block_count, embedding_length, feed_forward_length, head_count and context_length must be positive");
    require(c.n_head_kv > 0 && c.n_head % c.n_head_kv == 0, file,
            "attention.head_count (" + std::to_string(c.n_head) + ") must be a multiple of head_count_kv (" +
                std::to_string(c.n_head_kv) + ")");
    c.head_dim = keys.u32_or("attention.key_length", c.n_embd / c.n_head);
    require(c.head_dim > 0 && c.head_dim <= 1024, file, "head dimension must be in 1..1024");
    require(keys.u32_or("attention.value_length", c.head_dim) == c.head_dim, file,
            "attention.value_length differs from key_length (not supported)");
    c.rms_eps = keys.f32_or("attention.layer_norm_rms_epsilon", 1e-5f);
    require(c.rms_eps > 0, file, "attention.layer_norm_rms_epsilon must be positive");
    read_rope(c, keys, file);
    read_layer_pattern(c, keys, file);
    return c;
}

std::vector<double> rope_inv_freqs(const ModelConfig& c, const std::vector<float>* divisors) {
    const uint32_t half = c.rope_dim / 2;
    std::vector<double> inv(half);
    const RopeScaling& s = c.rope_scaling;
    const double low_wavelen = s.original_context / s.low_freq_factor;
    const double high_wavelen = s.original_context / s.high_freq_factor;
    for (uint32_t i = 0; i < half; ++i) {
        const double f = std::pow(double(c.rope_theta), -2.0 * i / double(c.rope_dim));
        if (divisors) {
            inv[i] = f / (*divisors)[i];
            continue;
        }
        if (s.kind != RopeScaling::Kind::llama3) {
            inv[i] = s.kind == RopeScaling::Kind::linear ? f / s.factor : f;
            continue;
        }
        const double wavelen = 2.0 * std::numbers::pi / f;
        if (wavelen < high_wavelen) {
            inv[i] = f;
        } else if (wavelen > low_wavelen) {
            inv[i] = f / s.factor;
        } else {
            const double smooth = (s.original_context / wavelen - s.low_freq_factor) /
                                  (s.high_freq_factor - s.low_freq_factor);
            inv[i] = (1.0 - smooth) * f / s.factor + smooth * f;
        }
    }
    return inv;
}

}  // namespace cwm
