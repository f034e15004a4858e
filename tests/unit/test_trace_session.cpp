// The trace session's plumbing on the random-weight test model (CWM's trace tokens, noise for
// weights): teacher-forced frames parse as written, every step evaluates only its new tokens,
// stepping equals one greedy generation, and back / reset continue exactly without
// re-evaluating the prompt. (Frame quality needs a trained model: issue 7.)
#include <doctest/doctest.h>

#include <cstdlib>

#include "error.hpp"
#include "trace_session.hpp"

using namespace cwm;
using namespace cwm::trace;

namespace {

std::shared_ptr<const Model> tiny() {
    const char* dir = std::getenv("CWM_TEST_MODELS");
    REQUIRE_MESSAGE(dir != nullptr, "CWM_TEST_MODELS is not set (ctest sets it; see tests/CMakeLists.txt)");
    static const auto model = Model::load(std::string(dir) + "/tiny-cwm.gguf");
    return model;
}

const char* kSource =
    "def double(x):\n    y = x * 2\n    return y\n\ndef f(n):  # << START_OF_TRACE\n    total = 0\n"
    "    for i in range(n):\n        total += double(i)\n    return total\n\nf(2)\n";
const char* kActual[] = {
    "<|call_sep|>{\"n\": \"2\"}<|action_sep|>def f(n):\n<|frame_sep|>",
    "<|line_sep|>{\"n\": \"..\"}<|action_sep|>    total = 0\n<|frame_sep|>",
    "<|line_sep|>{\"n\": \"..\", \"total\": \"0\"}<|action_sep|>    for i in range(n):\n<|frame_sep|>",
};

size_t token_count(const Model& m, const char* text) { return m.tokenizer().encode(text, true).size(); }

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
    Context fresh(tiny(), ContextOptions{.n_ctx = 2048});
    std::vector<Token> tokens = tiny()->tokenizer().encode(build_prompt(kSource), true);
    const std::vector<Token> forced = tiny()->tokenizer().encode(kActual[0], true);
    tokens.insert(tokens.end(), forced.begin(), forced.end());
    std::span<const float> logits = fresh.decode(tokens, 1);
    std::vector<Token> greedy_tokens = forced;
    const Token end = *tiny()->tokenizer().find(kEndOfText);
    while (greedy_tokens.size() < stepped.size()) {
        const Token t = Token(std::max_element(logits.begin(), logits.end()) - logits.begin());
        greedy_tokens.push_back(t);
        if (t == end) break;
        logits = fresh.decode({&t, 1}, 1);
    }
    CHECK(stepped == greedy_tokens);
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

TEST_CASE("a vocabulary without trace tokens and a source without an entry are refused") {
    Context ctx(tiny(), ContextOptions{.n_ctx = 512});
    Sampler greedy(SamplerParams{.temperature = 0.0f});
    CHECK_THROWS_WITH_AS(Session(ctx, greedy, "def g():\n    return 1\n"), doctest::Contains("no function is marked"),
                         Error);
}
