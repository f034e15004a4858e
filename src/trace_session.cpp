#include "trace_session.hpp"

#include <algorithm>

#include "context_state.hpp"
#include "error.hpp"

namespace cwm::trace {

namespace {

Token require_token(const Tokenizer& tokenizer, std::string_view name) {
    const auto id = tokenizer.find(name);
    if (!id) fail(Status::invalid_argument, "the model's vocabulary has no " + std::string(name) + " token");
    return *id;
}

}  // namespace

Session::Session(Context& context, Sampler& sampler, std::string source, std::string_view entry,
                 SessionOptions options)
    : context_(context), sampler_(sampler), source_(std::move(source)), options_(options), parser_(source_) {
    const Tokenizer& tok = context_.model().tokenizer();
    for (std::string_view name : {kBeginOfText, kEndOfText, kContextStart, kFrameSep, kActionSep, kCallSep, kLineSep,
                                  kReturnSep, kExceptionSep, kArgSep})
        trace_tokens_.emplace_back(require_token(tok, name), name);
    ids_ = {*tok.find(kFrameSep), *tok.find(kEndOfText), *tok.find(kCallSep),
            *tok.find(kLineSep),  *tok.find(kReturnSep), *tok.find(kExceptionSep)};
    const std::vector<Token> prompt = tok.encode(build_prompt(source_, entry), true);
    context_.clear();
    evaluate(prompt);
    prompt_tokens_ = prompt.size();
    after_prompt_.resize(state_size(context_));
    save_state(context_, after_prompt_);
}

void Session::evaluate(std::span<const Token> tokens) {
    context_.decode(tokens, 1);
    evaluated_ += tokens.size();
}

void Session::feed(Token token) {
    const auto special = std::find_if(trace_tokens_.begin(), trace_tokens_.end(),
                                      [&](const auto& t) { return t.first == token; });
    if (special != trace_tokens_.end()) parser_.push_special(special->second);
    else parser_.push_text(context_.model().tokenizer().token_bytes(token, true));
    generated_.push_back(token);
}

const Frame* Session::produce(std::vector<Token> forced) {
    if (ended()) return nullptr;
    const size_t frames_before = parser_.trace().frames.size();
    const size_t limit = std::max(options_.max_frame_tokens, forced.size());
    for (size_t n = 0; n < limit; ++n) {
        Token token;
        if (n < forced.size()) {
            token = forced[n];
        } else {
            const std::span<const float> logits = context_.logits();
            token = sampler_.sample(logits.subspan(logits.size() - context_.model().config().n_vocab));
        }
        sampler_.accept(token);
        feed(token);
        if (token == ids_.end_of_text) break;  // nothing follows: no need to evaluate it
        try {
            evaluate({&token, 1});
        } catch (...) {  // e.g. the context is full: keep only what the cache holds
            generated_.pop_back();
            rebuild_parser();
            throw;
        }
        if (token == ids_.frame_sep && !parser_.in_frame()) break;
    }
    const std::vector<Frame>& frames = parser_.trace().frames;
    if (frames.size() == frames_before) {
        if (!ended()) parser_.note("no frame ended within " + std::to_string(limit) + " tokens");
        return nullptr;
    }
    frame_ends_.resize(frames.size(), generated_.size());
    return &frames.back();
}

const Frame* Session::step() { return produce(); }

const Frame* Session::force(std::string_view frame_text) {
    const std::vector<Token> tokens = context_.model().tokenizer().encode(frame_text, true);
    if (tokens.empty()) fail(Status::invalid_argument, "an empty frame cannot be forced");
    return produce(tokens);
}

const Frame* Session::next() {
    const Frame* frame = step();
    if (!frame || frame->event != Event::call || trace().frames.size() == 1) return frame;
    // Skip the callee: ask for its return frame now, then the caller's next frame.
    if (!produce({ids_.return_})) return nullptr;
    return step();
}

// next() stays in the current function, so its first return frame is the function's own; an
// exception frame stops too, since whether it escapes shows only in the frame after it.
const Frame* Session::out() {
    const Frame* frame = nullptr;
    while ((frame = next()) != nullptr && frame->event != Event::return_ && frame->event != Event::exception) {
    }
    return frame;
}

void Session::rebuild_parser() {
    parser_ = Parser(source_);
    const std::vector<Token> tokens = std::move(generated_);
    generated_.clear();
    for (Token t : tokens) feed(t);
}

bool Session::back() {
    if (generated_.empty()) return false;
    const bool partial = generated_.size() > (frame_ends_.empty() ? 0 : frame_ends_.back());
    if (!partial) frame_ends_.pop_back();
    const size_t keep = frame_ends_.empty() ? 0 : frame_ends_.back();
    std::vector<Token> kept(generated_.begin(), generated_.begin() + long(keep));
    // The context must end with the logits after the last kept token: cut one token more and
    // evaluate it again, or go back to the prompt's state when the cache cannot rewind so far.
    const size_t target = prompt_tokens_ + keep;
    if (keep > 0 && context_.n_past() - (target - 1) <= context_.max_rewind()) {
        context_.truncate(uint32_t(target - 1));
        evaluate(std::span(kept).last(1));
    } else {
        load_state(context_, after_prompt_);
        if (keep > 0) evaluate(kept);
    }
    generated_ = std::move(kept);
    rebuild_parser();
    return true;
}

void Session::reset() {
    load_state(context_, after_prompt_);
    generated_.clear();
    frame_ends_.clear();
    rebuild_parser();
}

std::string Session::text() const { return tokenizer().decode(generated_, true); }

const Frame* Session::predict_result(std::string_view call_frame) {
    reset();
    const Frame* call = call_frame.empty() ? step() : force(call_frame);
    if (!call) return nullptr;
    if (call->event != Event::call) {
        parser_.note("the first frame is not the entry's call frame");
        return nullptr;
    }
    const Frame* result = produce({ids_.return_});
    return result && result->event == Event::return_ ? result : nullptr;
}

}  // namespace cwm::trace
