// Shared plumbing of the C ABI: handle types and the exception-to-status boundary.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "context.hpp"
#include "generation.hpp"
#include "error.hpp"
#include "model.hpp"
#include "sampler.hpp"
#include "cwm.h"

struct cwm_tokenizer {
    std::unique_ptr<const cwm::Tokenizer> owned;  // null when borrowed from a model
    const cwm::Tokenizer* tokenizer = nullptr;
};

struct cwm_model {
    std::shared_ptr<const cwm::Model> model;
    cwm_tokenizer tokenizer;  // the model's own, handed out by cwm_model_get_tokenizer
};

struct cwm_context {
    std::unique_ptr<cwm::Context> context;
};

struct cwm_sampler {
    cwm::Sampler sampler;
};

namespace cwm::capi {

void set_last_error(const std::string& message);

// Runs `body`, turning every exception into a status and the thread's last-error message.
template <typename Body>
cwm_status guard(Body&& body) noexcept {
    try {
        body();
        set_last_error("");
        return CWM_OK;
    } catch (const Error& e) {
        set_last_error(e.what());
        return static_cast<cwm_status>(e.status());
    } catch (const std::bad_alloc&) {
        set_last_error("out of memory");
        return CWM_ERR_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        set_last_error(std::string("internal error: ") + e.what());
        return CWM_ERR_INTERNAL;
    } catch (...) {
        set_last_error("internal error: unknown exception");
        return CWM_ERR_INTERNAL;
    }
}

inline void require(bool ok, const char* what) {
    if (!ok) fail(Status::invalid_argument, what);
}

// Checks a caller's versioned struct: `size` must cover at least the first version's fields.
template <typename T>
void require_struct(const T* p, size_t min_size, const char* name) {
    if (!p) fail(Status::invalid_argument, std::string(name) + " is NULL");
    const size_t size = p->size;
    if (size < min_size || size > (1u << 16))
        fail(Status::invalid_argument, std::string(name) + "->size is " + std::to_string(p->size) +
                                           "; set it with the matching *_default_params() or sizeof");
}

// The integer a C caller passed for an enum. C lets any int through an enum parameter or field,
// but in C++ loading a value outside the enum's range is undefined, so the bytes are read as an
// int (every enum of cwm.h has int size).
template <typename E>
int enum_value(const E& e) {
    static_assert(sizeof(E) == sizeof(int));
    int v;
    std::memcpy(&v, &e, sizeof v);
    return v;
}

// A caller's cwm_attention_layout; Error(invalid_argument) for a value outside the enum.
AttentionLayout attention_layout(const cwm_attention_layout& value);

// Copies `data` into a caller's buffer under the buffer contract of cwm.h.
void copy_out(const std::string& data, char* buf, size_t buf_size, size_t* out_len);
void copy_tokens_out(std::span<const cwm_token> data, cwm_token* buf, size_t max_tokens, size_t* out_len);

}  // namespace cwm::capi
