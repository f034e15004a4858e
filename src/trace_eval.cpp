#include "trace_eval.hpp"

#include <nlohmann/json.hpp>

#include "error.hpp"

namespace cwm::trace {

std::vector<std::string> split_frames(std::string_view text) {
    std::vector<std::string> frames;
    for (size_t at; (at = text.find(kFrameSep)) != std::string_view::npos;) {
        frames.emplace_back(text.substr(0, at + kFrameSep.size()));
        text.remove_prefix(at + kFrameSep.size());
    }
    return frames;
}

namespace {

// The actual trace must be one the comparison can trust: parsed without issues, ended, and cut
// into as many frame texts as it has frames (a frame separator inside a value would break that).
Trace checked_actual(const Session& session, std::string_view actual, std::vector<std::string>& texts) {
    Trace trace = parse_text(session.source(), actual);
    if (!trace.issues.empty())
        fail(Status::invalid_argument, "the actual trace is malformed at frame " +
                                           std::to_string(trace.issues.front().frame) + ": " +
                                           trace.issues.front().message);
    if (trace.frames.empty()) fail(Status::invalid_argument, "the actual trace has no frames");
    texts = split_frames(actual);
    if (texts.size() != trace.frames.size())
        fail(Status::invalid_argument, "the actual trace's frames cannot be told apart (a value holds " +
                                           std::string(kFrameSep) + ")");
    return trace;
}

void predict_next_frames(Session& s, const Trace& actual, const std::vector<std::string>& texts, Evaluation& e) {
    s.reset();
    for (size_t i = 0; i < texts.size(); ++i) {
        const size_t before = s.generated().size();
        const Frame* predicted = s.step();
        const FrameAgreement a = predicted ? agree(*predicted, actual.frames[i]) : FrameAgreement{};
        e.next_frame.push_back(a);
        const std::span<const Token> written = s.generated().subspan(before);
        e.next_frame_text.push_back(s.tokenizer().decode({written.begin(), written.end()}, true));
        e.next_frame_exact += a.exact();
        s.back();  // the predicted frame, or the tokens of a step that ended in none
        s.force(texts[i]);
    }
}

}  // namespace

Evaluation evaluate(Session& s, std::string_view actual_text, const EvaluationOptions& options) {
    std::vector<std::string> texts;
    const Trace actual = checked_actual(s, actual_text, texts);
    Evaluation e;
    e.actual_frames = actual.frames.size();
    const size_t evaluated_before = s.tokens_evaluated();
    if (options.result) {
        e.result_asked = true;
        e.actual_result = result_of(actual);
        if (const Frame* f = s.predict_result(texts.front())) e.predicted_result = f->value;
    }
    if (options.next_frame) predict_next_frames(s, actual, texts, e);
    if (options.free_running) {
        s.reset();
        for (size_t i = 0; i <= actual.frames.size() && s.step(); ++i) {
        }
        e.free_running = compare(s.trace(), actual);
        e.predicted_text = s.text();
    }
    e.tokens_evaluated = s.tokens_evaluated() - evaluated_before;
    return e;
}

std::string to_json(const Evaluation& e) {
    nlohmann::ordered_json j;
    j["actual_frames"] = e.actual_frames;
    j["free_running"] = e.free_running ? nlohmann::ordered_json::parse(to_json(*e.free_running)) : nullptr;
    if (e.free_running) j["predicted_text"] = e.predicted_text;
    nlohmann::ordered_json next = nullptr;
    if (!e.next_frame.empty()) {
        next = {{"frames", e.next_frame.size()}, {"exact", e.next_frame_exact},
                {"accuracy", double(e.next_frame_exact) / double(e.next_frame.size())}};
        auto& per = next["per_frame"] = nlohmann::ordered_json::array();
        for (size_t i = 0; i < e.next_frame.size(); ++i)
            per.push_back({{"exact", e.next_frame[i].exact()}, {"predicted", e.next_frame_text[i]}});
    }
    j["next_frame"] = next;
    j["result"] = e.result_asked ? nlohmann::ordered_json{{"actual", e.actual_result ? nlohmann::ordered_json(*e.actual_result) : nullptr},
                                                          {"predicted", e.predicted_result ? nlohmann::ordered_json(*e.predicted_result) : nullptr},
                                                          {"match", e.result_match()}}
                                 : nlohmann::ordered_json(nullptr);
    j["tokens_evaluated"] = e.tokens_evaluated;
    // A model may write invalid UTF-8; it is shown as U+FFFD rather than refused.
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace cwm::trace
