// C ABI: saving and restoring a context's state.
#include "capi_internal.hpp"
#include "context_state.hpp"

using cwm::capi::guard;
using cwm::capi::require;

extern "C" {

cwm_status cwm_context_state_size(const cwm_context* ctx, size_t* out_size) {
    return guard([&] {
        require(ctx != nullptr && out_size != nullptr, "ctx or out_size is NULL");
        *out_size = cwm::state_size(*ctx->context);
    });
}

cwm_status cwm_context_state_save(const cwm_context* ctx, void* buf, size_t buf_size, size_t* out_len) {
    return guard([&] {
        require(ctx != nullptr && out_len != nullptr, "ctx or out_len is NULL");
        const size_t size = cwm::state_size(*ctx->context);
        *out_len = size;
        if (buf_size < size)
            cwm::fail(cwm::Status::buffer_too_small, "state buffer of " + std::to_string(buf_size) +
                                                         " bytes is too small; " + std::to_string(size) + " needed");
        require(buf != nullptr, "buf is NULL");
        cwm::save_state(*ctx->context, {static_cast<uint8_t*>(buf), size});
    });
}

cwm_status cwm_context_state_load(cwm_context* ctx, const void* data, size_t len) {
    return guard([&] {
        require(ctx != nullptr && data != nullptr, "ctx or data is NULL");
        cwm::load_state(*ctx->context, {static_cast<const uint8_t*>(data), len});
    });
}

cwm_status cwm_context_state_save_file(const cwm_context* ctx, const char* path) {
    return guard([&] {
        require(ctx != nullptr && path != nullptr, "ctx or path is NULL");
        cwm::save_state_file(*ctx->context, path);
    });
}

cwm_status cwm_context_state_load_file(cwm_context* ctx, const char* path) {
    return guard([&] {
        require(ctx != nullptr && path != nullptr, "ctx or path is NULL");
        cwm::load_state_file(*ctx->context, path);
    });
}

}  // extern "C"
