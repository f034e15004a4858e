// cwm verify: how well a model predicts the execution of many programs, per program and in
// total, as a table and as JSON; thresholds make it a CI check.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "commands.hpp"
#include "trace_setup.hpp"
#include "trace_view.hpp"
#include "tracer_run.hpp"

namespace cwm_cli {

namespace {

namespace fs = std::filesystem;

struct VerifyOptions {
    ModelOptions model;
    std::string dir, json_file, colour = "auto";
    std::vector<std::string> measures{"free", "next", "result"};
    double min_next_frame = 0, min_result = 0, min_exact = 0;
};

// Sums over programs: micro-averages (every frame / variable counts once), and per program for
// whole traces and results.
struct Totals {
    size_t programs = 0, evaluated = 0, errors = 0;
    size_t next_frames = 0, next_exact = 0;
    size_t free_frames = 0, free_exact = 0, whole_exact = 0, variables = 0, variables_matched = 0;
    size_t results = 0, results_matched = 0;

    void add(const nlohmann::json& e) {
        ++evaluated;
        if (const auto& n = e["next_frame"]; !n.is_null()) next_frames += n["frames"].get<size_t>(), next_exact += n["exact"].get<size_t>();
        if (const auto& f = e["free_running"]; !f.is_null()) {
            free_frames += std::max(f["actual_frames"].get<size_t>(), f["predicted_frames"].get<size_t>());
            free_exact += f["exact_frames"].get<size_t>();
            whole_exact += f["first_divergence"].is_null();
            variables += f["variables"].get<size_t>();
            variables_matched += f["variables_matched"].get<size_t>();
        }
        if (const auto& r = e["result"]; !r.is_null()) ++results, results_matched += r["match"].get<bool>();
    }
    static nlohmann::json ratio(size_t a, size_t b) { return b ? nlohmann::json(double(a) / double(b)) : nlohmann::json(nullptr); }
    nlohmann::json to_json() const {
        return {{"programs", programs}, {"evaluated", evaluated}, {"errors", errors},
                {"next_frame_accuracy", ratio(next_exact, next_frames)}, {"next_frames", next_frames},
                {"free_running_frame_accuracy", ratio(free_exact, free_frames)},
                {"whole_trace_exact", ratio(whole_exact, evaluated)},
                {"variable_accuracy", ratio(variables_matched, variables)},
                {"result_accuracy", ratio(results_matched, results)}};
    }
};

std::vector<fs::path> programs_in(const fs::path& dir) {
    if (fs::is_regular_file(dir)) return {dir};
    if (!fs::is_directory(dir)) throw std::runtime_error(dir.string() + " is neither a directory nor a file");
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file() && e.path().extension() == ".py") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    if (out.empty()) throw std::runtime_error("no .py programs in " + dir.string());
    return out;
}

int measures_mask(const std::vector<std::string>& names) {
    int mask = 0;
    for (const auto& n : names)
        mask |= n == "free" ? CWM_TRACE_MEASURE_FREE_RUNNING : n == "next" ? CWM_TRACE_MEASURE_NEXT_FRAME : CWM_TRACE_MEASURE_RESULT;
    return mask;
}

std::string cell(const nlohmann::json& j) { return j.is_null() ? "-" : percent(j.get<double>()); }

// One program's row: frames, next-frame, free-running frames, whole trace, variables, result.
void print_row(const View& v, const std::string& name, const nlohmann::json& e) {
    const auto& n = e["next_frame"];
    const auto& f = e["free_running"];
    const auto& r = e["result"];
    const std::string whole = f.is_null() ? "-" : v.mark(f["first_divergence"].is_null());
    const std::string result = r.is_null() ? "-" : v.mark(r["match"].get<bool>());
    std::printf("%-28s %6zu %10s %10s %6s %10s %7s\n", fit(name, 28).c_str(), e["actual_frames"].get<size_t>(),
                n.is_null() ? "-" : cell(n["accuracy"]).c_str(), f.is_null() ? "-" : cell(f["frame_accuracy"]).c_str(),
                whole.c_str(), f.is_null() ? "-" : cell(f["variable_accuracy"]).c_str(), result.c_str());
}

int check_thresholds(const VerifyOptions& o, const nlohmann::json& total) {
    int failed = 0;
    auto check = [&](const char* key, double min, const char* option) {
        if (min <= 0) return;
        const double got = total[key].is_null() ? 0.0 : total[key].get<double>();
        if (got < min) {
            std::fprintf(stderr, "cwm verify: %s %.3f is below %s %.3f\n", key, got, option, min);
            failed = 1;
        }
    };
    check("next_frame_accuracy", o.min_next_frame, "--min-next-frame");
    check("result_accuracy", o.min_result, "--min-result");
    check("whole_trace_exact", o.min_exact, "--min-exact");
    if (total["errors"].get<size_t>() > 0) {
        std::fprintf(stderr, "cwm verify: %zu program(s) could not be evaluated\n", total["errors"].get<size_t>());
        failed = 1;
    }
    return failed;
}

int run_verify(const VerifyOptions& o) {
    const std::vector<fs::path> programs = programs_in(o.dir);
    Loaded loaded(o.model);
    const View v(parse_colour(o.colour), stdout);
    const bool table = o.json_file != "-";
    if (table)
        std::printf("%s\n", v.strong("program                      frames next-frame  free-run  whole  variables  result").c_str());
    Totals totals;
    nlohmann::json rows = nlohmann::json::array();
    for (const fs::path& program : programs) {
        ++totals.programs;
        if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\r\033[Kcwm: %zu/%zu %s", totals.programs, programs.size(), program.filename().c_str());
        nlohmann::json row = {{"program", program.filename().string()}};
        try {
            fs::path pinned = program;
            pinned.replace_extension(".trace");  // a pinned actual trace beside the program wins
            const ActualTrace actual = actual_trace(program.string(), "", fs::exists(pinned) ? pinned.string() : "");
            cwm::trace_session session = loaded.session(read_file(program.string()), "");
            row["evaluation"] = nlohmann::json::parse(session.evaluate(actual.text, measures_mask(o.measures)));
            row["evaluation"].erase("predicted_text");
            totals.add(row["evaluation"]);
            if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\r\033[K");
            if (table) print_row(v, row["program"], row["evaluation"]);
        } catch (const std::exception& e) {
            ++totals.errors;
            row["error"] = e.what();
            if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\r\033[K");
            if (table) std::printf("%-28s %s\n", fit(row["program"].get<std::string>(), 28).c_str(), v.bad(e.what()).c_str());
        }
        rows.push_back(std::move(row));
    }
    const nlohmann::json total = totals.to_json();
    if (table)
        std::printf("%s\n%-28s %6zu %10s %10s %6s %10s %7s\n", v.strong(std::string(84, '-')).c_str(),
                    ("total (" + std::to_string(totals.evaluated) + " of " + std::to_string(totals.programs) + ")").c_str(),
                    totals.next_frames, cell(total["next_frame_accuracy"]).c_str(),
                    cell(total["free_running_frame_accuracy"]).c_str(), cell(total["whole_trace_exact"]).c_str(),
                    cell(total["variable_accuracy"]).c_str(), cell(total["result_accuracy"]).c_str());
    if (!o.json_file.empty()) {
        const nlohmann::json j = {{"model", o.model.model}, {"programs", rows}, {"total", total}};
        const std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        if (o.json_file == "-") {
            std::fputs(text.c_str(), stdout);
        } else {
            const std::string partial = o.json_file + ".partial";  // renamed only once complete
            std::ofstream out(partial, std::ios::binary);
            if (!(out << text) || (out.close(), !out)) {
                fs::remove(partial);
                throw std::runtime_error("cannot write " + o.json_file);
            }
            fs::rename(partial, o.json_file);
        }
    }
    return check_thresholds(o, total);
}

}  // namespace

Command add_verify(CLI::App& parent) {
    auto o = std::make_shared<VerifyOptions>();
    CLI::App* app = parent.add_subcommand("verify", "Measure a model's trace predictions on many programs (a CI check)");
    app->add_option("dir", o->dir, "directory of .py programs (or one program); NAME.trace beside NAME.py pins its actual trace")
        ->required();
    add_model_options(app, o->model);
    app->add_option("--measures", o->measures, "any of: free (whole trace, greedy), next (teacher-forced next frame), result")
        ->check(CLI::IsMember({"free", "next", "result"}))
        ->delimiter(',');
    app->add_option("--json", o->json_file, "also write the per-program and total figures as JSON to this file ('-': stdout, no table)");
    app->add_option("--min-next-frame", o->min_next_frame, "exit 1 when the total next-frame accuracy is below this fraction");
    app->add_option("--min-result", o->min_result, "exit 1 when the total result accuracy is below this fraction");
    app->add_option("--min-exact", o->min_exact, "exit 1 when the share of whole traces predicted exactly is below this");
    add_colour_option(app, o->colour);
    return {app, [o] { return run_verify(*o); }};
}

}  // namespace cwm_cli
