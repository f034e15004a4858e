// C ABI: GGUF files rewritten with an attention layout (community llama files of CWM).
#include "capi_internal.hpp"
#include "gguf_convert.hpp"

using cwm::capi::guard;
using cwm::capi::require;

extern "C" {

void cwm_convert_gguf_default_params(cwm_convert_gguf_params* params) {
    if (!params) return;
    *params = cwm_convert_gguf_params{};
    params->size = sizeof(cwm_convert_gguf_params);
    params->attention = CWM_ATTENTION_CWM;
}

cwm_status cwm_convert_gguf(const char* input, const char* output, const cwm_convert_gguf_params* params) {
    return guard([&] {
        require(input != nullptr && output != nullptr, "input or output is NULL");
        cwm_convert_gguf_params p;
        cwm_convert_gguf_default_params(&p);
        if (params) {
            cwm::capi::require_struct(params, sizeof(cwm_convert_gguf_params), "params");
            p = *params;
        }
        cwm::ConvertOptions options;
        options.layout = cwm::capi::attention_layout(p.attention);
        options.window = p.sliding_window;
        if (p.progress) {
            options.progress = [fn = p.progress, user = p.progress_user_data](size_t done, size_t count, uint64_t bytes,
                                                                             uint64_t total) {
                return fn(done, count, bytes, total, user) == 0;
            };
        }
        cwm::convert_gguf(input, output, options);
    });
}

}  // extern "C"
