#include "trace_view.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace cwm_cli {

namespace {

int terminal_width(FILE* out) {
    winsize ws{};
    if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) return ws.ws_col;
    if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) >= 40) return std::atoi(c);
    return 100;
}

// Length of the valid UTF-8 sequence at s[i] (1-4), 0 when invalid.
size_t utf8_length(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((b(i + k) & 0xC0) != 0x80) return 0;
    const uint32_t cp = n == 1 ? c : n == 2 ? ((c & 0x1Fu) << 6 | (b(i + 1) & 0x3Fu))
                          : n == 3 ? ((c & 0x0Fu) << 12 | (b(i + 1) & 0x3Fu) << 6 | (b(i + 2) & 0x3Fu))
                                   : ((c & 0x07u) << 18 | (b(i + 1) & 0x3Fu) << 12 | (b(i + 2) & 0x3Fu) << 6 | (b(i + 3) & 0x3Fu));
    const bool overlong = (n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    return overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ? 0 : n;
}

size_t code_points(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

const char* event_label(cwm_trace_event e) {
    switch (e) {
        case CWM_TRACE_CALL: return "call";
        case CWM_TRACE_LINE: return "line";
        case CWM_TRACE_RETURN: return "return";
        case CWM_TRACE_EXCEPTION: return "raise";
    }
    return "?";
}

}  // namespace

Colour parse_colour(const std::string& name) {
    return name == "always" ? Colour::always : name == "never" ? Colour::never : Colour::automatic;
}

View::View(Colour colour, FILE* out)
    : coloured_(colour == Colour::always ||
                (colour == Colour::automatic && isatty(fileno(out)) && !std::getenv("NO_COLOR"))),
      width_(terminal_width(out)) {}

std::string View::paint(const char* code, std::string_view s) const {
    if (!coloured_) return std::string(s);
    return "\033[" + std::string(code) + "m" + std::string(s) + "\033[0m";
}

std::string View::mark(bool agree) const {
    if (!coloured_) return agree ? "=" : "x";
    return agree ? good("\u2713") : bad("\u2717");
}

std::string frame_head(const cwm::trace_frame& f) {
    std::string line = f.line;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    std::string head = event_label(f.event);
    head.resize(7, ' ');
    head += 'L';
    head += f.line_number > 0 ? std::to_string(f.line_number) : std::string("?");
    head.resize(std::max<size_t>(head.size() + 1, 12), ' ');
    head += printable(line);
    return head;
}

std::string frame_body(const cwm::trace_frame& f) {
    if (f.event == CWM_TRACE_RETURN) return "-> " + printable(f.value.value_or("?"));
    if (f.event == CWM_TRACE_EXCEPTION) return "raises " + printable(f.value.value_or("?"));
    std::string body;
    for (const auto& v : f.resolved) body += (body.empty() ? "" : ", ") + printable(v.name) + "=" + printable(v.repr);
    return body.empty() ? "(no locals)" : body;
}

std::string printable(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size();) {
        const size_t n = utf8_length(s, i);
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (n == 0) {
            out += "\uFFFD";
            ++i;
        } else if (n == 1 && (c < 0x20 || c == 0x7F)) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

std::string percent(double fraction) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", fraction * 100.0);
    return buf;
}

std::string fit(std::string_view s, size_t width) {
    if (code_points(s) <= width) return std::string(s);
    std::string out;
    size_t n = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        const bool starts = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
        if (starts && ++n > width - 1) break;
        out += s[i];
    }
    return out + "\u2026";
}

}  // namespace cwm_cli
