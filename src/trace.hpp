// Execution traces in CWM's format (../shared/docs/trace-format.md): the prompt that asks for
// one, and a parser that turns a trace (the tracer's text, or a model's tokens as they come)
// into frames, resolving ".." values and source line numbers. Malformed input is reported as
// issues on the trace, never thrown: a model may write anything.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cwm::trace {

// The special tokens of the format, by name (their ids come from the vocabulary).
inline constexpr std::string_view kBeginOfText = "<|begin_of_text|>", kEndOfText = "<|end_of_text|>",
                                  kContextStart = "<|trace_context_start|>", kFrameSep = "<|frame_sep|>",
                                  kActionSep = "<|action_sep|>", kCallSep = "<|call_sep|>", kLineSep = "<|line_sep|>",
                                  kReturnSep = "<|return_sep|>", kExceptionSep = "<|exception_sep|>",
                                  kArgSep = "<|arg_sep|>";
// Appended to the entry function's `def` line in the prompt.
inline constexpr std::string_view kStartMarker = "  # << START_OF_TRACE";

enum class Event { call, line, return_, exception };
const char* event_name(Event event);

struct Variable {
    std::string name, repr;
    bool operator==(const Variable&) const = default;
};

struct Frame {
    Event event = Event::line;
    std::vector<Variable> locals;    // as written: repr ".." means unchanged in this scope
    std::vector<Variable> resolved;  // the same with every ".." replaced by the value it stands for
    std::string line;                // the source line, indentation and '\n' included
    int line_number = 0;             // 1-based line of the source it was matched to; 0: not found
    std::optional<std::string> value;  // return and exception frames: the repr of the value
};

struct Issue {
    size_t frame;  // index of the frame it concerns (frames.size() for the unfinished one)
    std::string message;
};

struct Trace {
    std::vector<Frame> frames;
    bool ended = false;  // <|end_of_text|> closed it
    std::vector<Issue> issues;
};

// "<|begin_of_text|><|trace_context_start|>SOURCE<|frame_sep|>", with kStartMarker appended to
// the def line of `entry` (when given; its marker is then not required in the source). Throws
// Error(invalid_argument) when the source has no marked function and no entry was named, or
// when `entry` is not defined in it.
std::string build_prompt(std::string_view source, std::string_view entry = {});

// Reads a trace piece by piece. Special tokens arrive by name (push_special) and everything
// between them as text (push_text), as a model produces them; push_literal splits text in which
// the special tokens are spelled out (the tracer's output) into the same calls.
class Parser {
public:
    // `source`: the program (with or without the marker), for line numbers and scopes.
    explicit Parser(std::string_view source);

    void push_special(std::string_view name);
    void push_text(std::string_view text);
    void push_literal(std::string_view text);

    // The frames so far; complete frames only.
    const Trace& trace() const { return trace_; }
    // What is expected next: true while a frame is open (its kind token has been read).
    bool in_frame() const { return part_ != Part::kind; }
    // Ends the input: an unfinished frame or a missing <|end_of_text|> becomes an issue.
    Trace finish();
    // Records a problem found outside the parser (e.g. a frame that never ends).
    void note(const std::string& message) { issue(message); }

private:
    enum class Part { kind, locals, line, value, after_end };
    struct Scope {
        int function;                   // index into functions_, -1 unknown
        std::vector<Variable> values;   // last resolved locals
    };
    struct Function {
        int def_line, last_line;  // 1-based, inclusive
    };

    void issue(const std::string& message);
    void start_frame(Event event);
    void end_frame();
    void resolve(Frame& frame);
    int match_line(const std::string& line, int function) const;
    int function_at(int line_number) const;
    Scope& scope_for(Frame& frame);

    std::vector<std::string> lines_;  // the source's lines, marker removed
    std::vector<Function> functions_;
    std::vector<Scope> scopes_;
    bool last_was_exception_ = false;
    Part part_ = Part::kind;
    Frame frame_;
    std::string text_;  // text of the part being read
    Trace trace_;
};

// Parses a whole trace written out as text (the tracer's stdout).
Trace parse_text(std::string_view source, std::string_view text);

}  // namespace cwm::trace
