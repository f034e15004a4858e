#include "trace.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "error.hpp"

namespace cwm::trace {

namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kSpecials[] = {kBeginOfText, kEndOfText,  kContextStart, kFrameSep,    kActionSep,
                                          kCallSep,     kLineSep,    kReturnSep,    kExceptionSep, kArgSep};

std::vector<std::string> split_lines(std::string_view source) {
    std::vector<std::string> lines;
    size_t begin = 0;
    while (begin < source.size()) {
        size_t end = source.find('\n', begin);
        if (end == std::string_view::npos) end = source.size();
        std::string line(source.substr(begin, end - begin));
        if (line.ends_with(kStartMarker)) line.resize(line.size() - kStartMarker.size());
        lines.push_back(std::move(line));
        begin = end + 1;
    }
    return lines;
}

size_t indent_of(const std::string& line) { return line.find_first_not_of(" \t"); }

bool is_blank_or_comment(const std::string& line) {
    const size_t i = indent_of(line);
    return i == std::string::npos || line[i] == '#';
}

// The name defined by a `def` line, or "" for any other line.
std::string def_name(const std::string& line) {
    size_t i = indent_of(line);
    if (i == std::string::npos) return "";
    std::string_view rest = std::string_view(line).substr(i);
    if (rest.starts_with("async ")) rest.remove_prefix(6);
    if (!rest.starts_with("def ")) return "";
    rest.remove_prefix(4);
    const size_t paren = rest.find('(');
    return paren == std::string_view::npos ? "" : std::string(rest.substr(0, paren));
}

// A JSON string value (VALUE of a return / exception frame), or nullopt if it is not one.
std::optional<std::string> json_string(const std::string& text) {
    const json v = json::parse(text, nullptr, false);
    if (v.is_discarded() || !v.is_string()) return std::nullopt;
    return v.get<std::string>();
}

}  // namespace

const char* event_name(Event event) {
    switch (event) {
        case Event::call: return "call";
        case Event::line: return "line";
        case Event::return_: return "return";
        case Event::exception: return "exception";
    }
    return "?";
}

std::string build_prompt(std::string_view source, std::string_view entry) {
    std::string body(source);
    if (entry.empty()) {
        if (body.find(std::string(kStartMarker) + "\n") == std::string::npos && !body.ends_with(kStartMarker))
            fail(Status::invalid_argument, "no function is marked with '" + std::string(kStartMarker.substr(2)) +
                                               "' and no entry function was named");
    } else {
        size_t begin = 0;
        bool found = false;
        while (begin <= body.size() && !found) {
            size_t end = body.find('\n', begin);
            if (end == std::string::npos) end = body.size();
            const std::string line = body.substr(begin, end - begin);
            if (def_name(line) == entry) {
                found = true;
                if (!line.ends_with(kStartMarker)) body.insert(end, kStartMarker);
            }
            begin = end + 1;
        }
        if (!found) fail(Status::invalid_argument, "the program defines no function '" + std::string(entry) + "'");
    }
    return std::string(kBeginOfText) + std::string(kContextStart) + body + std::string(kFrameSep);
}

Parser::Parser(std::string_view source) : lines_(split_lines(source)) {
    for (size_t i = 0; i < lines_.size(); ++i) {
        if (def_name(lines_[i]).empty()) continue;
        const size_t indent = indent_of(lines_[i]);
        size_t last = i;
        for (size_t j = i + 1; j < lines_.size(); ++j) {
            if (is_blank_or_comment(lines_[j])) continue;
            if (indent_of(lines_[j]) <= indent) break;
            last = j;
        }
        functions_.push_back({int(i) + 1, int(last) + 1});
    }
}

void Parser::issue(const std::string& message) { trace_.issues.push_back({trace_.frames.size(), message}); }

void Parser::start_frame(Event event) {
    frame_ = Frame{};
    frame_.event = event;
    text_.clear();
    part_ = Part::locals;
}

void Parser::push_special(std::string_view name) {
    const auto kind_of = [](std::string_view n) -> std::optional<Event> {
        if (n == kCallSep) return Event::call;
        if (n == kLineSep) return Event::line;
        if (n == kReturnSep) return Event::return_;
        if (n == kExceptionSep) return Event::exception;
        return std::nullopt;
    };
    const bool value_frame = frame_.event == Event::return_ || frame_.event == Event::exception;
    switch (part_) {
        case Part::after_end:
            issue("'" + std::string(name) + "' after <|end_of_text|>");
            return;
        case Part::kind:
            if (const auto kind = kind_of(name)) return start_frame(*kind);
            if (name == kEndOfText) {
                trace_.ended = true;
                part_ = Part::after_end;
                return;
            }
            return issue("'" + std::string(name) + "' where a frame should start");
        case Part::locals:
            if (name == kActionSep) {
                if (value_frame && !text_.empty()) issue("a " + std::string(event_name(frame_.event)) + " frame with locals");
                if (!value_frame) {
                    const json locals = json::parse(text_, nullptr, false);
                    if (locals.is_discarded() || !locals.is_object()) {
                        issue("locals are not a JSON object: " + text_.substr(0, 80));
                    } else {
                        for (const auto& [key, value] : locals.items()) {
                            if (value.is_string()) frame_.locals.push_back({key, value.get<std::string>()});
                            else issue("local '" + key + "' is not a JSON string");
                        }
                    }
                }
                text_.clear();
                part_ = Part::line;
                return;
            }
            break;
        case Part::line:
            if (!value_frame && name == kFrameSep) {
                frame_.line = text_;
                return end_frame();
            }
            if (value_frame && name == kArgSep) {
                frame_.line = text_;
                text_.clear();
                part_ = Part::value;
                return;
            }
            break;
        case Part::value:
            if (name == kFrameSep) {
                frame_.value = json_string(text_);
                if (!frame_.value) issue("the value is not a JSON string: " + text_.substr(0, 80));
                return end_frame();
            }
            break;
    }
    // A token the open frame cannot take: the frame is dropped, and a kind token starts a new one.
    issue("unexpected '" + std::string(name) + "' inside a " + event_name(frame_.event) + " frame; frame dropped");
    part_ = Part::kind;
    text_.clear();
    if (const auto kind = kind_of(name)) start_frame(*kind);
    if (name == kEndOfText) push_special(name);
}

void Parser::push_text(std::string_view text) {
    if (part_ == Part::kind || part_ == Part::after_end) {
        if (text.find_first_not_of(" \t\r\n") != std::string_view::npos)
            issue("text outside a frame: " + std::string(text.substr(0, 80)));
        return;
    }
    text_ += text;
}

void Parser::push_literal(std::string_view text) {
    while (!text.empty()) {
        size_t at = std::string_view::npos;
        std::string_view found;
        for (std::string_view s : kSpecials) {
            const size_t p = text.find(s);
            if (p < at) at = p, found = s;
        }
        if (at == std::string_view::npos) return push_text(text);
        if (at > 0) push_text(text.substr(0, at));
        push_special(found);
        text.remove_prefix(at + found.size());
    }
}

int Parser::function_at(int line_number) const {
    int best = -1;  // the innermost function containing the line
    for (size_t f = 0; f < functions_.size(); ++f)
        if (functions_[f].def_line <= line_number && line_number <= functions_[f].last_line) best = int(f);
    return best;
}

// The source line equal to `line`: inside `function` when possible (the scope it runs in).
int Parser::match_line(const std::string& line, int function) const {
    const std::string text = line.ends_with('\n') ? line.substr(0, line.size() - 1) : line;
    int first = 0;
    for (size_t i = 0; i < lines_.size(); ++i) {
        if (lines_[i] != text) continue;
        const int n = int(i) + 1;
        if (function < 0 || (functions_[function].def_line <= n && n <= functions_[function].last_line)) return n;
        if (!first) first = n;
    }
    return first;
}

Parser::Scope& Parser::scope_for(Frame& frame) {
    if (frame.event == Event::call) {
        frame.line_number = match_line(frame.line, -1);
        scopes_.push_back({function_at(frame.line_number), {}});
        return scopes_.back();
    }
    // After an exception the scope may have been left: the caller continues.
    if (last_was_exception_)
        while (scopes_.size() > 1 && scopes_.back().function >= 0) {
            const Function& f = functions_[scopes_.back().function];
            const int n = match_line(frame.line, scopes_.back().function);
            if (n >= f.def_line && n <= f.last_line) break;
            scopes_.pop_back();
        }
    if (scopes_.empty()) {
        issue("a " + std::string(event_name(frame.event)) + " frame before any call frame");
        scopes_.push_back({-1, {}});
    }
    frame.line_number = match_line(frame.line, scopes_.back().function);
    return scopes_.back();
}

void Parser::resolve(Frame& frame) {
    Scope& scope = scope_for(frame);
    if (frame.line_number == 0) {
        const std::string line = frame.line.substr(0, frame.line.find('\n'));
        issue("line is not in the source: " + line.substr(0, 80));
    }
    for (const Variable& v : frame.locals) {
        Variable r = v;
        if (v.repr == "..") {
            const auto it = std::find_if(scope.values.begin(), scope.values.end(),
                                         [&](const Variable& s) { return s.name == v.name; });
            if (it == scope.values.end()) issue("'" + v.name + "' is \"..\" but has no earlier value in its scope");
            else r.repr = it->repr;
        }
        frame.resolved.push_back(std::move(r));
    }
    if (frame.event == Event::call || frame.event == Event::line) scope.values = frame.resolved;
}

void Parser::end_frame() {
    resolve(frame_);
    const Event event = frame_.event;
    trace_.frames.push_back(std::move(frame_));
    frame_ = Frame{};
    text_.clear();
    part_ = Part::kind;
    if (event == Event::return_ && !scopes_.empty()) scopes_.pop_back();
    last_was_exception_ = event == Event::exception;
}

Trace Parser::finish() {
    if (part_ != Part::kind && part_ != Part::after_end)
        issue("the trace ends inside a " + std::string(event_name(frame_.event)) + " frame");
    else if (!trace_.ended)
        issue("the trace ends without <|end_of_text|>");
    part_ = Part::after_end;
    return trace_;
}

Trace parse_text(std::string_view source, std::string_view text) {
    Parser parser(source);
    parser.push_literal(text);
    return parser.finish();
}

}  // namespace cwm::trace
