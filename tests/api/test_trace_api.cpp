// The trace functions of the C ABI on the random-weight test model (CWM's trace tokens, noise
// for weights): prompts, teacher-forced frames read back through the frame accessors, moves,
// the KV reuse counters, comparison JSON, and every function's error paths.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "api_helpers.hpp"
#include <cwm/trace.hpp>

using namespace api_test;

namespace {

const char* kSource =
    "def double(x):\n    y = x * 2\n    return y\n\ndef f(n):  # << START_OF_TRACE\n    total = 0\n"
    "    for i in range(n):\n        total += double(i)\n    return total\n\nf(2)\n";
const std::string kCall = "<|call_sep|>{\"n\": \"2\"}<|action_sep|>def f(n):\n<|frame_sep|>";
const std::string kLine = "<|line_sep|>{\"n\": \"..\"}<|action_sep|>    total = 0\n<|frame_sep|>";

std::string read(auto fill) {
    size_t len = 0;
    REQUIRE(fill(nullptr, 0, &len) == CWM_ERR_BUFFER_TOO_SMALL);
    std::string out(len, '\0');
    REQUIRE(fill(out.data(), out.size() + 1, &len) == CWM_OK);
    return out;
}

}  // namespace

TEST_CASE("trace prompts: the marked source, a named entry, and the errors") {
    const std::string prompt = read([](char* b, size_t n, size_t* len) {
        return cwm_trace_prompt(kSource, std::strlen(kSource), nullptr, b, n, len);
    });
    CHECK(prompt == std::string("<|begin_of_text|><|trace_context_start|>") + kSource + "<|frame_sep|>");
    const std::string plain = "def g():\n    return 1\n\ng()\n";
    const std::string named = read([&](char* b, size_t n, size_t* len) {
        return cwm_trace_prompt(plain.data(), plain.size(), "g", b, n, len);
    });
    CHECK(named.find("def g():  # << START_OF_TRACE\n") != std::string::npos);
    size_t len = 0;
    CHECK(cwm_trace_prompt(plain.data(), plain.size(), nullptr, nullptr, 0, &len) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_trace_prompt(plain.data(), plain.size(), "h", nullptr, 0, &len) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_trace_prompt(nullptr, 3, nullptr, nullptr, 0, &len) == CWM_ERR_INVALID_ARGUMENT);
}

TEST_CASE("a trace session: forced frames read back, moves, counters, text and comparison") {
    cwm::context ctx(tiny());
    cwm_trace_params params;
    cwm_trace_default_params(&params);
    params.max_frame_tokens = 16;
    cwm_trace_session* s = nullptr;
    REQUIRE(cwm_trace_session_new(ctx.get(), nullptr, kSource, std::strlen(kSource), &params, &s) == CWM_OK);
    const size_t prompt = cwm_trace_prompt_tokens(s);
    CHECK(prompt > 50);
    CHECK(cwm_trace_tokens_evaluated(s) == prompt);

    REQUIRE(cwm_trace_force(s, kCall.data(), kCall.size()) == CWM_OK);
    REQUIRE(cwm_trace_force(s, kLine.data(), kLine.size()) == CWM_OK);
    CHECK(cwm_trace_frame_count(s) == 2);
    CHECK(cwm_trace_tokens_evaluated(s) == prompt + tiny().tokenize(kCall + kLine, false, true).size());
    cwm_trace_frame frame{};
    frame.size = sizeof frame;
    REQUIRE(cwm_trace_frame_get(s, 1, &frame) == CWM_OK);
    CHECK(frame.event == CWM_TRACE_LINE);
    CHECK(std::string(frame.line) == "    total = 0\n");
    CHECK(frame.line_number == 6);
    CHECK(frame.n_locals == 1);
    CHECK(frame.value == nullptr);
    const char *name = nullptr, *repr = nullptr;
    REQUIRE(cwm_trace_frame_local(s, 1, 0, 0, &name, &repr) == CWM_OK);
    CHECK(std::string(name) == "n");
    CHECK(std::string(repr) == "..");
    REQUIRE(cwm_trace_frame_local(s, 1, 0, 1, &name, &repr) == CWM_OK);
    CHECK(std::string(repr) == "2");
    CHECK(read([&](char* b, size_t n, size_t* len) { return cwm_trace_text(s, b, n, len); }) == kCall + kLine);

    // The noise model's own steps: whatever it writes is reported, never an error.
    int moved = -1;
    for (cwm_trace_move m : {CWM_TRACE_STEP, CWM_TRACE_NEXT, CWM_TRACE_OUT}) CHECK(cwm_trace_move_to(s, m, &moved) == CWM_OK);
    CHECK(cwm_trace_predict(s, 3) == CWM_OK);
    for (size_t i = 0; i < cwm_trace_issue_count(s); ++i) {
        size_t at = 0;
        const char* message = nullptr;
        REQUIRE(cwm_trace_issue(s, i, &at, &message) == CWM_OK);
        CHECK(std::strlen(message) > 0);
    }
    CHECK(cwm_trace_move_to(s, CWM_TRACE_RESET, &moved) == CWM_OK);
    CHECK(moved == 1);
    CHECK(cwm_trace_frame_count(s) == 0);
    CHECK(cwm_trace_ended(s) == 0);
    CHECK(cwm_trace_move_to(s, CWM_TRACE_BACK, &moved) == CWM_OK);
    CHECK(moved == 0);
    CHECK(cwm_trace_move_to(s, static_cast<cwm_trace_move>(9), &moved) == CWM_ERR_INVALID_ARGUMENT);

    // Error paths.
    CHECK(cwm_trace_frame_get(s, 0, &frame) == CWM_ERR_INVALID_ARGUMENT);  // no frame 0 any more
    frame.size = 0;
    CHECK(cwm_trace_frame_get(s, 0, &frame) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_trace_frame_local(s, 0, 0, 0, nullptr, &repr) == CWM_ERR_INVALID_ARGUMENT);
    size_t at = 0;
    const char* message = nullptr;
    CHECK(cwm_trace_issue(s, 99, &at, &message) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_trace_force(s, nullptr, 4) == CWM_ERR_INVALID_ARGUMENT);
    cwm_trace_session_free(s);

    CHECK(cwm_trace_move_to(nullptr, CWM_TRACE_STEP, &moved) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_trace_predict(nullptr, 1) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_trace_frame_count(nullptr) == 0);
    CHECK(cwm_trace_ended(nullptr) == 0);
    CHECK(cwm_trace_tokens_evaluated(nullptr) == 0);
    CHECK(cwm_trace_prompt_tokens(nullptr) == 0);
    CHECK(cwm_trace_issue_count(nullptr) == 0);
    size_t len = 0;
    CHECK(cwm_trace_text(nullptr, nullptr, 0, &len) == CWM_ERR_INVALID_ARGUMENT);
    cwm_trace_session_free(nullptr);
    cwm_trace_default_params(nullptr);
    CHECK(cwm_trace_session_new(nullptr, nullptr, kSource, 3, nullptr, &s) == CWM_ERR_INVALID_ARGUMENT);
    params.size = 1;
    CHECK(cwm_trace_session_new(ctx.get(), nullptr, kSource, std::strlen(kSource), &params, &s) ==
          CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_trace_session_new(ctx.get(), nullptr, "x = 1\n", 6, nullptr, &s) == CWM_ERR_INVALID_ARGUMENT);
}

TEST_CASE("output prediction and evaluation through the C ABI") {
    cwm::context ctx(tiny());
    cwm_trace_params params;
    cwm_trace_default_params(&params);
    params.max_frame_tokens = 8;
    const std::string source = "def g(a):  # << START_OF_TRACE\n    return a + 1\n\ng(1)\n";
    // `python3 -m cwm.tracer` on that source.
    const std::string call = "<|call_sep|>{\"a\": \"1\"}<|action_sep|>def g(a):\n<|frame_sep|>";
    const std::string actual = call + "<|line_sep|>{\"a\": \"..\"}<|action_sep|>    return a + 1\n<|frame_sep|>"
                               "<|return_sep|><|action_sep|>    return a + 1\n<|arg_sep|>\"2\"<|frame_sep|><|end_of_text|>";
    cwm_trace_session* s = nullptr;
    REQUIRE(cwm_trace_session_new(ctx.get(), nullptr, source.data(), source.size(), &params, &s) == CWM_OK);

    int found = -1;
    REQUIRE(cwm_trace_predict_result(s, call.data(), call.size(), &found) == CWM_OK);
    CHECK(found == 0);  // noise writes no return frame; an issue says so
    CHECK(cwm_trace_issue_count(s) > 0);
    const std::string steered = read([&](char* b, size_t n, size_t* len) { return cwm_trace_text(s, b, n, len); });
    CHECK(steered.rfind(call + "<|return_sep|>", 0) == 0);
    REQUIRE(cwm_trace_predict_result(s, nullptr, 0, &found) == CWM_OK);  // the model's own call frame
    CHECK(cwm_trace_predict_result(s, "", 0, &found) == CWM_ERR_INVALID_ARGUMENT);

    size_t len = 0;
    CHECK(cwm_trace_evaluation(s, nullptr, 0, &len) == CWM_ERR_NOT_FOUND);
    REQUIRE(cwm_trace_evaluate(s, actual.data(), actual.size(), 0) == CWM_OK);
    const std::string json = read([&](char* b, size_t n, size_t* len) { return cwm_trace_evaluation(s, b, n, len); });
    CHECK(json.find("\"actual_frames\":3") != std::string::npos);
    CHECK(json.find("\"next_frame\":{\"frames\":3,") != std::string::npos);
    CHECK(json.find("\"result\":{\"actual\":\"2\",") != std::string::npos);
    REQUIRE(cwm_trace_evaluate(s, actual.data(), actual.size(), CWM_TRACE_MEASURE_RESULT) == CWM_OK);
    const std::string only = read([&](char* b, size_t n, size_t* len) { return cwm_trace_evaluation(s, b, n, len); });
    CHECK(only.find("\"free_running\":null,\"next_frame\":null") != std::string::npos);

    CHECK(cwm_trace_evaluate(s, actual.data(), actual.size(), 8) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_trace_evaluate(s, actual.data(), 10, 0) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(std::string(cwm_last_error()).find("malformed") != std::string::npos);
    CHECK(cwm_trace_evaluation(s, nullptr, 0, &len) == CWM_ERR_NOT_FOUND);  // a failed evaluation keeps nothing
    CHECK(cwm_trace_evaluate(nullptr, actual.data(), actual.size(), 0) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_trace_predict_result(nullptr, nullptr, 0, &found) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_trace_evaluation(nullptr, nullptr, 0, &len) == CWM_ERR_INVALID_ARGUMENT);
    cwm_trace_session_free(s);

    cwm::trace_session cpp(ctx, source, {}, nullptr, 8);
    CHECK_FALSE(cpp.predict_result(call).has_value());
    CHECK(cpp.evaluate(actual, CWM_TRACE_MEASURE_NEXT_FRAME).find("\"next_frame\":{\"frames\":3,") != std::string::npos);
    CHECK_THROWS_AS(cpp.evaluate("garbage"), cwm::error);
}

TEST_CASE("a trace parsed from text reads like a session and cannot move") {
    const std::string text = kCall + kLine + "<|end_of_text|>";
    cwm_trace_session* t = nullptr;
    REQUIRE(cwm_trace_parse(kSource, std::strlen(kSource), text.data(), text.size(), &t) == CWM_OK);
    CHECK(cwm_trace_frame_count(t) == 2);
    CHECK(cwm_trace_ended(t) == 1);
    CHECK(cwm_trace_issue_count(t) == 0);
    CHECK(cwm_trace_tokens_evaluated(t) == 0);
    const char *name = nullptr, *repr = nullptr;
    REQUIRE(cwm_trace_frame_local(t, 1, 0, 1, &name, &repr) == CWM_OK);
    CHECK(std::string(repr) == "2");
    CHECK(read([&](char* b, size_t n, size_t* len) { return cwm_trace_text(t, b, n, len); }) == text);
    int moved = 0;
    CHECK(cwm_trace_move_to(t, CWM_TRACE_STEP, &moved) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(std::string(cwm_last_error()).find("no model") != std::string::npos);
    CHECK(cwm_trace_force(t, kLine.data(), kLine.size()) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_trace_evaluate(t, text.data(), text.size(), 0) == CWM_ERR_INVALID_ARGUMENT);
    cwm_trace_session_free(t);

    // Malformed text is reported, not refused.
    const cwm::trace_session bad = cwm::trace_session::parse(kSource, kCall + "<|line_sep|>{oops");
    CHECK(bad.size() == 1);
    CHECK_FALSE(bad.ended());
    CHECK_FALSE(bad.issues().empty());
    CHECK(cwm_trace_parse(kSource, 3, nullptr, 4, &t) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_trace_parse(kSource, 3, "", 0, nullptr) == CWM_ERR_INVALID_ARGUMENT);
}

TEST_CASE("comparing traces through the C ABI") {
    const std::string actual = kCall + kLine + "<|end_of_text|>";
    const std::string predicted = kCall + "<|line_sep|>{\"n\": \"3\"}<|action_sep|>    total = 0\n<|frame_sep|>";
    const std::string json = read([&](char* b, size_t n, size_t* len) {
        return cwm_trace_compare(kSource, std::strlen(kSource), predicted.data(), predicted.size(), actual.data(),
                                 actual.size(), b, n, len);
    });
    CHECK(json.find("\"exact_frames\":1") != std::string::npos);
    CHECK(json.find("\"first_divergence\":1") != std::string::npos);
    size_t len = 0;
    CHECK(cwm_trace_compare(kSource, 3, nullptr, 5, actual.data(), actual.size(), nullptr, 0, &len) ==
          CWM_ERR_INVALID_ARGUMENT);
}

TEST_CASE("the C++ trace session: forced frames, resolved locals, back, comparison of its own text") {
    cwm::context ctx(tiny());
    cwm::trace_session s(ctx, kSource, {}, nullptr, 16);
    s.force(kCall);
    s.force(kLine);
    REQUIRE(s.size() == 2);
    const cwm::trace_frame f = s.frame(1);
    CHECK(f.event == CWM_TRACE_LINE);
    CHECK(f.line_number == 6);
    CHECK(f.locals[0].repr == "..");
    CHECK(f.resolved[0].repr == "2");
    CHECK_FALSE(f.value);
    CHECK(s.text() == kCall + kLine);
    const std::string json = cwm::compare_traces(kSource, s.text(), kCall + kLine + "<|end_of_text|>");
    CHECK(json.find("\"exact_frames\":2") != std::string::npos);
    CHECK(s.back());
    CHECK(s.size() == 1);
    CHECK(cwm::trace_prompt(kSource).size() > std::strlen(kSource));
    CHECK_THROWS_AS(cwm::trace_session(ctx, "x = 1\n"), cwm::error);
}
