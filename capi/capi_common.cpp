#include "capi_internal.hpp"

#include <algorithm>

namespace cwm::capi {

namespace {
thread_local std::string last_error;
}

void set_last_error(const std::string& message) { last_error = message; }

void copy_out(const std::string& data, char* buf, size_t buf_size, size_t* out_len) {
    require(out_len != nullptr, "out_len is NULL");
    *out_len = data.size();
    if (buf_size < data.size()) fail(Status::buffer_too_small, "buffer of " + std::to_string(buf_size) +
                                                                   " bytes is too small; " + std::to_string(data.size()) +
                                                                   " needed");
    require(buf != nullptr || data.empty(), "buf is NULL");
    if (!data.empty()) std::memcpy(buf, data.data(), data.size());
    if (buf_size > data.size()) buf[data.size()] = '\0';
}

void copy_tokens_out(std::span<const cwm_token> data, cwm_token* buf, size_t max_tokens, size_t* out_len) {
    require(out_len != nullptr, "out_len is NULL");
    *out_len = data.size();
    if (max_tokens < data.size())
        fail(Status::buffer_too_small, "token buffer of " + std::to_string(max_tokens) + " is too small; " +
                                           std::to_string(data.size()) + " needed");
    require(buf != nullptr || data.empty(), "tokens is NULL");
    std::copy(data.begin(), data.end(), buf);
}

AttentionLayout attention_layout(const cwm_attention_layout& value) {
    switch (enum_value(value)) {
        case CWM_ATTENTION_FROM_FILE: return AttentionLayout::from_file;
        case CWM_ATTENTION_CWM: return AttentionLayout::cwm;
        case CWM_ATTENTION_GLOBAL: return AttentionLayout::global;
    }
    fail(Status::invalid_argument, "attention is " + std::to_string(enum_value(value)) +
                                       "; expected CWM_ATTENTION_FROM_FILE, CWM_ATTENTION_CWM or CWM_ATTENTION_GLOBAL");
}

}  // namespace cwm::capi

extern "C" {

const char* cwm_last_error(void) { return cwm::capi::last_error.c_str(); }

const char* cwm_status_name(cwm_status status) {
    switch (cwm::capi::enum_value(status)) {
        case CWM_OK: return "CWM_OK";
        case CWM_ERR_INVALID_ARGUMENT: return "CWM_ERR_INVALID_ARGUMENT";
        case CWM_ERR_IO: return "CWM_ERR_IO";
        case CWM_ERR_INVALID_FILE: return "CWM_ERR_INVALID_FILE";
        case CWM_ERR_UNSUPPORTED: return "CWM_ERR_UNSUPPORTED";
        case CWM_ERR_OUT_OF_MEMORY: return "CWM_ERR_OUT_OF_MEMORY";
        case CWM_ERR_CONTEXT_FULL: return "CWM_ERR_CONTEXT_FULL";
        case CWM_ERR_CANCELLED: return "CWM_ERR_CANCELLED";
        case CWM_ERR_INTERNAL: return "CWM_ERR_INTERNAL";
        case CWM_ERR_BUFFER_TOO_SMALL: return "CWM_ERR_BUFFER_TOO_SMALL";
        case CWM_ERR_NOT_FOUND: return "CWM_ERR_NOT_FOUND";
    }
    return "CWM_ERR_UNKNOWN";
}

const char* cwm_version(void) { return CWM_VERSION_STRING; }

uint32_t cwm_abi_version(void) { return CWM_ABI_VERSION; }

}  // extern "C"
