// C ABI: execution-trace sessions, prompts and comparison.
#include "capi_internal.hpp"
#include "trace_compare.hpp"
#include "trace_eval.hpp"
#include "trace_session.hpp"

using cwm::capi::copy_out;
using cwm::capi::guard;
using cwm::capi::require;

// A model's trace session, or a trace read from text (cwm_trace_parse: no session, no moves).
struct cwm_trace_session {
    std::string source;
    cwm::Sampler greedy{cwm::SamplerParams{.temperature = 0.0f}};
    std::unique_ptr<cwm::trace::Session> session;
    cwm::trace::Trace parsed;
    std::string parsed_text;
    std::optional<std::string> evaluation;  // the last cwm_trace_evaluate's JSON

    const cwm::trace::Trace& trace() const { return session ? session->trace() : parsed; }
    std::string text() const { return session ? session->text() : parsed_text; }
};

namespace {

const cwm_trace_session& of(const cwm_trace_session* s) {
    require(s != nullptr, "session is NULL");
    return *s;
}

cwm::trace::Session& stepping(cwm_trace_session* s) {
    require(s != nullptr, "session is NULL");
    if (!s->session) cwm::fail(cwm::Status::invalid_argument, "this trace was read from text (cwm_trace_parse): it has no model to step");
    return *s->session;
}

std::string text_of(const char* p, size_t len, const char* what) {
    require(p != nullptr || len == 0, (std::string(what) + " is NULL").c_str());
    return std::string(p ? p : "", len);
}

const cwm::trace::Frame& frame_at(const cwm_trace_session* s, size_t index) {
    const auto& frames = of(s).trace().frames;
    require(index < frames.size(), "no frame with that index");
    return frames[index];
}

}  // namespace

extern "C" {

void cwm_trace_default_params(cwm_trace_params* params) {
    if (!params) return;
    *params = cwm_trace_params{};
    params->size = sizeof(cwm_trace_params);
    params->max_frame_tokens = uint32_t(cwm::trace::SessionOptions{}.max_frame_tokens);
}

cwm_status cwm_trace_prompt(const char* source, size_t len, const char* entry, char* buf, size_t buf_size,
                            size_t* out_len) {
    return guard([&] {
        copy_out(cwm::trace::build_prompt(text_of(source, len, "source"), entry ? entry : ""), buf, buf_size, out_len);
    });
}

cwm_status cwm_trace_session_new(cwm_context* ctx, cwm_sampler* sampler, const char* source, size_t len,
                                 const cwm_trace_params* params, cwm_trace_session** out_session) {
    return guard([&] {
        require(ctx != nullptr && out_session != nullptr, "ctx or out_session is NULL");
        cwm_trace_params p;
        cwm_trace_default_params(&p);
        if (params) {
            cwm::capi::require_struct(params, sizeof(cwm_trace_params), "params");
            p = *params;
        }
        require(p.max_frame_tokens > 0, "max_frame_tokens must be positive");
        auto handle = std::make_unique<cwm_trace_session>();
        handle->source = text_of(source, len, "source");
        handle->session = std::make_unique<cwm::trace::Session>(
            *ctx->context, sampler ? sampler->sampler : handle->greedy, handle->source, p.entry ? p.entry : "",
            cwm::trace::SessionOptions{.max_frame_tokens = p.max_frame_tokens});
        *out_session = handle.release();
    });
}

void cwm_trace_session_free(cwm_trace_session* session) { delete session; }

cwm_status cwm_trace_parse(const char* source, size_t source_len, const char* text, size_t text_len,
                           cwm_trace_session** out_trace) {
    return guard([&] {
        require(out_trace != nullptr, "out_trace is NULL");
        auto handle = std::make_unique<cwm_trace_session>();
        handle->source = text_of(source, source_len, "source");
        handle->parsed_text = text_of(text, text_len, "text");
        handle->parsed = cwm::trace::parse_text(handle->source, handle->parsed_text);
        *out_trace = handle.release();
    });
}

cwm_status cwm_trace_move_to(cwm_trace_session* session, cwm_trace_move move, int* out_moved) {
    return guard([&] {
        cwm::trace::Session& s = stepping(session);
        bool moved = false;
        switch (cwm::capi::enum_value(move)) {
            case CWM_TRACE_STEP: moved = s.step() != nullptr; break;
            case CWM_TRACE_NEXT: moved = s.next() != nullptr; break;
            case CWM_TRACE_OUT: moved = s.out() != nullptr; break;
            case CWM_TRACE_BACK: moved = s.back(); break;
            case CWM_TRACE_RESET: s.reset(); moved = true; break;
            default:
                cwm::fail(cwm::Status::invalid_argument,
                          "unknown trace move " + std::to_string(cwm::capi::enum_value(move)));
        }
        if (out_moved) *out_moved = moved ? 1 : 0;
    });
}

cwm_status cwm_trace_force(cwm_trace_session* session, const char* frame_text, size_t len) {
    return guard([&] {
        stepping(session).force(text_of(frame_text, len, "frame_text"));
    });
}

cwm_status cwm_trace_predict(cwm_trace_session* session, size_t max_frames) {
    return guard([&] {
        cwm::trace::Session& s = stepping(session);
        for (size_t i = 0; i < max_frames && s.step() != nullptr; ++i) {
        }
    });
}

cwm_status cwm_trace_predict_result(cwm_trace_session* session, const char* call_frame, size_t len, int* out_found) {
    return guard([&] {
        cwm::trace::Session& s = stepping(session);
        const std::string frame = call_frame ? std::string(call_frame, len) : std::string();
        require(call_frame == nullptr || !frame.empty(), "call_frame is empty");
        const bool found = s.predict_result(frame) != nullptr;
        if (out_found) *out_found = found ? 1 : 0;
    });
}

cwm_status cwm_trace_evaluate(cwm_trace_session* session, const char* actual, size_t len, int measures) {
    return guard([&] {
        cwm::trace::Session& s = stepping(session);
        require(measures >= 0 && measures <= CWM_TRACE_MEASURE_ALL, "measures is not a cwm_trace_measure mask");
        if (measures == 0) measures = CWM_TRACE_MEASURE_ALL;
        const cwm::trace::EvaluationOptions options{.free_running = (measures & CWM_TRACE_MEASURE_FREE_RUNNING) != 0,
                                                    .next_frame = (measures & CWM_TRACE_MEASURE_NEXT_FRAME) != 0,
                                                    .result = (measures & CWM_TRACE_MEASURE_RESULT) != 0};
        session->evaluation.reset();
        const auto e = cwm::trace::evaluate(s, text_of(actual, len, "actual"), options);
        session->evaluation = cwm::trace::to_json(e);
    });
}

cwm_status cwm_trace_evaluation(const cwm_trace_session* session, char* buf, size_t buf_size, size_t* out_len) {
    return guard([&] {
        require(session != nullptr, "session is NULL");
        if (!session->evaluation) cwm::fail(cwm::Status::not_found, "the session has evaluated nothing");
        copy_out(*session->evaluation, buf, buf_size, out_len);
    });
}

size_t cwm_trace_frame_count(const cwm_trace_session* session) {
    return session ? session->trace().frames.size() : 0;
}

int cwm_trace_ended(const cwm_trace_session* session) { return session && session->trace().ended ? 1 : 0; }

size_t cwm_trace_tokens_evaluated(const cwm_trace_session* session) {
    return session && session->session ? session->session->tokens_evaluated() : 0;
}

size_t cwm_trace_prompt_tokens(const cwm_trace_session* session) { return session && session->session ? session->session->prompt_tokens() : 0; }

cwm_status cwm_trace_frame_get(const cwm_trace_session* session, size_t index, cwm_trace_frame* frame) {
    return guard([&] {
        cwm::capi::require_struct(frame, sizeof(cwm_trace_frame), "frame");
        const cwm::trace::Frame& f = frame_at(session, index);
        cwm_trace_frame out{};
        out.size = sizeof out;
        out.event = static_cast<cwm_trace_event>(f.event);
        out.line = f.line.c_str();
        out.line_number = f.line_number;
        out.n_locals = f.locals.size();
        out.value = f.value ? f.value->c_str() : nullptr;
        *frame = out;
    });
}

cwm_status cwm_trace_frame_local(const cwm_trace_session* session, size_t index, size_t i, int resolved,
                                 const char** out_name, const char** out_repr) {
    return guard([&] {
        require(out_name != nullptr && out_repr != nullptr, "out_name or out_repr is NULL");
        const cwm::trace::Frame& f = frame_at(session, index);
        const auto& vars = resolved ? f.resolved : f.locals;
        require(i < vars.size(), "no local with that index");
        *out_name = vars[i].name.c_str();
        *out_repr = vars[i].repr.c_str();
    });
}

size_t cwm_trace_issue_count(const cwm_trace_session* session) {
    return session ? session->trace().issues.size() : 0;
}

cwm_status cwm_trace_issue(const cwm_trace_session* session, size_t index, size_t* out_frame, const char** out_message) {
    return guard([&] {
        require(out_frame != nullptr && out_message != nullptr, "out_frame or out_message is NULL");
        const auto& issues = of(session).trace().issues;
        require(index < issues.size(), "no issue with that index");
        *out_frame = issues[index].frame;
        *out_message = issues[index].message.c_str();
    });
}

cwm_status cwm_trace_text(const cwm_trace_session* session, char* buf, size_t buf_size, size_t* out_len) {
    return guard([&] {
        copy_out(of(session).text(), buf, buf_size, out_len);
    });
}

cwm_status cwm_trace_compare(const char* source, size_t source_len, const char* predicted, size_t predicted_len,
                             const char* actual, size_t actual_len, char* buf, size_t buf_size, size_t* out_len) {
    return guard([&] {
        const std::string src = text_of(source, source_len, "source");
        const auto p = cwm::trace::parse_text(src, text_of(predicted, predicted_len, "predicted"));
        const auto a = cwm::trace::parse_text(src, text_of(actual, actual_len, "actual"));
        copy_out(cwm::trace::to_json(cwm::trace::compare(p, a)), buf, buf_size, out_len);
    });
}

}  // extern "C"
