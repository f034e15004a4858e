// Human-readable rendering of GGUF metadata values (for `cwm info` and the C ABI).
#pragma once

#include <cstddef>
#include <string>

#include "gguf.hpp"

namespace cwm {

// Numbers and booleans as text, strings verbatim, arrays as "[a, b, ...]" listing at most
// `max_items` items (0 = all) followed by "... (N items)" when cut.
std::string gguf_value_to_text(const GgufValue& value, size_t max_items);

}  // namespace cwm
