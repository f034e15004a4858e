// The trace session's plumbing on the random-weight test model (CWM's trace tokens, noise for
// weights): teacher-forced frames parse as written, every step evaluates only its new tokens,
// stepping equals one greedy generation, and back / reset continue exactly without
// re-evaluating the prompt. (Frame quality needs a trained model: issue 7.)
#include <doctest/doctest.h>

#include "error.hpp"
#include "trace_fixtures.hpp"
#include "trace_session.hpp"

using namespace cwm;
using namespace cwm::trace;

namespace {

std::shared_ptr<const Model> tiny() { return test::tiny_cwm(); }
const char* const kSource = test::kExampleSource;
const std::vector<const char*> kActual(test::kExampleFrames, test::kExampleFrames + 3);  // its first frames

size_t token_count(const Model& m, const char* text) { return m.tokenizer().encode(text, true).size(); }

// `written` (tokens after the prompt) followed by greedy tokens up to `n` in all (or the end of
// text), computed in a fresh context by plain argmax: the oracle for what a session writes.
std::vector<Token> greedy_after(std::vector<Token> written, size_t n) {
    Context fresh(tiny(), ContextOptions{.n_ctx = 2048});
    std::vector<Token> tokens = tiny()->tokenizer().encode(build_prompt(kSource), true);
    tokens.insert(tokens.end(), written.begin(), written.end());
    std::span<const float> logits = fresh.decode(tokens, 1);
    const Token end = *tiny()->tokenizer().find(kEndOfText);
    while (written.size() < n) {
        const Token t = Token(std::max_element(logits.begin(), logits.end()) - logits.begin());
        written.push_back(t);
        if (t == end) break;
        logits = fresh.decode({&t, 1}, 1);
    }
    return written;
}

}  // namespace

TEST_CASE("teacher-forced frames parse as written and cost exactly their own tokens") {
    Context ctx(tiny(), ContextOptions{.n_ctx = 2048});
    Sampler greedy(SamplerParams{.temperature = 0.0f});
    Session s(ctx, greedy, kSource);
    CHECK(s.tokens_evaluated() == s.prompt_tokens());
    CHECK(s.prompt_tokens() == tiny()->tokenizer().encode(build_prompt(kSource), true).size());
    size_t expected = s.prompt_tokens();
    for (const char* frame : kActual) {
        const Frame* f = s.force(frame);
        REQUIRE(f != nullptr);
        expected += token_count(*tiny(), frame);
        CHECK(s.tokens_evaluated() == expected);  // no re-evaluation of prompt or earlier frames
    }
    CHECK(s.trace().issues.empty());
    REQUIRE(s.trace().frames.size() == 3);
    CHECK(s.trace().frames[2].line_number == 7);
    CHECK(s.trace().frames[2].resolved[0].repr == "2");
}

TEST_CASE("stepping equals one greedy generation from the same point") {
    Context ctx(tiny(), ContextOptions{.n_ctx = 2048});
    Sampler greedy(SamplerParams{.temperature = 0.0f});
    Session s(ctx, greedy, kSource, {}, SessionOptions{.max_frame_tokens = 24});
    s.force(kActual[0]);
    for (int i = 0; i < 3; ++i) s.step();  // whatever the noise model writes
    const std::vector<Token> stepped(s.generated().begin(), s.generated().end());

    // The same tokens, generated greedily in a fresh context from the prompt and the forced frame.
    const std::vector<Token> forced = tiny()->tokenizer().encode(kActual[0], true);
    CHECK(stepped == greedy_after(forced, stepped.size()));
}

TEST_CASE("back and reset continue exactly as before, without evaluating the prompt again") {
    for (uint32_t n_batch : {64u, 4u}) {  // 4: the rings cannot rewind a step, the prompt's state is used
        CAPTURE(n_batch);
        Context ctx(tiny(), ContextOptions{.n_ctx = 2048, .n_batch = n_batch});
        Sampler greedy(SamplerParams{.temperature = 0.0f});
        Session s(ctx, greedy, kSource, {}, SessionOptions{.max_frame_tokens = 24});
        for (const char* frame : kActual) s.force(frame);
        const size_t forced = s.generated().size();
        s.step();
        const std::vector<Token> first(s.generated().begin(), s.generated().end());
        const size_t before_back = s.tokens_evaluated();

        REQUIRE(s.back());
        CHECK(s.trace().frames.size() == 3);
        CHECK(s.generated().size() == forced);
        // A truncation and one token evaluated again; or the forced frames again, never the prompt.
        CHECK(s.tokens_evaluated() - before_back == (n_batch == 64 ? 1 : forced));
        s.step();
        CHECK(std::vector<Token>(s.generated().begin(), s.generated().end()) == first);

        REQUIRE(s.back());
        REQUIRE(s.back());
        CHECK(s.trace().frames.size() == 2);
        CHECK(s.trace().frames[1].line == "    total = 0\n");

        const size_t before_reset = s.tokens_evaluated();
        s.reset();
        CHECK(s.trace().frames.empty());
        CHECK(s.tokens_evaluated() == before_reset);  // the prompt's state is restored, not recomputed
        s.force(kActual[0]);
        CHECK(s.trace().frames.size() == 1);
        CHECK(s.trace().frames[0].resolved[0].repr == "2");
        while (s.back()) {
        }
        CHECK(s.generated().empty());
    }
}

TEST_CASE("output prediction writes <|return_sep|> right after the entry's call frame, from the prompt's state") {
    Context ctx(tiny(), ContextOptions{.n_ctx = 2048});
    Sampler greedy(SamplerParams{.temperature = 0.0f});
    Session s(ctx, greedy, kSource, {}, SessionOptions{.max_frame_tokens = 24});
    for (const char* frame : kActual) s.force(frame);  // wherever the session was, it starts over
    const size_t before = s.tokens_evaluated();
    const Frame* result = s.predict_result(kActual[0]);
    std::vector<Token> steered = tiny()->tokenizer().encode(kActual[0], true);
    steered.push_back(*tiny()->tokenizer().find(kReturnSep));
    const std::vector<Token> written(s.generated().begin(), s.generated().end());
    REQUIRE(written.size() > steered.size());
    CHECK(std::vector<Token>(written.begin(), written.begin() + long(steered.size())) == steered);
    CHECK(written == greedy_after(steered, written.size()));
    // Noise writes no return frame: the call reports it rather than inventing a value.
    CHECK(result == nullptr);
    CHECK(!s.trace().issues.empty());
    CHECK(s.tokens_evaluated() - before <= written.size());  // the prompt is not evaluated again
}

TEST_CASE("a full context stops a move with an error and leaves the session consistent") {
    const size_t prompt = tiny()->tokenizer().encode(build_prompt(kSource), true).size();
    Context ctx(tiny(), ContextOptions{.n_ctx = uint32_t(prompt + 30)});
    Sampler greedy(SamplerParams{.temperature = 0.0f});
    Session s(ctx, greedy, kSource, {}, SessionOptions{.max_frame_tokens = 64});
    CHECK_THROWS_WITH_AS(for (int i = 0; i < 10; ++i) s.step(), doctest::Contains("context"), Error);
    // Every token the session holds is in the cache, so it can go on from here.
    CHECK(ctx.n_past() == prompt + s.generated().size());
    REQUIRE(s.back());
    CHECK(ctx.n_past() == prompt + s.generated().size());
    s.reset();
    CHECK(s.force(kActual[0]) != nullptr);
}

TEST_CASE("a vocabulary without trace tokens and a source without an entry are refused") {
    Context ctx(tiny(), ContextOptions{.n_ctx = 512});
    Sampler greedy(SamplerParams{.temperature = 0.0f});
    CHECK_THROWS_WITH_AS(Session(ctx, greedy, "def g():\n    return 1\n"), doctest::Contains("no function is marked"),
                         Error);
}
