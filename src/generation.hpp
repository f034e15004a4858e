// Text generation: evaluate a prompt, then sample, stream and evaluate one token at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string_view>

#include "context.hpp"
#include "sampler.hpp"

namespace cwm {

// Receives generated text in whole UTF-8 characters (possibly empty, when a token only starts
// a character) with the token that completed it; -1 for the final flush of an incomplete
// tail. Returning false stops generation.
using TextSink = std::function<bool(std::string_view text, Token token)>;

// Evaluates `prompt` (which the sampler also accepts, for its repetition penalty), or continues
// from the context's last logits when it is empty, then samples up to max_tokens tokens,
// stopping before a stop token of the vocabulary. Each streamed token is then evaluated, except
// one on which the sink stopped generation. The context's request_cancel() stops it with
// Error(cancelled) between tokens or inside an evaluation. Returns the number of tokens sampled
// and streamed. Throws Error(invalid_argument) for an empty prompt without logits to continue
// from, and whatever Context::decode throws.
size_t generate(Context& context, Sampler& sampler, std::span<const Token> prompt, size_t max_tokens,
                const TextSink& sink);

}  // namespace cwm
