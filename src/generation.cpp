#include "generation.hpp"

#include <algorithm>
#include <string>

#include "error.hpp"

namespace cwm {

size_t generate(Context& context, Sampler& sampler, std::span<const Token> prompt, size_t max_tokens,
                const TextSink& sink) {
    const Tokenizer& tokenizer = context.model().tokenizer();
    const size_t n_vocab = context.model().config().n_vocab;
    context.begin_operation();
    if (prompt.empty() && context.logits().size() < n_vocab)
        fail(Status::invalid_argument, "empty prompt and no logits to continue from");
    for (Token t : prompt) sampler.accept(t);
    std::span<const float> logits = prompt.empty() ? context.logits() : context.decode(prompt, 1);
    Utf8Stream stream;
    size_t produced = 0;
    while (produced < max_tokens) {
        const Token token = sampler.sample(logits.subspan(logits.size() - n_vocab));
        sampler.accept(token);
        if (std::find(tokenizer.stop_tokens.begin(), tokenizer.stop_tokens.end(), token) != tokenizer.stop_tokens.end())
            break;
        ++produced;
        const std::string text = stream.push(tokenizer.token_bytes(token, false));
        if (sink && !sink(text, token)) return produced;
        context.check_cancel();
        logits = context.decode({&token, 1}, 1);
    }
    const std::string tail = stream.finish();
    if (sink && !tail.empty()) sink(tail, -1);
    return produced;
}

}  // namespace cwm
