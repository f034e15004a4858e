// The trace tests' shared inputs: the random-weight test model with CWM's trace tokens, and the
// example of trace-format.md with its actual trace as the tracer writes it.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "model.hpp"

namespace cwm::test {

inline std::shared_ptr<const Model> tiny_cwm() {
    const char* dir = std::getenv("CWM_TEST_MODELS");
    REQUIRE_MESSAGE(dir != nullptr, "CWM_TEST_MODELS is not set (ctest sets it; see tests/CMakeLists.txt)");
    static const auto model = Model::load(std::string(dir) + "/tiny-cwm.gguf");
    return model;
}

inline const char* kExampleSource =
    "def double(x):\n    y = x * 2\n    return y\n\ndef f(n):  # << START_OF_TRACE\n    total = 0\n"
    "    for i in range(n):\n        total += double(i)\n    return total\n\nf(2)\n";

// `python3 -m cwm.tracer` on kExampleSource (the spec's example, its elided middle written out),
// one frame per string.
inline const char* const kExampleFrames[] = {
    "<|call_sep|>{\"n\": \"2\"}<|action_sep|>def f(n):\n<|frame_sep|>",
    "<|line_sep|>{\"n\": \"..\"}<|action_sep|>    total = 0\n<|frame_sep|>",
    "<|line_sep|>{\"n\": \"..\", \"total\": \"0\"}<|action_sep|>    for i in range(n):\n<|frame_sep|>",
    "<|line_sep|>{\"n\": \"..\", \"total\": \"..\", \"i\": \"0\"}<|action_sep|>        total += double(i)\n<|frame_sep|>",
    "<|call_sep|>{\"x\": \"0\"}<|action_sep|>def double(x):\n<|frame_sep|>",
    "<|line_sep|>{\"x\": \"..\"}<|action_sep|>    y = x * 2\n<|frame_sep|>",
    "<|line_sep|>{\"x\": \"..\", \"y\": \"0\"}<|action_sep|>    return y\n<|frame_sep|>",
    "<|return_sep|><|action_sep|>    return y\n<|arg_sep|>\"0\"<|frame_sep|>",
    "<|line_sep|>{\"n\": \"2\", \"total\": \"0\", \"i\": \"0\"}<|action_sep|>    for i in range(n):\n<|frame_sep|>",
    "<|line_sep|>{\"n\": \"..\", \"total\": \"..\", \"i\": \"1\"}<|action_sep|>        total += double(i)\n<|frame_sep|>",
    "<|call_sep|>{\"x\": \"1\"}<|action_sep|>def double(x):\n<|frame_sep|>",
    "<|line_sep|>{\"x\": \"..\"}<|action_sep|>    y = x * 2\n<|frame_sep|>",
    "<|line_sep|>{\"x\": \"..\", \"y\": \"2\"}<|action_sep|>    return y\n<|frame_sep|>",
    "<|return_sep|><|action_sep|>    return y\n<|arg_sep|>\"2\"<|frame_sep|>",
    "<|line_sep|>{\"n\": \"2\", \"total\": \"2\", \"i\": \"1\"}<|action_sep|>    for i in range(n):\n<|frame_sep|>",
    "<|line_sep|>{\"n\": \"..\", \"total\": \"..\", \"i\": \"..\"}<|action_sep|>    return total\n<|frame_sep|>",
    "<|return_sep|><|action_sep|>    return total\n<|arg_sep|>\"2\"<|frame_sep|>",
    "<|end_of_text|>",
};

inline std::string example_text() {
    std::string text;
    for (const char* f : kExampleFrames) text += f;
    return text;
}

}  // namespace cwm::test
