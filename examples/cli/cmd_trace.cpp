// cwm trace: a model's prediction of how a program runs, shown frame by frame beside the actual
// trace (from the sandboxed tracer), with their agreement.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <unistd.h>

#include "commands.hpp"
#include "trace_setup.hpp"
#include "trace_view.hpp"
#include "tracer_run.hpp"

namespace cwm_cli {

namespace {

struct TraceOptions {
    ModelOptions model;
    std::string program, entry, actual_file, colour = "auto";
    bool no_actual = false, json = false;
    size_t max_frames = 0;
};

// Steps until the trace ends or `max_frames`, with a progress line on a terminal (a large model
// takes seconds per frame). A full context ends the prediction early: what was predicted is
// still shown, with the reason.
void predict(cwm::trace_session& s, size_t max_frames, std::string& stopped) {
    const bool progress = isatty(STDERR_FILENO);
    const auto t0 = std::chrono::steady_clock::now();
    auto step = [&] {
        try {
            return s.step();
        } catch (const cwm::error& e) {
            if (e.status() != CWM_ERR_CONTEXT_FULL) throw;
            stopped = std::string(e.what()) + " (raise -c/--ctx)";
            return false;
        }
    };
    while (s.size() < max_frames && step()) {
        if (!progress) continue;
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "\rcwm: frame %zu, %zu tokens, %.1f tokens/s ", s.size(),
                     s.tokens_evaluated() - s.prompt_tokens(), double(s.tokens_evaluated() - s.prompt_tokens()) / secs);
    }
    if (progress) std::fprintf(stderr, "\r\033[K");
}

// Two columns, predicted | actual, a header and a body line per frame position.
void print_side_by_side(const View& v, const cwm::trace_session& predicted, const cwm::trace_session* actual,
                        const nlohmann::json& comparison) {
    const size_t n = std::max(predicted.size(), actual ? actual->size() : 0);
    const size_t col = actual ? size_t(std::max(20, (v.width() - 9) / 2)) : size_t(v.width() - 6);
    auto cell = [&](const cwm::trace_session& t, size_t i, bool head) {
        if (i >= t.size()) return std::string();
        const cwm::trace_frame f = t.frame(i);
        return fit(head ? frame_head(f) : "  " + frame_body(f), col);
    };
    auto pad = [&](const std::string& s) {
        size_t cps = 0;
        for (unsigned char c : s) cps += (c & 0xC0) != 0x80;
        return s + std::string(cps < col ? col - cps : 0, ' ');
    };
    std::printf("%s\n", v.strong(std::string("   #   ") + pad("predicted") + (actual ? " | actual" : "")).c_str());
    for (size_t i = 0; i < n; ++i) {
        const nlohmann::json* agreement = i < comparison["frames"].size() ? &comparison["frames"][i] : nullptr;
        const bool exact = agreement && (*agreement)["exact"].get<bool>();
        const bool head_ok = agreement && (*agreement)["event"].get<bool>() && (*agreement)["line"].get<bool>();
        const bool body_ok = agreement && (*agreement)["variables"] == (*agreement)["variables_matched"] &&
                             (*agreement)["value"].get<bool>();
        const std::string mark = actual ? v.mark(exact) : " ";
        std::string ph = pad(cell(predicted, i, true)), pb = pad(cell(predicted, i, false));
        if (actual && v.coloured() && i < predicted.size()) {
            ph = head_ok ? ph : v.bad(ph);
            pb = body_ok ? pb : v.bad(pb);
        }
        std::printf("%4zu %s %s%s\n", i, mark.c_str(), ph.c_str(),
                    actual ? (" | " + cell(*actual, i, true)).c_str() : "");
        std::printf("       %s%s\n", pb.c_str(), actual ? (" | " + v.faint(cell(*actual, i, false))).c_str() : "");
    }
}

void print_summary(const View& v, const nlohmann::json& c) {
    const size_t actual = c["actual_frames"], predicted = c["predicted_frames"];
    std::printf("\n%s %zu of %zu frames exact (%s); events %zu, lines %zu; variables %zu of %zu (%s)\n",
                v.strong("agreement:").c_str(), c["exact_frames"].get<size_t>(), std::max(actual, predicted),
                percent(c["frame_accuracy"]).c_str(), c["event_matches"].get<size_t>(), c["line_matches"].get<size_t>(),
                c["variables_matched"].get<size_t>(), c["variables"].get<size_t>(), percent(c["variable_accuracy"]).c_str());
    if (c["first_divergence"].is_null()) std::printf("%s the traces are identical\n", v.good("first divergence:").c_str());
    else std::printf("%s frame %zu\n", v.bad("first divergence:").c_str(), c["first_divergence"].get<size_t>());
    auto text = [](const nlohmann::json& j) { return j.is_null() ? std::string("(none)") : j.get<std::string>(); };
    std::printf("result: predicted %s, actual %s %s\n", text(c["predicted_result"]).c_str(),
                text(c["actual_result"]).c_str(), v.mark(c["result_match"].get<bool>()).c_str());
}

int run_trace(const TraceOptions& o) {
    const std::string source = read_file(o.program);
    std::optional<ActualTrace> actual;
    if (!o.no_actual) actual = actual_trace(o.program, o.entry, o.actual_file);
    Loaded loaded(o.model);
    cwm::trace_session session = loaded.session(source, o.entry);
    std::optional<cwm::trace_session> actual_trace;
    if (actual) actual_trace.emplace(cwm::trace_session::parse(source, actual->text));
    const size_t max_frames = o.max_frames ? o.max_frames : actual_trace ? actual_trace->size() + 1 : 1000;
    std::string stopped;
    predict(session, max_frames, stopped);

    nlohmann::json comparison = {{"frames", nlohmann::json::array()}};
    if (actual) comparison = nlohmann::json::parse(cwm::compare_traces(source, session.text(), actual->text));
    nlohmann::json issues = nlohmann::json::array();
    for (const auto& [frame, message] : session.issues()) issues.push_back({{"frame", frame}, {"message", message}});
    if (o.json) {
        nlohmann::json j = {{"program", o.program}, {"predicted_text", session.text()},
                            {"actual_text", actual ? nlohmann::json(actual->text) : nlohmann::json(nullptr)},
                            {"comparison", actual ? comparison : nlohmann::json(nullptr)}, {"issues", issues},
                            {"tokens_evaluated", session.tokens_evaluated()}, {"prompt_tokens", session.prompt_tokens()},
                            {"stopped", stopped.empty() ? nlohmann::json(nullptr) : nlohmann::json(stopped)}};
        std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return 0;
    }
    const View v(parse_colour(o.colour), stdout);
    print_side_by_side(v, session, actual_trace ? &*actual_trace : nullptr, comparison);
    if (!stopped.empty()) std::printf("%s %s\n", v.bad("prediction stopped:").c_str(), stopped.c_str());
    else if (!session.ended()) std::printf("%s\n", v.faint("(the prediction did not end)").c_str());
    for (const auto& issue : issues)
        std::printf("%s frame %zu: %s\n", v.bad("model output issue:").c_str(), issue["frame"].get<size_t>(),
                    printable(issue["message"].get<std::string>()).c_str());
    if (actual) print_summary(v, comparison);
    return 0;
}

}  // namespace

Command add_trace(CLI::App& parent) {
    auto o = std::make_shared<TraceOptions>();
    CLI::App* app = parent.add_subcommand("trace", "Predict how a Python program runs and show it beside the actual trace");
    add_program_options(app, o->program, o->entry, o->model);
    auto* file = app->add_option("--actual", o->actual_file, "read the actual trace from this file instead of running the tracer");
    app->add_flag("--no-actual", o->no_actual, "show the prediction only (the program is not run)")->excludes(file);
    app->add_option("--max-frames", o->max_frames, "stop predicting after this many frames (default: the actual trace's + 1)");
    add_colour_option(app, o->colour);
    app->add_flag("--json", o->json, "print texts, comparison and issues as JSON");
    return {app, [o] { return run_trace(*o); }};
}

}  // namespace cwm_cli
