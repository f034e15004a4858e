// Predicted-versus-actual comparison of two traces (trace.hpp): how far a model's prediction of
// a program's execution agrees with what the program really did, frame by frame.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "trace.hpp"

namespace cwm::trace {

// Agreement of the frames at one position of both traces.
struct FrameAgreement {
    bool event = false;      // same kind (call, line, return, exception)
    bool line = false;       // same source line (text; and number when both were found)
    size_t variables = 0;    // the actual frame's locals...
    size_t variables_matched = 0;  // ...that the prediction gives the same repr (after ".." resolution)
    bool value = true;       // same return / exception value (true where there is none)
    bool exact() const { return event && line && variables == variables_matched && value; }
};

struct Comparison {
    size_t actual_frames = 0, predicted_frames = 0;
    std::vector<FrameAgreement> frames;  // one per position both traces have
    size_t exact_frames = 0, event_matches = 0, line_matches = 0;
    // Variables of the actual frames (and extra predicted ones), every frame of both traces
    // counted, and those the prediction gives the same value at the same position.
    size_t variables = 0, variables_matched = 0;
    // The first position where the traces differ (a frame, or one ending before the other).
    std::optional<size_t> first_divergence;
    // The entry function's result: the value of each trace's last frame when it is a return or
    // exception frame (the trace ends when the entry is left).
    std::optional<std::string> actual_result, predicted_result;
    bool result_match() const { return actual_result && predicted_result && *actual_result == *predicted_result; }
    // Exact frames over the actual trace's length (1 only when the traces are identical).
    double frame_accuracy() const;
    double variable_accuracy() const;
};

// How far the predicted frame agrees with the actual one.
FrameAgreement agree(const Frame& predicted, const Frame& actual);

// The entry function's result: the value of the last frame when it is a return or exception
// frame (the trace ends when the entry is left).
std::optional<std::string> result_of(const Trace& trace);

// Aligns the traces position by position: execution is a sequence, and a prediction that goes
// wrong is wrong from there on, which first_divergence records.
Comparison compare(const Trace& predicted, const Trace& actual);

// The comparison as a JSON object (counts, accuracies, first divergence, results, per frame).
std::string to_json(const Comparison& c);

}  // namespace cwm::trace
