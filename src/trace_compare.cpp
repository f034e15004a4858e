#include "trace_compare.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace cwm::trace {

namespace {

double ratio(size_t a, size_t b) { return b ? double(a) / double(b) : 1.0; }

}  // namespace

FrameAgreement agree(const Frame& p, const Frame& a) {
    FrameAgreement f;
    f.event = p.event == a.event;
    const bool numbers_known = p.line_number > 0 && a.line_number > 0;
    f.line = p.line == a.line && (!numbers_known || p.line_number == a.line_number);
    for (const Variable& v : a.resolved) {
        ++f.variables;
        const auto it = std::find_if(p.resolved.begin(), p.resolved.end(), [&](const Variable& w) { return w.name == v.name; });
        if (it != p.resolved.end() && it->repr == v.repr) ++f.variables_matched;
    }
    // A prediction listing variables the program does not have is not exact either.
    if (p.resolved.size() > a.resolved.size()) f.variables += p.resolved.size() - a.resolved.size();
    f.value = p.value == a.value;
    return f;
}

std::optional<std::string> result_of(const Trace& t) {
    if (t.frames.empty()) return std::nullopt;
    const Frame& last = t.frames.back();
    if (last.event != Event::return_ && last.event != Event::exception) return std::nullopt;
    return last.value;
}

double Comparison::frame_accuracy() const { return ratio(exact_frames, std::max(actual_frames, predicted_frames)); }

double Comparison::variable_accuracy() const { return ratio(variables_matched, variables); }

Comparison compare(const Trace& predicted, const Trace& actual) {
    Comparison c;
    c.actual_frames = actual.frames.size();
    c.predicted_frames = predicted.frames.size();
    const size_t n = std::min(c.actual_frames, c.predicted_frames);
    for (size_t i = 0; i < n; ++i) {
        const FrameAgreement f = agree(predicted.frames[i], actual.frames[i]);
        c.frames.push_back(f);
        c.exact_frames += f.exact();
        c.event_matches += f.event;
        c.line_matches += f.line;
        c.variables += f.variables;
        c.variables_matched += f.variables_matched;
        if (!f.exact() && !c.first_divergence) c.first_divergence = i;
    }
    if (!c.first_divergence && c.actual_frames != c.predicted_frames) c.first_divergence = n;
    // Frames only one trace has: their variables are all misses (a prediction that stops early
    // has not predicted the rest of the program's values).
    for (const Trace* t : {&actual, &predicted})
        for (size_t i = n; i < t->frames.size(); ++i) c.variables += t->frames[i].resolved.size();
    c.actual_result = result_of(actual);
    c.predicted_result = result_of(predicted);
    return c;
}

std::string to_json(const Comparison& c) {
    nlohmann::ordered_json j;
    j["actual_frames"] = c.actual_frames;
    j["predicted_frames"] = c.predicted_frames;
    j["exact_frames"] = c.exact_frames;
    j["frame_accuracy"] = c.frame_accuracy();
    j["event_matches"] = c.event_matches;
    j["line_matches"] = c.line_matches;
    j["variables"] = c.variables;
    j["variables_matched"] = c.variables_matched;
    j["variable_accuracy"] = c.variable_accuracy();
    j["first_divergence"] = c.first_divergence ? nlohmann::ordered_json(*c.first_divergence) : nullptr;
    j["actual_result"] = c.actual_result ? nlohmann::ordered_json(*c.actual_result) : nullptr;
    j["predicted_result"] = c.predicted_result ? nlohmann::ordered_json(*c.predicted_result) : nullptr;
    j["result_match"] = c.result_match();
    auto& frames = j["frames"] = nlohmann::ordered_json::array();
    for (const FrameAgreement& f : c.frames)
        frames.push_back({{"exact", f.exact()}, {"event", f.event}, {"line", f.line}, {"variables", f.variables},
                          {"variables_matched", f.variables_matched}, {"value", f.value}});
    // A model may write invalid UTF-8; it is shown as U+FFFD rather than refused.
    return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace cwm::trace
