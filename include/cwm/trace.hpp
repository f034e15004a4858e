// Header-only C++ API over the trace functions of cwm.h: a model's prediction of how a Python
// program runs, stepped like a debugger (docs/traces.md).
#pragma once

#include <cwm/cwm.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cwm {

struct trace_variable {
    std::string name, repr;  // repr as written ("..": unchanged) or resolved, as asked
};

struct trace_frame {
    cwm_trace_event event;
    std::string line;                  // the source line, with its newline
    int line_number;                   // 1-based; 0 when it matches no line of the source
    std::vector<trace_variable> locals, resolved;
    std::optional<std::string> value;  // return / exception frames
};

// The prompt asking for a trace of `source` (entry: the marked function when empty).
inline std::string trace_prompt(std::string_view source, const std::string& entry = {}) {
    return detail::read_string([&](char* buf, size_t size, size_t* len) {
        return cwm_trace_prompt(source.data(), source.size(), entry.empty() ? nullptr : entry.c_str(), buf, size, len);
    });
}

// Predicted against actual trace texts, as the JSON object of cwm_trace_compare.
inline std::string compare_traces(std::string_view source, std::string_view predicted, std::string_view actual) {
    return detail::read_string([&](char* buf, size_t size, size_t* len) {
        return cwm_trace_compare(source.data(), source.size(), predicted.data(), predicted.size(), actual.data(),
                                 actual.size(), buf, size, len);
    });
}

class trace_session {
public:
    // Clears `ctx` and evaluates the trace prompt; ctx (and s, if any: greedy otherwise) must
    // outlive the session.
    trace_session(context& ctx, std::string_view source, const std::string& entry = {}, sampler* s = nullptr,
                  uint32_t max_frame_tokens = 0) {
        cwm_trace_params params;
        cwm_trace_default_params(&params);
        if (!entry.empty()) params.entry = entry.c_str();
        if (max_frame_tokens) params.max_frame_tokens = max_frame_tokens;
        cwm_trace_session* raw = nullptr;
        check(cwm_trace_session_new(ctx.get(), s ? s->get() : nullptr, source.data(), source.size(), &params, &raw));
        handle_.reset(raw);
    }

    // A trace read from text (cwm_trace_parse), e.g. the tracer's output: frames, issues and
    // text read as a session's; it cannot move.
    static trace_session parse(std::string_view source, std::string_view text) {
        cwm_trace_session* raw = nullptr;
        check(cwm_trace_parse(source.data(), source.size(), text.data(), text.size(), &raw));
        return trace_session(raw);
    }

    cwm_trace_session* get() const { return handle_.get(); }

    // Each returns whether it produced (or took back) a frame.
    bool step() { return move(CWM_TRACE_STEP); }
    bool next() { return move(CWM_TRACE_NEXT); }
    bool out() { return move(CWM_TRACE_OUT); }
    bool back() { return move(CWM_TRACE_BACK); }
    void reset() { move(CWM_TRACE_RESET); }
    // Teacher forcing: a frame written with literal special tokens.
    void force(std::string_view frame_text) { check(cwm_trace_force(get(), frame_text.data(), frame_text.size())); }
    void predict(size_t max_frames) { check(cwm_trace_predict(get(), max_frames)); }
    // Output prediction (cwm_trace_predict_result): the entry's predicted return value, from
    // `call_frame` when given (else the model's own call frame); nullopt when the model wrote
    // no return frame.
    std::optional<std::string> predict_result(std::string_view call_frame = {}) {
        int found = 0;
        check(cwm_trace_predict_result(get(), call_frame.empty() ? nullptr : call_frame.data(), call_frame.size(),
                                       &found));
        if (!found) return std::nullopt;
        return frame(size() - 1).value;
    }
    // Measures the model against the program's actual trace text (cwm_trace_evaluate): the
    // JSON object of docs/traces.md.
    std::string evaluate(std::string_view actual, int measures = CWM_TRACE_MEASURE_ALL) {
        check(cwm_trace_evaluate(get(), actual.data(), actual.size(), measures));
        return detail::read_string(
            [&](char* buf, size_t size, size_t* len) { return cwm_trace_evaluation(get(), buf, size, len); });
    }

    size_t size() const { return cwm_trace_frame_count(get()); }
    bool ended() const { return cwm_trace_ended(get()) != 0; }
    size_t tokens_evaluated() const { return cwm_trace_tokens_evaluated(get()); }
    size_t prompt_tokens() const { return cwm_trace_prompt_tokens(get()); }

    trace_frame frame(size_t index) const {
        cwm_trace_frame f{};
        f.size = sizeof f;
        check(cwm_trace_frame_get(get(), index, &f));
        trace_frame out{f.event, f.line, f.line_number, {}, {}, {}};
        if (f.value) out.value = f.value;
        for (size_t i = 0; i < f.n_locals; ++i)
            for (int resolved : {0, 1}) {
                const char *name = nullptr, *repr = nullptr;
                check(cwm_trace_frame_local(get(), index, i, resolved, &name, &repr));
                (resolved ? out.resolved : out.locals).push_back({name, repr});
            }
        return out;
    }

    // Problems in the model's output so far: (frame index, message).
    std::vector<std::pair<size_t, std::string>> issues() const {
        std::vector<std::pair<size_t, std::string>> out(cwm_trace_issue_count(get()));
        for (size_t i = 0; i < out.size(); ++i) {
            const char* message = nullptr;
            check(cwm_trace_issue(get(), i, &out[i].first, &message));
            out[i].second = message;
        }
        return out;
    }

    // The trace text written after the prompt so far (special tokens spelled out).
    std::string text() const {
        return detail::read_string([&](char* buf, size_t size, size_t* len) { return cwm_trace_text(get(), buf, size, len); });
    }

private:
    explicit trace_session(cwm_trace_session* raw) { handle_.reset(raw); }

    bool move(cwm_trace_move m) {
        int moved = 0;
        check(cwm_trace_move_to(get(), m, &moved));
        return moved != 0;
    }

    std::unique_ptr<cwm_trace_session, detail::deleter<cwm_trace_session, cwm_trace_session_free>> handle_;
};

}  // namespace cwm
