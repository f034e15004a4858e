// How well a model predicts one program's execution, measured three ways against the actual
// trace (the tracer's text): free-running (the whole trace predicted greedily from the prompt),
// teacher-forced next frame (each frame predicted after the actual frames before it), and output
// prediction (the entry's return value straight from its call frame). `cwm verify` and the
// bindings report these per program.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trace_compare.hpp"
#include "trace_session.hpp"

namespace cwm::trace {

struct EvaluationOptions {
    bool free_running = true, next_frame = true, result = true;
};

struct Evaluation {
    size_t actual_frames = 0;
    // Free-running: at most one frame more than the actual trace is asked for (enough to show
    // that a prediction does not end where the program did).
    std::optional<Comparison> free_running;
    std::string predicted_text;  // the free-running prediction, special tokens spelled out
    // Teacher-forced: frame i predicted after the actual frames 0..i-1, one entry per frame,
    // with what the model wrote there (a frame, or the tokens of a step that ended in none).
    std::vector<FrameAgreement> next_frame;
    std::vector<std::string> next_frame_text;
    size_t next_frame_exact = 0;
    // Output prediction from the actual call frame: the predicted return value (none when the
    // model wrote no return frame), against the actual result.
    bool result_asked = false;
    std::optional<std::string> actual_result, predicted_result;
    bool result_match() const { return actual_result && predicted_result && *actual_result == *predicted_result; }
    size_t tokens_evaluated = 0;  // by the session for this evaluation
};

// The frames of a trace written out as text, each ending with <|frame_sep|>; the final
// <|end_of_text|> is not part of any.
std::vector<std::string> split_frames(std::string_view text);

// Runs the asked measurements in `session` (whose program is `actual`'s). Throws
// Error(invalid_argument) naming the problem when `actual` is not a well-formed trace of the
// session's source. Leaves the session holding the free-running prediction when one was made.
Evaluation evaluate(Session& session, std::string_view actual, const EvaluationOptions& options = {});

// The evaluation as a JSON object (docs/traces.md).
std::string to_json(const Evaluation& e);

}  // namespace cwm::trace
