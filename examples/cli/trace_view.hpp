// How the trace commands show frames: one line per frame (event, line number, source line),
// the locals under it, and marks for agreement; colour only on a terminal (or when asked).
#pragma once

#include <cwm/trace.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace cwm_cli {

enum class Colour { automatic, always, never };
// "auto", "always" or "never" (the --color option).
Colour parse_colour(const std::string& name);

class View {
public:
    View(Colour colour, FILE* out);

    bool coloured() const { return coloured_; }
    // Text in green / red / bold / dim when coloured, as it is otherwise.
    std::string good(std::string_view s) const { return paint("32", s); }
    std::string bad(std::string_view s) const { return paint("31", s); }
    std::string strong(std::string_view s) const { return paint("1", s); }
    std::string faint(std::string_view s) const { return paint("2", s); }
    // The agreement mark: a green check / red cross, or "=" / "x" in plain text.
    std::string mark(bool agree) const;
    // Columns of the terminal (80 when not one).
    int width() const { return width_; }

private:
    std::string paint(const char* code, std::string_view s) const;
    bool coloured_;
    int width_;
};

// "call   L5   def f(n):" (the source line without its newline), printable.
std::string frame_head(const cwm::trace_frame& f);
// "n=2, total=0" (resolved) for call and line frames; "-> 2" / "raises ValueError(..)" else;
// printable.
std::string frame_body(const cwm::trace_frame& f);
// Model-written text made safe for a terminal: invalid UTF-8 becomes U+FFFD and control
// characters (an escape sequence could repaint the screen) are written as \xNN.
std::string printable(std::string_view s);
// "70.6%" for 0.706.
std::string percent(double fraction);
// Cuts `s` to `width` columns (counting UTF-8 code points), ending with "…" when cut.
std::string fit(std::string_view s, size_t width);

}  // namespace cwm_cli
