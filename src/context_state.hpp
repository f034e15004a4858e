// Saving and restoring a context's evaluated sequence (its tokens, KV-cache rows and last
// logits), so that an editor can cache a long prompt prefix and restore it for every request,
// and a debugger can return to an earlier step. The format (context_state.cpp) is versioned and
// checksummed, and names the model and attention layout it belongs to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "context.hpp"

namespace cwm {

// Bytes save_state writes for the context as it is now.
size_t state_size(const Context& context);

// Writes the state into `out`, which must hold exactly state_size(context) bytes.
void save_state(const Context& context, std::span<uint8_t> out);

// Replaces the context's sequence with a saved one; the context is unchanged when it throws:
//   Error(invalid_file)     bad magic, unknown version, wrong length or checksum (damaged);
//   Error(invalid_argument) saved from another model or another attention layout;
//   Error(context_full)     more tokens than this context's n_ctx.
// The context may differ from the saver in n_ctx (large enough), n_batch and n_threads.
void load_state(Context& context, std::span<const uint8_t> bytes);

// The same through a file, written atomically (no partial file is ever left at `path`).
void save_state_file(const Context& context, const std::string& path);
void load_state_file(Context& context, const std::string& path);

}  // namespace cwm
