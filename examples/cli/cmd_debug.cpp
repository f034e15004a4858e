// cwm debug: a pdb-style session over a model's prediction of how a program runs. Each command
// moves the trace session (step, next, out, back, reset) and shows the frame it reached with
// the source around its line; every move costs only its own new tokens.
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <vector>

#include "commands.hpp"
#include "trace_setup.hpp"
#include "trace_view.hpp"
#include "tracer_run.hpp"

namespace cwm_cli {

namespace {

struct DebugOptions {
    ModelOptions model;
    std::string program, entry, actual_file, colour = "auto";
    bool compare = false;
    int context_lines = 2;
};

const char* kHelp =
    "commands (pdb-style; an empty line repeats the last move):\n"
    "  s, step         the model's next frame, into calls\n"
    "  n, next         the next frame of this function (a call is stepped over: the model\n"
    "                  predicts its return value directly)\n"
    "  o, out          run until this function returns or raises\n"
    "  b, back         take back the last frame\n"
    "  a, actual       take the actual next frame (teacher forcing; needs --compare)\n"
    "  reset           back to the start of the trace\n"
    "  p, print [NAME] the locals of this frame, or one of them\n"
    "  l, list         the source around the current line\n"
    "  w, where        the frames so far\n"
    "  h, help         this text\n"
    "  q, quit         leave (also end of input)\n";

class Debugger {
public:
    Debugger(const DebugOptions& o, Loaded& loaded, std::string source, const std::string* actual_text)
        : o_(o), view_(parse_colour(o.colour), stdout),
          source_(std::move(source)), session_(loaded.session(source_, o.entry)) {
        if (!actual_text) return;
        actual_.emplace(cwm::trace_session::parse(source_, *actual_text));
        const std::string_view sep = "<|frame_sep|>";
        for (size_t at = 0, end; (end = actual_text->find(sep, at)) != std::string::npos; at = end + sep.size())
            actual_frames_.push_back(actual_text->substr(at, end + sep.size() - at));
    }

    int run() {
        std::printf("cwm debug: %s; the model predicts each frame (%zu prompt tokens evaluated once). Type help.\n",
                    o_.program.c_str(), session_.prompt_tokens());
        evaluated_ = session_.tokens_evaluated();
        std::string line, last;
        while (prompt(), std::getline(std::cin, line)) {
            std::istringstream words(line);
            std::string command, arg;
            words >> command >> arg;
            if (command.empty()) command = last;
            if (command.empty()) continue;
            if (command == "q" || command == "quit" || command == "exit") return 0;
            try {
                if (dispatch(command, arg) && is_move(command)) last = command;
            } catch (const cwm::error& e) {  // e.g. the context is full: the session stays usable
                std::printf("%s %s\n", view_.bad("error:").c_str(), e.what());
                take_back_partial_frame();
            }
        }
        std::printf("\n");
        return 0;
    }

private:
    void prompt() const {
        std::printf("(cwm) ");
        std::fflush(stdout);
    }

    static bool is_move(const std::string& c) {
        return c == "s" || c == "step" || c == "n" || c == "next" || c == "o" || c == "out" || c == "b" || c == "back" ||
               c == "a" || c == "actual";
    }

    // Runs one command; false for an unknown one.
    bool dispatch(const std::string& c, const std::string& arg) {
        if (c == "s" || c == "step") return moved(session_.step());
        if (c == "n" || c == "next") return moved(session_.next());
        if (c == "o" || c == "out") return moved(session_.out());
        if (c == "b" || c == "back") {
            const bool took = session_.back();
            evaluated_ = session_.tokens_evaluated();
            if (!took) std::printf("already at the start of the trace\n");
            else if (session_.size() == 0) std::printf("at the start of the trace\n");
            else show(session_.size() - 1);
            return true;
        }
        if (c == "a" || c == "actual") return force_actual(), true;
        if (c == "reset") return session_.reset(), std::printf("at the start of the trace\n"), true;
        if (c == "p" || c == "print") return print(arg), true;
        if (c == "l" || c == "list") return current() ? list(current()->line_number) : void(std::printf("no frame yet\n")), true;
        if (c == "w" || c == "where") return where(), true;
        if (c == "h" || c == "help" || c == "?") return std::fputs(kHelp, stdout), true;
        std::printf("unknown command '%s'; type help\n", c.c_str());
        return false;
    }

    // Tokens after the last complete frame would be read as the start of the next one.
    void take_back_partial_frame() {
        const std::string text = session_.text();
        if (!text.empty() && !text.ends_with("<|frame_sep|>")) {
            session_.back();
            std::printf("%s\n", view_.faint("(its tokens were taken back)").c_str());
        }
        evaluated_ = session_.tokens_evaluated();
    }

    void force_actual() {
        if (!actual_) return void(std::printf("no actual trace: start with --compare or --actual FILE\n"));
        if (session_.size() >= actual_frames_.size())
            return void(std::printf("the actual trace has no frame %zu\n", session_.size()));
        session_.force(actual_frames_[session_.size()]);
        moved(true);
    }

    std::optional<cwm::trace_frame> current() const {
        if (session_.size() == 0) return std::nullopt;
        return session_.frame(session_.size() - 1);
    }

    bool moved(bool produced) {
        const size_t cost = session_.tokens_evaluated() - evaluated_;
        evaluated_ = session_.tokens_evaluated();
        if (produced) {
            show(session_.size() - 1);
            std::printf("%s\n", view_.faint("(" + std::to_string(cost) + " tokens evaluated)").c_str());
        } else if (session_.ended()) {
            std::printf("the trace has ended: the entry function was left\n");
        } else {
            const auto issues = session_.issues();
            std::printf("%s %s\n", view_.bad("the model wrote no complete frame:").c_str(),
                        issues.empty() ? "" : printable(issues.back().second).c_str());
            take_back_partial_frame();
        }
        return true;
    }

    void show(size_t index) {
        const cwm::trace_frame f = session_.frame(index);
        std::string mark;
        if (actual_) {
            const bool same = index < actual_->size() && same_frame(f, actual_->frame(index));
            const std::string truth = index < actual_->size()
                                          ? frame_head(actual_->frame(index)) + "  " + frame_body(actual_->frame(index))
                                          : std::string("no frame: the program had left the entry");
            mark = same ? "  " + view_.good("[= actual]") : "  " + view_.bad("[actual: " + truth + "]");
        }
        std::printf("%s%s\n", view_.strong("[" + std::to_string(index) + "] " + frame_head(f)).c_str(), mark.c_str());
        list(f.line_number);
        std::printf("  %s\n", frame_body(f).c_str());
    }

    static bool same_frame(const cwm::trace_frame& a, const cwm::trace_frame& b) {
        if (a.event != b.event || a.line != b.line || a.value != b.value || a.resolved.size() != b.resolved.size()) return false;
        for (size_t i = 0; i < a.resolved.size(); ++i)
            if (a.resolved[i].name != b.resolved[i].name || a.resolved[i].repr != b.resolved[i].repr) return false;
        return true;
    }

    void list(int number) const {
        if (number <= 0) return void(std::printf("  (the line is not in the source)\n"));
        for (int n = std::max(1, number - o_.context_lines); n <= number + o_.context_lines; ++n) {
            const std::string text = source_line(source_, n);
            if (text.empty() && n > number) break;
            const std::string row = (n == number ? "-> " : "   ") + std::to_string(n) + "  " + printable(text);
            std::printf("%s\n", n == number ? view_.strong(row).c_str() : view_.faint(row).c_str());
        }
    }

    void print(const std::string& name) const {
        const auto f = current();
        if (!f) return void(std::printf("no frame yet: step first\n"));
        if (f->event == CWM_TRACE_RETURN || f->event == CWM_TRACE_EXCEPTION) {
            if (name.empty()) return void(std::printf("%s\n", frame_body(*f).c_str()));
        }
        for (const auto& v : f->resolved)
            if (name.empty() || v.name == name) {
                std::printf("%s = %s\n", printable(v.name).c_str(), printable(v.repr).c_str());
                if (!name.empty()) return;
            }
        if (!name.empty()) std::printf("no local '%s' in this frame\n", printable(name).c_str());
        else if (f->resolved.empty() && f->event <= CWM_TRACE_LINE) std::printf("(no locals)\n");
    }

    void where() const {
        for (size_t i = 0; i < session_.size(); ++i) {
            const cwm::trace_frame f = session_.frame(i);
            std::printf("[%zu] %s\n", i, frame_head(f).c_str());
        }
        if (session_.size() == 0) std::printf("no frame yet\n");
    }

    const DebugOptions& o_;
    View view_;
    std::string source_;
    cwm::trace_session session_;
    std::optional<cwm::trace_session> actual_;
    std::vector<std::string> actual_frames_;  // the actual trace's frame texts, for teacher forcing
    size_t evaluated_ = 0;
};

int run_debug(const DebugOptions& o) {
    std::string source = read_file(o.program);
    std::optional<ActualTrace> actual;
    if (o.compare || !o.actual_file.empty()) actual = actual_trace(o.program, o.entry, o.actual_file);
    Loaded loaded(o.model);
    Debugger debugger(o, loaded, std::move(source), actual ? &actual->text : nullptr);
    return debugger.run();
}

}  // namespace

Command add_debug(CLI::App& parent) {
    auto o = std::make_shared<DebugOptions>();
    CLI::App* app = parent.add_subcommand("debug", "Step through a model's prediction of a Python program, pdb-style");
    add_program_options(app, o->program, o->entry, o->model);
    app->add_flag("--compare", o->compare, "run the program in the sandboxed tracer and mark each predicted frame");
    app->add_option("--actual", o->actual_file, "compare with the actual trace in this file (implies --compare)");
    app->add_option("--context", o->context_lines, "source lines shown around the current one")->check(CLI::Range(0, 50));
    add_colour_option(app, o->colour);
    return {app, [o] { return run_debug(*o); }};
}

}  // namespace cwm_cli
