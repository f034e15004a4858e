// C ABI: CWM's chat format and the file's own chat template.
#include <vector>

#include "capi_internal.hpp"
#include "chat.hpp"

using cwm::capi::copy_out;
using cwm::capi::guard;
using cwm::capi::require;

extern "C" {

void cwm_chat_default_params(cwm_chat_params* params) {
    if (!params) return;
    *params = cwm_chat_params{};
    params->size = sizeof(cwm_chat_params);
    params->add_generation_prompt = 1;
}

cwm_status cwm_chat_render(const cwm_chat_message* messages, size_t n_messages, const cwm_chat_params* params,
                           char* buf, size_t buf_size, size_t* out_len) {
    return guard([&] {
        require(messages != nullptr || n_messages == 0, "messages is NULL");
        cwm::ChatOptions options;
        if (params) {
            cwm::capi::require_struct(params, sizeof(cwm_chat_params), "params");
            options.reasoning = params->reasoning != 0;
            options.add_generation_prompt = params->add_generation_prompt != 0;
        }
        std::vector<cwm::ChatMessage> list(n_messages);
        for (size_t i = 0; i < n_messages; ++i) {
            if (!messages[i].role || !messages[i].content)
                cwm::fail(cwm::Status::invalid_argument, "chat message " + std::to_string(i) + " has a NULL role or content");
            list[i] = {messages[i].role, messages[i].content};
        }
        copy_out(cwm::render_chat(list, options), buf, buf_size, out_len);
    });
}

cwm_status cwm_model_chat_template(const cwm_model* model, char* buf, size_t buf_size, size_t* out_len) {
    return guard([&] {
        require(model != nullptr, "model is NULL");
        const cwm::GgufValue* v = model->model->file().find("tokenizer.chat_template");
        const bool is_text = v && v->type() == cwm::GgufType::string;
        copy_out(is_text ? v->as_string() : std::string(), buf, buf_size, out_len);
    });
}

}  // extern "C"
