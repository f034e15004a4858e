// A debugger over a model's prediction of how a program runs: the model writes the trace one
// frame at a time (trace-format.md) and the session steers it with the frame-kind tokens, the
// way a step debugger moves through real execution. Every step evaluates only its own new
// tokens on top of the KV cache; going back truncates the cache (or restores the state saved
// after the prompt), so the prompt is evaluated once per session.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "context.hpp"
#include "sampler.hpp"
#include "trace.hpp"

namespace cwm::trace {

struct SessionOptions {
    // A frame that has not ended after this many tokens is malformed output: the step stops.
    size_t max_frame_tokens = 2048;
};

class Session {
public:
    // Evaluates the trace prompt of `source` (build_prompt; `entry` as there) in `context`,
    // which is cleared first and must outlive the session, as must `sampler`. Throws
    // Error(invalid_argument) when the vocabulary lacks one of the trace tokens (naming it) or
    // the source has no entry, Error(context_full) when the prompt does not fit.
    Session(Context& context, Sampler& sampler, std::string source, std::string_view entry = {},
            SessionOptions options = {});

    // Each returns the frame it stopped at (nullptr when the trace had already ended or the
    // model wrote no complete frame; trace().issues then says why). A move that fills the
    // context throws Error(context_full) and keeps what the cache holds: a partial frame, which
    // back() takes back.
    // The model's next frame, whatever it is.
    const Frame* step();
    // The next frame of the current function: a call is stepped over by writing <|return_sep|>
    // right after it, so the model predicts the callee's return value without its body.
    const Frame* next();
    // Frames until the current function returns (its return or escaping exception frame).
    const Frame* out();
    // Teacher forcing: evaluates a frame written out with its special tokens spelled literally
    // (e.g. the actual trace's next frame) as if the model had written it, and returns it
    // parsed. What the model predicts after it is then conditioned on the truth.
    const Frame* force(std::string_view frame_text);
    // Takes back the last frame, or the tokens of a step that produced none. Returns false when
    // there is nothing after the prompt.
    bool back();
    // Back to just after the prompt (its evaluation is restored, not repeated).
    void reset();
    // Output prediction: the entry's return value without its body. Resets the session, takes
    // the entry's call frame (`call_frame` forced when given, e.g. the actual one; else the
    // model's), then writes <|return_sep|>, the steering that skips a callee (next()) applied to
    // the entry itself. Returns the return frame, whose value is the prediction; nullptr when
    // the model wrote none (trace().issues says why). An entry that raises cannot be predicted
    // this way: the steering asks for a return.
    const Frame* predict_result(std::string_view call_frame = {});

    const Trace& trace() const { return parser_.trace(); }
    bool ended() const { return parser_.trace().ended; }
    // Tokens evaluated by the session so far, prompt included: what the KV reuse saves shows here.
    size_t tokens_evaluated() const { return evaluated_; }
    size_t prompt_tokens() const { return prompt_tokens_; }
    // The tokens written after the prompt (sampled or forced), in order.
    std::span<const Token> generated() const { return generated_; }
    // generated() as text, special tokens spelled out (the tracer's form).
    std::string text() const;
    const std::string& source() const { return source_; }
    const Tokenizer& tokenizer() const { return context_.model().tokenizer(); }

private:
    struct Ids {
        Token frame_sep, end_of_text, call, line, return_, exception;
    };
    // Samples, evaluates and parses tokens until a frame ends; `forced` tokens go first.
    const Frame* produce(std::vector<Token> forced = {});
    void feed(Token token);
    void evaluate(std::span<const Token> tokens);
    void rebuild_parser();

    Context& context_;
    Sampler& sampler_;
    std::string source_;
    SessionOptions options_;
    Ids ids_{};
    // Every trace token by id: a vocabulary may hold them as control tokens (CWM's) or as
    // user-defined pieces (a SentencePiece model's), and both are read as the format's tokens.
    std::vector<std::pair<Token, std::string_view>> trace_tokens_;
    std::vector<uint8_t> after_prompt_;  // the context's state once the prompt is evaluated
    size_t prompt_tokens_ = 0, evaluated_ = 0;
    std::vector<Token> generated_;       // tokens after the prompt
    std::vector<size_t> frame_ends_;     // generated_.size() after each frame
    Parser parser_;
};

}  // namespace cwm::trace
