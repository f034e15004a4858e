// C ABI: Hugging Face checkpoint conversion.
#include "capi_internal.hpp"
#include "convert_hf.hpp"

using cwm::capi::guard;
using cwm::capi::require;

extern "C" {

void cwm_convert_default_params(cwm_convert_params* params) {
    if (!params) return;
    *params = cwm_convert_params{};
    params->size = sizeof(cwm_convert_params);
    params->type = CWM_WEIGHT_BF16;
}

cwm_status cwm_convert_hf(const char* hf_dir, const char* output, const cwm_convert_params* params) {
    return guard([&] {
        require(hf_dir != nullptr && output != nullptr, "hf_dir or output is NULL");
        cwm_convert_params p;
        cwm_convert_default_params(&p);
        if (params) {
            cwm::capi::require_struct(params, sizeof(cwm_convert_params), "params");
            p = *params;
        }
        const int type = cwm::capi::enum_value(p.type);
        require(type == CWM_WEIGHT_F32 || type == CWM_WEIGHT_F16 || type == CWM_WEIGHT_BF16 || type == CWM_WEIGHT_Q8_0 ||
                    type == CWM_WEIGHT_Q4_0 || type == CWM_WEIGHT_Q4_K_M,
                "type must be a cwm_weight_type (F32, F16, BF16, Q8_0, Q4_0 or Q4_K_M)");
        require(p.n_threads >= 0 && p.n_threads <= 1024, "n_threads must be in 0..1024");
        cwm::ConvertOptions options;
        options.type = static_cast<cwm::DType>(type);
        options.n_threads = p.n_threads;
        if (p.progress) {
            options.progress = [fn = p.progress, user = p.progress_user_data](uint64_t done, uint64_t total) {
                return fn(done, total, user) == 0;
            };
        }
        if (p.log) {
            options.note = [fn = p.log, user = p.log_user_data](const std::string& line) {
                fn(CWM_LOG_INFO, line.c_str(), user);
            };
        }
        cwm::convert_hf_checkpoint(hf_dir, output, options);
    });
}

}  // extern "C"
