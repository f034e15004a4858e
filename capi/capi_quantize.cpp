// C ABI: model quantization.
#include "capi_internal.hpp"
#include "quantize.hpp"

using cwm::capi::guard;
using cwm::capi::require;

extern "C" {

void cwm_quantize_default_params(cwm_quantize_params* params) {
    if (!params) return;
    *params = cwm_quantize_params{};
    params->size = sizeof(cwm_quantize_params);
    params->type = CWM_WEIGHT_Q8_0;
}

cwm_status cwm_quantize(const char* input, const char* output, const cwm_quantize_params* params) {
    return guard([&] {
        require(input != nullptr && output != nullptr, "input or output is NULL");
        cwm_quantize_params p;
        cwm_quantize_default_params(&p);
        if (params) {
            cwm::capi::require_struct(params, sizeof(cwm_quantize_params), "params");
            p = *params;
        }
        const int type = cwm::capi::enum_value(p.type);
        require(type == CWM_WEIGHT_Q8_0 || type == CWM_WEIGHT_Q4_0 || type == CWM_WEIGHT_Q4_K_M,
                "type must be CWM_WEIGHT_Q8_0, CWM_WEIGHT_Q4_0 or CWM_WEIGHT_Q4_K_M");
        require(p.n_threads >= 0 && p.n_threads <= 1024, "n_threads must be in 0..1024");
        cwm::QuantizeOptions options;
        options.type = static_cast<cwm::DType>(type);
        options.n_threads = p.n_threads;
        if (p.progress) {
            options.progress = [fn = p.progress, user = p.progress_user_data](size_t done, size_t count, uint64_t bytes,
                                                                             uint64_t total) {
                return fn(done, count, bytes, total, user) == 0;
            };
        }
        cwm::quantize_model(input, output, options);
    });
}

}  // extern "C"
