// Header-only C++ API over the C ABI of cwm.h: RAII handles, exceptions from status codes.
// Everything here is inline and calls only cwm_* functions, so a program built with it
// depends on nothing but libcwm.so's stable ABI.
#pragma once

#include <cwm.h>

#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cwm {

using token = cwm_token;

class error : public std::runtime_error {
public:
    error(cwm_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    cwm_status status() const noexcept { return status_; }

private:
    cwm_status status_;
};

// Throws cwm::error carrying the status and the thread's last-error message.
inline void check(cwm_status status) {
    if (status != CWM_OK) throw error(status, std::string(cwm_status_name(status)) + ": " + cwm_last_error());
}

namespace detail {
template <typename T, void (*Free)(T*)>
struct deleter {
    void operator()(T* p) const noexcept { Free(p); }
};

// Calls `fill(buf, size, &len)` twice at most: once to learn the size, once to fill.
template <typename Fill>
std::string read_string(Fill&& fill) {
    std::string out(64, '\0');
    size_t len = 0;
    cwm_status st = fill(out.data(), out.size() + 1, &len);
    if (st == CWM_ERR_BUFFER_TOO_SMALL) {
        out.assign(len, '\0');
        st = fill(out.data(), out.size() + 1, &len);
    }
    check(st);
    out.resize(len);
    return out;
}
}  // namespace detail

struct tensor_info {
    std::string name, type;
    std::vector<uint64_t> ne;
    uint64_t offset, n_bytes;
};

// A tokenizer: loaded on its own (owning) or a model's (a view valid while the model lives).
class tokenizer {
public:
    explicit tokenizer(const std::string& path) {
        cwm_tokenizer* raw = nullptr;
        check(cwm_tokenizer_load(path.c_str(), &raw));
        owned_.reset(raw);
        view_ = raw;
    }
    explicit tokenizer(const cwm_tokenizer* view) : view_(view) {}

    const cwm_tokenizer* get() const { return view_; }
    size_t n_vocab() const { return cwm_tokenizer_n_vocab(view_); }
    token bos() const { return cwm_tokenizer_bos(view_); }
    token eos() const { return cwm_tokenizer_eos(view_); }
    // The id of a token by its exact text, e.g. "<|frame_sep|>".
    token find(const std::string& text) const {
        token id = -1;
        check(cwm_tokenizer_find(view_, text.c_str(), &id));
        return id;
    }

    std::vector<token> encode(std::string_view text, bool add_bos = true, bool parse_special = false) const {
        std::vector<token> ids(text.size() + 2);
        size_t n = 0;
        auto call = [&] {
            return cwm_tokenizer_encode(view_, text.data(), text.size(), add_bos, parse_special, ids.data(), ids.size(), &n);
        };
        cwm_status st = call();
        if (st == CWM_ERR_BUFFER_TOO_SMALL) {
            ids.resize(n);
            st = call();
        }
        check(st);
        ids.resize(n);
        return ids;
    }

    std::string token_bytes(token id, bool render_special = false) const {
        return detail::read_string([&](char* buf, size_t size, size_t* len) {
            return cwm_tokenizer_token_to_bytes(view_, id, render_special, buf, size, len);
        });
    }

    std::string decode(std::span<const token> ids, bool render_special = false) const {
        return detail::read_string([&](char* buf, size_t size, size_t* len) {
            return cwm_tokenizer_decode(view_, ids.data(), ids.size(), render_special, buf, size, len);
        });
    }

    bool is_stop(token id) const { return cwm_tokenizer_is_stop(view_, id) != 0; }

private:
    std::unique_ptr<cwm_tokenizer, detail::deleter<cwm_tokenizer, cwm_tokenizer_free>> owned_;
    const cwm_tokenizer* view_ = nullptr;
};

struct chat_message {
    std::string role, content;
};

// The messages in CWM's chat format (see cwm_chat_render).
inline std::string render_chat(std::span<const chat_message> messages, bool reasoning = false,
                               bool add_generation_prompt = true) {
    std::vector<cwm_chat_message> raw;
    raw.reserve(messages.size());
    for (const chat_message& m : messages) raw.push_back({m.role.c_str(), m.content.c_str()});
    cwm_chat_params params;
    cwm_chat_default_params(&params);
    params.reasoning = reasoning;
    params.add_generation_prompt = add_generation_prompt;
    return detail::read_string([&](char* buf, size_t size, size_t* len) {
        return cwm_chat_render(raw.data(), raw.size(), &params, buf, size, len);
    });
}

using log_fn = std::function<void(cwm_log_level, std::string_view)>;

// How a model is loaded (cwm_model_params), e.g. a community `llama` file of CWM:
//   cwm::model m(path, {.attention = CWM_ATTENTION_CWM});
struct model_options {
    // (Initialised so that designated initializers may leave them out without a warning.)
    std::function<bool(float)> progress = {};  // called with a fraction; returning false cancels
    log_fn log = {};                           // what loading and contexts on the model report
    cwm_attention_layout attention = CWM_ATTENTION_FROM_FILE;  // cwm_model_params.attention
    uint32_t sliding_window = 0;  // with CWM_ATTENTION_CWM: the window (0: CWM's 8192)
};

class model {
public:
    using log_fn = cwm::log_fn;

    // `progress(fraction)` returning false cancels the load (error with CWM_ERR_CANCELLED);
    // `log` receives what loading and contexts on this model report.
    explicit model(const std::string& path, std::function<bool(float)> progress = {}, log_fn log = {})
        : model(path, model_options{std::move(progress), std::move(log)}) {}

    model(const std::string& path, model_options options) : log_(std::make_unique<log_fn>(std::move(options.log))) {
        cwm_model_params params;
        cwm_model_default_params(&params);
        params.attention = options.attention;
        params.sliding_window = options.sliding_window;
        if (options.progress) {
            params.progress = [](float f, void* user) {
                return (*static_cast<std::function<bool(float)>*>(user))(f) ? 0 : 1;
            };
            params.progress_user_data = &options.progress;
        }
        if (*log_) {
            params.log = [](cwm_log_level level, const char* message, void* user) {
                (*static_cast<log_fn*>(user))(level, message);
            };
            params.log_user_data = log_.get();  // stable: contexts created later log through it
        }
        cwm_model* raw = nullptr;
        check(cwm_model_load(path.c_str(), &params, &raw));
        handle_.reset(raw);
    }

    const cwm_model* get() const { return handle_.get(); }

    cwm_model_info info() const {
        cwm_model_info out{};
        out.size = sizeof out;
        check(cwm_model_get_info(get(), &out));
        return out;
    }

    bool layer_is_local(uint32_t layer) const {
        int local = 0;
        check(cwm_model_layer_is_local(get(), layer, &local));
        return local != 0;
    }

    std::vector<std::string> meta_keys() const {
        std::vector<std::string> keys(cwm_model_meta_count(get()));
        for (size_t i = 0; i < keys.size(); ++i) {
            const char* key = nullptr;
            check(cwm_model_meta_key(get(), i, &key));
            keys[i] = key;
        }
        return keys;
    }

    std::string meta_value(const std::string& key, size_t max_items = 0) const {
        return detail::read_string([&](char* buf, size_t size, size_t* len) {
            return cwm_model_meta_value(get(), key.c_str(), max_items, buf, size, len);
        });
    }

    std::vector<tensor_info> tensors() const {
        std::vector<tensor_info> out(cwm_model_tensor_count(get()));
        for (size_t i = 0; i < out.size(); ++i) {
            cwm_tensor_info t{};
            t.size = sizeof t;
            check(cwm_model_tensor_info(get(), i, &t));
            out[i] = {t.name, t.type, std::vector<uint64_t>(t.ne, t.ne + t.n_dims), t.offset, t.n_bytes};
        }
        return out;
    }

    std::vector<token> tokenize(std::string_view text, bool add_bos = true, bool parse_special = false) const {
        std::vector<token> ids(text.size() + 2);
        size_t n = 0;
        cwm_status st = cwm_tokenize(get(), text.data(), text.size(), add_bos, parse_special, ids.data(), ids.size(), &n);
        if (st == CWM_ERR_BUFFER_TOO_SMALL) {
            ids.resize(n);
            st = cwm_tokenize(get(), text.data(), text.size(), add_bos, parse_special, ids.data(), ids.size(), &n);
        }
        check(st);
        ids.resize(n);
        return ids;
    }

    std::string token_bytes(token id, bool render_special = false) const {
        return detail::read_string([&](char* buf, size_t size, size_t* len) {
            return cwm_token_to_bytes(get(), id, render_special, buf, size, len);
        });
    }

    std::string detokenize(std::span<const token> ids, bool render_special = false) const {
        return detail::read_string([&](char* buf, size_t size, size_t* len) {
            return cwm_detokenize(get(), ids.data(), ids.size(), render_special, buf, size, len);
        });
    }

    bool is_stop(token id) const { return cwm_token_is_stop(get(), id) != 0; }

    tokenizer get_tokenizer() const { return tokenizer(cwm_model_get_tokenizer(get())); }

    // The file's own chat template text ("" if none).
    std::string chat_template() const {
        return detail::read_string([&](char* buf, size_t size, size_t* len) {
            return cwm_model_chat_template(get(), buf, size, len);
        });
    }

private:
    std::unique_ptr<log_fn> log_;  // declared first: destroyed after the model that calls it
    std::unique_ptr<cwm_model, detail::deleter<cwm_model, cwm_model_free>> handle_;
};

class sampler {
public:
    explicit sampler(const cwm_sampler_params& params) {
        cwm_sampler* raw = nullptr;
        check(cwm_sampler_new(&params, &raw));
        handle_.reset(raw);
    }
    static cwm_sampler_params default_params() {
        cwm_sampler_params p;
        cwm_sampler_default_params(&p);
        return p;
    }
    cwm_sampler* get() const { return handle_.get(); }

    token sample(std::span<const float> logits) {
        token t = 0;
        check(cwm_sampler_sample(get(), logits.data(), logits.size(), &t));
        return t;
    }
    void accept(token t) { check(cwm_sampler_accept(get(), t)); }

private:
    std::unique_ptr<cwm_sampler, detail::deleter<cwm_sampler, cwm_sampler_free>> handle_;
};

class context {
public:
    explicit context(const model& m, const cwm_context_params& params = default_params()) : n_vocab_(m.info().n_vocab) {
        cwm_context* raw = nullptr;
        check(cwm_context_new(m.get(), &params, &raw));
        handle_.reset(raw);
    }
    static cwm_context_params default_params() {
        cwm_context_params p;
        cwm_context_default_params(&p);
        return p;
    }
    cwm_context* get() const { return handle_.get(); }

    // Evaluates tokens; then logits(i) for i < n_logits are the last n_logits positions.
    void decode(std::span<const token> tokens, size_t n_logits = 1) {
        check(cwm_decode(get(), tokens.data(), tokens.size(), n_logits));
    }
    std::span<const float> logits(size_t i = 0) const {
        const float* p = nullptr;
        check(cwm_get_logits(get(), i, &p));
        return {p, n_vocab_};
    }
    void clear() { cwm_context_clear(get()); }
    // Keeps the first n evaluated tokens (at most max_rewind() back; see cwm_context_truncate).
    void truncate(uint32_t n) { check(cwm_context_truncate(get(), n)); }
    uint32_t max_rewind() const { return cwm_context_max_rewind(get()); }
    // Stops a decode / generate running on this context in another thread (thread-safe).
    void cancel() noexcept { cwm_context_cancel(get()); }
    std::vector<token> tokens() const {
        std::vector<token> out(n_past());
        size_t n = 0;
        check(cwm_context_tokens(get(), out.data(), out.size(), &n));
        out.resize(n);
        return out;
    }

    // The context's state (tokens, KV cache, last logits) as bytes, and back (cwm.h).
    std::vector<uint8_t> save_state() const {
        size_t size = 0;
        check(cwm_context_state_size(get(), &size));
        std::vector<uint8_t> out(size);
        check(cwm_context_state_save(get(), out.data(), out.size(), &size));
        return out;
    }
    void load_state(std::span<const uint8_t> state) { check(cwm_context_state_load(get(), state.data(), state.size())); }
    void save_state_file(const std::string& path) const { check(cwm_context_state_save_file(get(), path.c_str())); }
    void load_state_file(const std::string& path) { check(cwm_context_state_load_file(get(), path.c_str())); }

    uint32_t n_past() const { return cwm_context_n_past(get()); }
    uint32_t n_ctx() const { return cwm_context_n_ctx(get()); }
    int n_threads() const { return cwm_context_n_threads(get()); }

    // Streams whole UTF-8 characters to `on_text(text, token)`; return false to stop.
    // `s` may be null for greedy decoding.
    void generate(std::span<const token> prompt, size_t max_tokens, sampler* s,
                  const std::function<bool(std::string_view, token)>& on_text) {
        auto trampoline = [](const char* text, size_t len, cwm_token t, void* user) {
            return (*static_cast<const std::function<bool(std::string_view, token)>*>(user))({text, len}, t) ? 0 : 1;
        };
        check(cwm_generate(get(), s ? s->get() : nullptr, prompt.data(), prompt.size(), max_tokens, trampoline,
                           const_cast<std::function<bool(std::string_view, token)>*>(&on_text)));
    }

private:
    size_t n_vocab_;
    std::unique_ptr<cwm_context, detail::deleter<cwm_context, cwm_context_free>> handle_;
};

namespace detail {
// Progress of a whole-file job (quantize, convert): (tensors done, count, bytes done, total);
// returning false cancels.
using file_progress_fn = std::function<bool(size_t, size_t, uint64_t, uint64_t)>;
inline int file_progress(size_t done, size_t count, uint64_t bytes, uint64_t total, void* user) {
    return (*static_cast<file_progress_fn*>(user))(done, count, bytes, total) ? 0 : 1;
}
}  // namespace detail

// Quantizes a model file (see cwm_quantize). `progress(tensors_done, n_tensors, bytes_done,
// bytes_total)` returning false cancels.
inline void quantize(const std::string& input, const std::string& output, cwm_weight_type type, int n_threads = 0,
                     detail::file_progress_fn progress = {}) {
    cwm_quantize_params params;
    cwm_quantize_default_params(&params);
    params.type = type;
    params.n_threads = n_threads;
    if (progress) {
        params.progress = detail::file_progress;
        params.progress_user_data = &progress;
    }
    check(cwm_quantize(input.c_str(), output.c_str(), &params));
}

// Converts a Hugging Face checkpoint directory to one GGUF (see cwm_convert_hf).
// `progress(bytes_done, bytes_total)` returning false cancels; `note` receives each assumption
// the conversion made.
inline void convert_hf(const std::string& hf_dir, const std::string& output, cwm_weight_type type = CWM_WEIGHT_BF16,
                       int n_threads = 0, std::function<bool(uint64_t, uint64_t)> progress = {},
                       std::function<void(const std::string&)> note = {}) {
    cwm_convert_params params;
    cwm_convert_default_params(&params);
    params.type = type;
    params.n_threads = n_threads;
    if (progress) {
        params.progress = [](uint64_t done, uint64_t total, void* user) {
            return (*static_cast<std::function<bool(uint64_t, uint64_t)>*>(user))(done, total) ? 0 : 1;
        };
        params.progress_user_data = &progress;
    }
    if (note) {
        params.log = [](cwm_log_level, const char* message, void* user) {
            (*static_cast<std::function<void(const std::string&)>*>(user))(message);
        };
        params.log_user_data = &note;
    }
    check(cwm_convert_hf(hf_dir.c_str(), output.c_str(), &params));
}

// Writes a copy of a model file stating an attention layout (see cwm_convert_gguf), e.g. a
// community `llama` file of CWM as a `cwm` file. `progress` as quantize's.
inline void convert_gguf(const std::string& input, const std::string& output,
                         cwm_attention_layout attention = CWM_ATTENTION_CWM, uint32_t sliding_window = 0,
                         detail::file_progress_fn progress = {}) {
    cwm_convert_gguf_params params;
    cwm_convert_gguf_default_params(&params);
    params.attention = attention;
    params.sliding_window = sliding_window;
    if (progress) {
        params.progress = detail::file_progress;
        params.progress_user_data = &progress;
    }
    check(cwm_convert_gguf(input.c_str(), output.c_str(), &params));
}

// This machine's memory read bandwidth in GB/s (see cwm_measure_read_bandwidth; 0 = default).
inline double measure_read_bandwidth(size_t bytes = 0, int n_threads = 0, int repeats = 0) {
    double gb_per_s = 0;
    check(cwm_measure_read_bandwidth(bytes, n_threads, repeats, &gb_per_s));
    return gb_per_s;
}

}  // namespace cwm
