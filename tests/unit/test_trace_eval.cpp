// Evaluation against an actual trace, on the random-weight test model: every measurement must
// equal the same prediction made the plain way in a fresh session (teacher forcing by forcing
// the actual frames, free running by stepping), so the KV-cache reuse behind it (steps taken
// back, frames forced after them) changes nothing. A malformed actual trace is refused.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "error.hpp"
#include "trace_eval.hpp"
#include "trace_fixtures.hpp"

using namespace cwm;
using namespace cwm::trace;

namespace {

constexpr SessionOptions kShortFrames{.max_frame_tokens = 16};

struct Fixture {
    Context ctx{test::tiny_cwm(), ContextOptions{.n_ctx = 4096}};
    Sampler greedy{SamplerParams{.temperature = 0.0f}};
};

}  // namespace

TEST_CASE("split_frames cuts the tracer's text at each frame separator") {
    const std::vector<std::string> frames = split_frames(test::example_text());
    REQUIRE(frames.size() == 17);
    for (size_t i = 0; i < frames.size(); ++i) CHECK(frames[i] == test::kExampleFrames[i]);
    CHECK(split_frames("<|end_of_text|>").empty());
}

TEST_CASE("teacher-forced next-frame prediction equals forcing the actual frames in a fresh session") {
    Fixture a;
    Session s(a.ctx, a.greedy, test::kExampleSource, {}, kShortFrames);
    const Evaluation e = evaluate(s, test::example_text(), {.free_running = false, .result = false});
    const Trace actual = parse_text(test::kExampleSource, test::example_text());
    REQUIRE(e.next_frame.size() == 17);
    REQUIRE(e.next_frame_text.size() == 17);
    CHECK(e.actual_frames == 17);
    CHECK_FALSE(e.free_running.has_value());
    CHECK_FALSE(e.result_asked);

    Fixture b;
    for (size_t i = 0; i < 17; i += 4) {  // a sample of positions keeps the test fast
        CAPTURE(i);
        Session fresh(b.ctx, b.greedy, test::kExampleSource, {}, kShortFrames);
        for (size_t k = 0; k < i; ++k) fresh.force(test::kExampleFrames[k]);
        const std::string before = fresh.text();
        const Frame* predicted = fresh.step();
        CHECK(e.next_frame_text[i] == fresh.text().substr(before.size()));
        const FrameAgreement expected = predicted ? agree(*predicted, actual.frames[i]) : FrameAgreement{};
        CHECK(e.next_frame[i].exact() == expected.exact());
        CHECK(e.next_frame[i].variables == expected.variables);
        CHECK(e.next_frame[i].variables_matched == expected.variables_matched);
    }
    // Per frame: the step, one token evaluated again when it is taken back, the forced frame.
    size_t forced_tokens = 0;
    for (size_t i = 0; i < 17; ++i) forced_tokens += s.tokenizer().encode(test::kExampleFrames[i], true).size();
    CHECK(e.tokens_evaluated <= forced_tokens + 17 * (kShortFrames.max_frame_tokens + 1));
    CHECK(e.tokens_evaluated >= forced_tokens);
}

TEST_CASE("free running and output prediction equal a fresh session's prediction") {
    Fixture a;
    Session s(a.ctx, a.greedy, test::kExampleSource, {}, kShortFrames);
    const Evaluation e = evaluate(s, test::example_text(), {.next_frame = false});
    Fixture b;
    Session fresh(b.ctx, b.greedy, test::kExampleSource, {}, kShortFrames);
    for (size_t i = 0; i <= 17 && fresh.step(); ++i) {
    }
    CHECK(e.predicted_text == fresh.text());
    REQUIRE(e.free_running.has_value());
    CHECK(e.free_running->actual_frames == 17);
    CHECK(e.free_running->predicted_frames == fresh.trace().frames.size());
    CHECK(s.text() == e.predicted_text);  // the session is left holding the prediction

    CHECK(e.result_asked);
    CHECK(e.actual_result == "2");
    const Frame* result = fresh.predict_result(test::kExampleFrames[0]);
    CHECK(e.predicted_result == (result ? result->value : std::nullopt));
    CHECK(e.result_match() == (e.predicted_result == "2"));

    const nlohmann::json j = nlohmann::json::parse(to_json(e));
    CHECK(j["actual_frames"] == 17);
    CHECK(j["next_frame"].is_null());
    CHECK(j["free_running"]["actual_frames"] == 17);
    CHECK(j["result"]["actual"] == "2");
    CHECK(j["result"]["match"] == e.result_match());
}

TEST_CASE("a malformed actual trace is refused with what is wrong") {
    Fixture a;
    Session s(a.ctx, a.greedy, test::kExampleSource, {}, kShortFrames);
    CHECK_THROWS_WITH_AS(evaluate(s, "<|end_of_text|>"), doctest::Contains("no frames"), Error);
    CHECK_THROWS_WITH_AS(evaluate(s, ""), doctest::Contains("without <|end_of_text|>"), Error);
    const std::string text = test::example_text();
    CHECK_THROWS_WITH_AS(evaluate(s, text.substr(0, text.size() - 20)), doctest::Contains("malformed"), Error);
    CHECK_THROWS_WITH_AS(evaluate(s, "<|line_sep|>{\"n\": 2}<|action_sep|>    total = 0\n<|frame_sep|><|end_of_text|>"),
                         doctest::Contains("malformed at frame 0"), Error);
    CHECK(s.trace().frames.empty());  // nothing was run
}
