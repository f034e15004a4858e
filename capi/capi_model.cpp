// C ABI: models, metadata and tokens.
#include "capi_internal.hpp"
#include "gguf_text.hpp"

using cwm::capi::copy_out;
using cwm::capi::guard;
using cwm::capi::require;

namespace {

// Whether the caller's struct has the field ending at byte `end`: fields appended after the
// first version are read only when it does.
bool covers(const cwm_model_params* params, size_t end) { return params->size >= end; }

cwm::ModelLoadOptions load_options(const cwm_model_params* params) {
    cwm::ModelLoadOptions options;
    if (!params) return options;
    cwm::capi::require_struct(params, offsetof(cwm_model_params, log), "params");  // the fields before `log`
    if (params->progress) {
        options.progress = [fn = params->progress, user = params->progress_user_data](float f) {
            return fn(f, user) == 0;
        };
    }
    if (covers(params, offsetof(cwm_model_params, log_user_data) + sizeof(void*)) && params->log) {
        options.log = [fn = params->log, user = params->log_user_data](cwm::LogLevel level, const std::string& message) {
            fn(static_cast<cwm_log_level>(level), message.c_str(), user);
        };
    }
    if (covers(params, offsetof(cwm_model_params, sliding_window) + sizeof(uint32_t))) {
        options.attention = cwm::capi::attention_layout(params->attention);
        options.sliding_window = params->sliding_window;
    }
    return options;
}

}  // namespace

extern "C" {

void cwm_model_default_params(cwm_model_params* params) {
    if (!params) return;
    *params = cwm_model_params{};
    params->size = sizeof(cwm_model_params);
}

cwm_status cwm_model_load(const char* path, const cwm_model_params* params, cwm_model** out_model) {
    return guard([&] {
        require(path != nullptr, "path is NULL");
        require(out_model != nullptr, "out_model is NULL");
        auto handle = std::make_unique<cwm_model>();
        handle->model = cwm::Model::load(path, load_options(params));
        handle->tokenizer.tokenizer = &handle->model->tokenizer();
        *out_model = handle.release();
    });
}

void cwm_model_free(cwm_model* model) { delete model; }

cwm_status cwm_model_get_info(const cwm_model* model, cwm_model_info* info) {
    return guard([&] {
        require(model != nullptr, "model is NULL");
        cwm::capi::require_struct(info, sizeof(cwm_model_info), "info");
        const cwm::ModelConfig& c = model->model->config();
        const cwm::Tokenizer& tok = model->model->tokenizer();
        cwm_model_info out{};
        out.size = sizeof(cwm_model_info);
        out.arch = c.arch.c_str();
        out.n_vocab = c.n_vocab;
        out.n_ctx_train = c.n_ctx_train;
        out.n_embd = c.n_embd;
        out.n_layer = c.n_layer;
        out.n_head = c.n_head;
        out.n_head_kv = c.n_head_kv;
        out.head_dim = c.head_dim;
        out.n_ff = c.n_ff;
        out.n_local_layers = c.n_local_layers();
        out.window = c.n_local_layers() ? c.window : 0;
        out.file_bytes = model->model->file().file_size();
        out.weight_bytes = model->model->weight_bytes();
        out.bos = tok.bos;
        out.eos = tok.eos;
        *info = out;
    });
}

cwm_status cwm_model_layer_is_local(const cwm_model* model, uint32_t layer, int* out_local) {
    return guard([&] {
        require(model != nullptr && out_local != nullptr, "model or out_local is NULL");
        const auto& local = model->model->config().layer_is_local;
        require(layer < local.size(), "layer index out of range");
        *out_local = local[layer] ? 1 : 0;
    });
}

size_t cwm_model_meta_count(const cwm_model* model) { return model ? model->model->file().metadata().size() : 0; }

cwm_status cwm_model_meta_key(const cwm_model* model, size_t index, const char** out_key) {
    return guard([&] {
        require(model != nullptr && out_key != nullptr, "model or out_key is NULL");
        const auto& meta = model->model->file().metadata();
        require(index < meta.size(), "metadata index out of range");
        *out_key = meta[index].first.c_str();
    });
}

cwm_status cwm_model_meta_value(const cwm_model* model, const char* key, size_t max_items, char* buf, size_t buf_size,
                                size_t* out_len) {
    return guard([&] {
        require(model != nullptr && key != nullptr, "model or key is NULL");
        const cwm::GgufValue* value = model->model->file().find(key);
        if (!value) cwm::fail(cwm::Status::not_found, std::string("no metadata key '") + key + "'");
        copy_out(cwm::gguf_value_to_text(*value, max_items), buf, buf_size, out_len);
    });
}

size_t cwm_model_tensor_count(const cwm_model* model) { return model ? model->model->file().tensors().size() : 0; }

cwm_status cwm_model_tensor_info(const cwm_model* model, size_t index, cwm_tensor_info* info) {
    return guard([&] {
        require(model != nullptr, "model is NULL");
        cwm::capi::require_struct(info, sizeof(cwm_tensor_info), "info");
        const auto& tensors = model->model->file().tensors();
        require(index < tensors.size(), "tensor index out of range");
        const cwm::TensorView& t = tensors[index];
        cwm_tensor_info out{};
        out.size = sizeof(cwm_tensor_info);
        out.name = t.name.c_str();
        out.type = cwm::dtype_info(uint32_t(t.type))->name;
        out.n_dims = uint32_t(t.ne.size());
        for (size_t d = 0; d < t.ne.size() && d < 4; ++d) out.ne[d] = t.ne[d];
        out.offset = t.offset;
        out.n_bytes = t.n_bytes;
        *info = out;
    });
}

}  // extern "C"
