// Tokenizer pieces common to all vocabularies: decoding, UTF-8 checking and streaming,
// special-token matching and picking a loader by file content.
#include "tokenizer.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

#include "error.hpp"
#include "gguf.hpp"
#include "tokenizer_internal.hpp"

namespace cwm {

std::string Tokenizer::decode(const std::vector<Token>& ids, bool render_special) const {
    std::string out;
    for (Token id : ids) out += token_bytes(id, render_special);
    return out;
}

namespace {

// One step of UTF-8 decoding at s[pos], following the Unicode standard's table of
// well-formed byte sequences (3-7) and its "maximal subpart" rule for replacements, which
// is also what WHATWG and Python's errors="replace" do.
struct Utf8Step {
    size_t len;      // bytes of the character, or of the maximal invalid subpart (>= 1)
    bool ok;         // a complete, well-formed character
    bool truncated;  // not ok only because `s` ends: more bytes could still complete it
};

Utf8Step utf8_step(std::string_view s, size_t pos) {
    const auto lead = static_cast<unsigned char>(s[pos]);
    if (lead < 0x80) return {1, true, false};
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        need = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        need = 2;
        if (lead == 0xE0) lo = 0xA0;  // overlong
        if (lead == 0xED) hi = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        need = 3;
        if (lead == 0xF0) lo = 0x90;  // overlong
        if (lead == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else {
        return {1, false, false};
    }
    for (size_t i = 1; i <= need; ++i) {
        if (pos + i >= s.size()) return {i, false, true};
        const auto c = static_cast<unsigned char>(s[pos + i]);
        if (c < lo || c > hi) return {i, false, false};
        lo = 0x80;
        hi = 0xBF;
    }
    return {need + 1, true, false};
}

size_t first_invalid_utf8(std::string_view s) {
    for (size_t pos = 0; pos < s.size();) {
        // Plain ASCII is by far the most common input: skip it without the full step.
        if (static_cast<unsigned char>(s[pos]) < 0x80) {
            ++pos;
            continue;
        }
        Utf8Step step = utf8_step(s, pos);
        if (!step.ok) return pos;
        pos += step.len;
    }
    return std::string_view::npos;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

bool is_valid_utf8(std::string_view s) { return first_invalid_utf8(s) == std::string_view::npos; }

std::string Utf8Stream::push(std::string_view bytes) {
    pending_.append(bytes);
    std::string out;
    size_t pos = 0;
    while (pos < pending_.size()) {
        Utf8Step step = utf8_step(pending_, pos);
        if (step.truncated) break;  // wait for the rest of the character
        if (step.ok) {
            out.append(pending_, pos, step.len);
        } else {
            out.append(kReplacement);
        }
        pos += step.len;
    }
    pending_.erase(0, pos);
    return out;
}

std::string Utf8Stream::finish() {
    // Whatever is still pending is one incomplete maximal subpart.
    std::string out = pending_.empty() ? "" : std::string(kReplacement);
    pending_.clear();
    return out;
}

namespace detail {

void require_valid_utf8(std::string_view text) {
    size_t bad = first_invalid_utf8(text);
    if (bad != std::string_view::npos) {
        fail(Status::invalid_argument,
             "text is not valid UTF-8: ill-formed sequence at byte offset " + std::to_string(bad));
    }
}

std::string read_whole_file(const std::string& path, std::string_view what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(Status::io_error, "cannot open " + std::string(what) + " '" + path + "'");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void add_stop_token(std::vector<Token>& stops, Token id) {
    if (id >= 0 && std::find(stops.begin(), stops.end(), id) == stops.end()) stops.push_back(id);
}

void SpecialMatcher::add(std::string_view text, Token id) {
    if (text.empty()) return;
    by_text_.emplace(std::string(text), id);
    if (std::find(lengths_.begin(), lengths_.end(), text.size()) == lengths_.end()) {
        lengths_.push_back(text.size());
        std::sort(lengths_.begin(), lengths_.end(), std::greater<>());
    }
    first_byte_[static_cast<unsigned char>(text[0])] = true;
}

SpecialMatcher::Match SpecialMatcher::next(std::string_view text, size_t from) const {
    for (size_t pos = from; pos < text.size(); ++pos) {
        if (!first_byte_[static_cast<unsigned char>(text[pos])]) continue;
        for (size_t len : lengths_) {
            if (len > text.size() - pos) continue;
            auto it = by_text_.find(text.substr(pos, len));
            if (it != by_text_.end()) return {pos, len, it->second};
        }
    }
    return {std::string_view::npos, 0, -1};
}

}  // namespace detail

namespace {

enum class FileKind { gguf, hf_json, tiktoken, sentencepiece };

// tiktoken files are lines of "base64 rank".
bool looks_like_tiktoken_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t space = line.find(' ');
    if (space == 0 || space == std::string_view::npos || space + 1 == line.size()) return false;
    auto is_b64 = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '='; };
    auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    return std::all_of(line.begin(), line.begin() + space, is_b64) &&
           std::all_of(line.begin() + space + 1, line.end(), is_digit);
}

FileKind sniff_tokenizer_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(Status::io_error, "cannot open tokenizer file '" + path + "'");
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    if (head.starts_with("GGUF")) return FileKind::gguf;
    size_t first = head.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && head[first] == '{') return FileKind::hf_json;
    size_t eol = head.find('\n');
    if (eol != std::string::npos && looks_like_tiktoken_line(std::string_view(head).substr(0, eol))) {
        return FileKind::tiktoken;
    }
    return FileKind::sentencepiece;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path) {
    switch (sniff_tokenizer_file(path)) {
        case FileKind::gguf: return load_tokenizer_gguf(GgufFile(path));
        case FileKind::hf_json: return load_tokenizer_hf_json(path);
        case FileKind::tiktoken: return load_tokenizer_tiktoken(path);
        case FileKind::sentencepiece: break;
    }
    try {
        return load_tokenizer_sentencepiece_file(path);
    } catch (const Error& e) {
        if (e.status() != Status::invalid_file) throw;
        fail(Status::invalid_file, std::string(e.what()) +
                                       " (the file is not GGUF, tokenizer.json or tiktoken either)");
    }
}

}  // namespace cwm
