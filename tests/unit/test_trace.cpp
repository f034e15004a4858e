// The trace parser against ../shared/docs/trace-format.md: its example, ".." resolution across
// calls and exceptions, line numbers, and malformed model output reported as issues.
#include <doctest/doctest.h>

#include "error.hpp"
#include "trace.hpp"
#include "trace_fixtures.hpp"

using namespace cwm;
using namespace cwm::trace;

namespace {

using test::example_text;
const char* const kSource = test::kExampleSource;
const auto& kFrames = test::kExampleFrames;

std::vector<Variable> vars(std::initializer_list<std::pair<const char*, const char*>> list) {
    std::vector<Variable> out;
    for (const auto& [k, v] : list) out.push_back({k, v});
    return out;
}

}  // namespace

TEST_CASE("the spec's example parses into its frames with .. resolved and line numbers") {
    const Trace t = parse_text(kSource, example_text());
    CHECK(t.issues.empty());
    CHECK(t.ended);
    REQUIRE(t.frames.size() == 17);
    const int lines[] = {5, 6, 7, 8, 1, 2, 3, 3, 7, 8, 1, 2, 3, 3, 7, 9, 9};
    for (size_t i = 0; i < 17; ++i) {
        CAPTURE(i);
        CHECK(t.frames[i].line_number == lines[i]);
    }
    CHECK(t.frames[0].event == Event::call);
    CHECK(t.frames[3].resolved == vars({{"n", "2"}, {"total", "0"}, {"i", "0"}}));
    CHECK(t.frames[5].resolved == vars({{"x", "0"}}));  // the callee's own scope
    CHECK(t.frames[7].event == Event::return_);
    CHECK(t.frames[7].value == "0");
    CHECK(t.frames[9].resolved == vars({{"n", "2"}, {"total", "0"}, {"i", "1"}}));  // back in f's scope
    CHECK(t.frames[15].resolved == vars({{"n", "2"}, {"total", "2"}, {"i", "1"}}));
    CHECK(t.frames[15].locals == vars({{"n", ".."}, {"total", ".."}, {"i", ".."}}));
    CHECK(t.frames[16].value == "2");
}

TEST_CASE("pieces arriving token by token give the same trace as the whole text") {
    Parser p(kSource);
    for (const char* f : kFrames) {
        std::string_view rest = f;
        while (!rest.empty()) {  // a model emits special tokens and small text pieces
            const size_t special = rest.find("<|");
            if (special == 0) {
                const size_t end = rest.find("|>") + 2;
                p.push_special(rest.substr(0, end));
                rest.remove_prefix(end);
            } else {
                const size_t n = std::min<size_t>(special, 3);
                p.push_text(rest.substr(0, n));
                rest.remove_prefix(n);
            }
        }
    }
    const Trace whole = parse_text(kSource, example_text());
    const Trace pieces = p.finish();
    REQUIRE(pieces.frames.size() == whole.frames.size());
    for (size_t i = 0; i < whole.frames.size(); ++i) {
        CHECK(pieces.frames[i].resolved == whole.frames[i].resolved);
        CHECK(pieces.frames[i].line == whole.frames[i].line);
    }
}

TEST_CASE("an exception caught inside keeps the scope; one escaping returns to the caller's") {
    const char* source =
        "def g(a):\n"
        "    try:\n"
        "        b = 1 / a\n"
        "    except ZeroDivisionError:\n"
        "        b = 0\n"
        "    return 1 / a\n"
        "\n"
        "def f():  # << START_OF_TRACE\n"
        "    k = 5\n"
        "    try:\n"
        "        g(0)\n"
        "    except ZeroDivisionError:\n"
        "        k = 6\n"
        "    return k\n";
    const std::string text =
        "<|call_sep|>{}<|action_sep|>def f():\n<|frame_sep|>"
        "<|line_sep|>{}<|action_sep|>    k = 5\n<|frame_sep|>"
        "<|line_sep|>{\"k\": \"5\"}<|action_sep|>    try:\n<|frame_sep|>"
        "<|line_sep|>{\"k\": \"..\"}<|action_sep|>        g(0)\n<|frame_sep|>"
        "<|call_sep|>{\"a\": \"0\"}<|action_sep|>def g(a):\n<|frame_sep|>"
        "<|line_sep|>{\"a\": \"..\"}<|action_sep|>    try:\n<|frame_sep|>"
        "<|line_sep|>{\"a\": \"..\"}<|action_sep|>        b = 1 / a\n<|frame_sep|>"
        "<|exception_sep|><|action_sep|>        b = 1 / a\n<|arg_sep|>\"ZeroDivisionError('division by zero')\"<|frame_sep|>"
        "<|line_sep|>{\"a\": \"..\"}<|action_sep|>    except ZeroDivisionError:\n<|frame_sep|>"
        "<|line_sep|>{\"a\": \"..\"}<|action_sep|>        b = 0\n<|frame_sep|>"
        "<|line_sep|>{\"a\": \"..\", \"b\": \"0\"}<|action_sep|>    return 1 / a\n<|frame_sep|>"
        "<|exception_sep|><|action_sep|>    return 1 / a\n<|arg_sep|>\"ZeroDivisionError('division by zero')\"<|frame_sep|>"
        "<|exception_sep|><|action_sep|>        g(0)\n<|arg_sep|>\"ZeroDivisionError('division by zero')\"<|frame_sep|>"
        "<|line_sep|>{\"k\": \"5\"}<|action_sep|>    except ZeroDivisionError:\n<|frame_sep|>"
        "<|line_sep|>{\"k\": \"..\"}<|action_sep|>        k = 6\n<|frame_sep|>"
        "<|line_sep|>{\"k\": \"6\"}<|action_sep|>    return k\n<|frame_sep|>"
        "<|return_sep|><|action_sep|>    return k\n<|arg_sep|>\"6\"<|frame_sep|><|end_of_text|>";
    const Trace t = parse_text(source, text);
    CHECK(t.issues.empty());
    REQUIRE(t.frames.size() == 17);
    CHECK(t.frames[8].line_number == 4);   // caught: still g
    CHECK(t.frames[8].resolved == vars({{"a", "0"}}));
    CHECK(t.frames[12].line_number == 11);  // escaped into f
    CHECK(t.frames[14].resolved == vars({{"k", "5"}}));
    CHECK(t.frames[16].value == "6");
}

TEST_CASE("malformed model output becomes issues, never an exception") {
    SUBCASE("truncated inside a frame") {
        const std::string text = example_text().substr(0, 200);
        const Trace t = parse_text(kSource, text);
        CHECK(t.frames.size() == 2);
        REQUIRE_FALSE(t.issues.empty());
        CHECK(t.issues.back().message.find("ends inside") != std::string::npos);
    }
    SUBCASE("tokens out of order, garbage JSON, unknown .., text after the end") {
        const std::string text =
            "<|action_sep|>junk<|call_sep|>{\"n\": \"2\"}<|action_sep|>def f(n):\n<|frame_sep|>"
            "<|line_sep|>{not json<|action_sep|>    total = 0\n<|frame_sep|>"
            "<|line_sep|>{\"zz\": \"..\"}<|action_sep|>    total = 0\n<|frame_sep|>"
            "<|line_sep|>{\"n\": 3}<|action_sep|>nowhere in the source\n<|frame_sep|>"
            "<|return_sep|><|action_sep|>    return total\n<|arg_sep|>not a string<|frame_sep|>"
            "<|end_of_text|>more<|frame_sep|>";
        const Trace t = parse_text(kSource, text);
        CHECK(t.frames.size() == 5);
        CHECK(t.ended);
        std::string all;
        for (const Issue& i : t.issues) all += i.message + "\n";
        for (const char* expected : {"where a frame should start", "text outside a frame", "not a JSON object",
                                     "no earlier value", "is not a JSON string", "not in the source",
                                     "value is not a JSON string", "after <|end_of_text|>"})
            CHECK_MESSAGE(all.find(expected) != std::string::npos, expected);
    }
    SUBCASE("a frame interrupted by another kind token is dropped and the new one read") {
        const Trace t = parse_text(kSource, "<|call_sep|>{\"n\": \"2\"}<|line_sep|>{\"n\": \"2\"}<|action_sep|>def f(n):\n"
                                            "<|frame_sep|>");
        CHECK(t.frames.size() == 1);
        CHECK(t.frames[0].event == Event::line);
        CHECK(t.issues.size() >= 2);  // the dropped call frame, and no <|end_of_text|>
    }
    SUBCASE("nothing at all") {
        const Trace t = parse_text(kSource, "");
        CHECK(t.frames.empty());
        CHECK(t.issues.size() == 1);
    }
}

TEST_CASE("the prompt: the marked source, or the marker added to a named entry") {
    CHECK(build_prompt(kSource) == std::string("<|begin_of_text|><|trace_context_start|>") + kSource + "<|frame_sep|>");
    const std::string plain = "def g(a):\n    return a\n\ng(1)\n";
    CHECK(build_prompt(plain, "g") ==
          "<|begin_of_text|><|trace_context_start|>def g(a):  # << START_OF_TRACE\n    return a\n\ng(1)\n<|frame_sep|>");
    CHECK_THROWS_AS(build_prompt(plain), Error);
    CHECK_THROWS_AS(build_prompt(plain, "h"), Error);
}

#include "trace_compare.hpp"

TEST_CASE("comparing a trace with itself, and with a prediction that goes wrong at frame 12") {
    const Trace actual = parse_text(kSource, example_text());
    const Comparison same = compare(actual, actual);
    CHECK(same.exact_frames == 17);
    CHECK(same.frame_accuracy() == 1.0);
    CHECK_FALSE(same.first_divergence);
    CHECK(same.result_match());

    // The prediction thinks double(1) is 3: frames 12 (y), 13 (its return), 14 and 15 (total,
    // written and then resolved from "..") and 16 (the result, 3) differ.
    std::string wrong = example_text();
    for (auto [from, to] : {std::pair{"{\"x\": \"..\", \"y\": \"2\"}", "{\"x\": \"..\", \"y\": \"3\"}"},
                            std::pair{"return y\n<|arg_sep|>\"2\"", "return y\n<|arg_sep|>\"3\""},
                            std::pair{"\"total\": \"2\", \"i\": \"1\"", "\"total\": \"3\", \"i\": \"1\""},
                            std::pair{"return total\n<|arg_sep|>\"2\"", "return total\n<|arg_sep|>\"3\""}})
        wrong.replace(wrong.find(from), std::string(from).size(), to);
    const Comparison c = compare(parse_text(kSource, wrong), actual);
    CHECK(c.first_divergence == size_t(12));
    CHECK(c.exact_frames == 17 - 5);  // frames 12, 13, 14, 15 (resolved total) and 16 differ
    CHECK(c.event_matches == 17);
    CHECK(c.line_matches == 17);
    CHECK(c.variables_matched == c.variables - 3);  // y in 12, total in 14 and 15
    CHECK(c.actual_result == "2");
    CHECK(c.predicted_result == "3");
    CHECK_FALSE(c.result_match());
    const std::string json = to_json(c);
    CHECK(json.find("\"first_divergence\":12") != std::string::npos);
    CHECK(json.find("\"result_match\":false") != std::string::npos);

    Trace shorter = actual;
    shorter.frames.resize(10);
    const Comparison s = compare(shorter, actual);
    CHECK(s.first_divergence == size_t(10));
    CHECK_FALSE(s.predicted_result);
    // The missing frames' variables are misses: 10 frames' worth matched out of all 17's.
    CHECK(s.variables == same.variables);
    size_t first_ten = 0;
    for (size_t i = 0; i < 10; ++i) first_ten += actual.frames[i].resolved.size();
    CHECK(s.variables_matched == first_ten);
    CHECK(s.variable_accuracy() < 1.0);
    CHECK(compare(Trace{}, actual).variable_accuracy() == 0.0);
}
