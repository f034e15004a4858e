// Internal error type. Every failure inside the runtime is a cwm::Error carrying a
// status that maps 1:1 onto the C ABI's cwm_status; the C ABI catches it at the boundary.
#pragma once

#include <stdexcept>
#include <string>

namespace cwm {

// Keep in sync with cwm_status in include/cwm.h (same numeric values).
enum class Status : int {
    ok = 0,
    invalid_argument = 1,  // a caller passed something unusable (bad id, bad option, ...)
    io_error = 2,          // a file could not be opened, read or written
    invalid_file = 3,      // a model/tokenizer file is malformed, truncated or hostile
    unsupported = 4,       // well-formed but not supported (unknown architecture, tensor type)
    out_of_memory = 5,
    context_full = 6,      // more tokens than the context holds
    cancelled = 7,         // a callback asked to stop
    internal = 8,          // a bug: should never happen
    buffer_too_small = 9,  // a caller's output buffer is too small (C ABI only)
    not_found = 10,        // a name looked up (metadata key, token text) does not exist
};

class Error : public std::runtime_error {
public:
    Error(Status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    Status status() const noexcept { return status_; }

private:
    Status status_;
};

[[noreturn]] inline void fail(Status status, const std::string& message) { throw Error(status, message); }

}  // namespace cwm
