// Private to the tokenizer sources: pieces shared by the BPE and SentencePiece
// implementations and their loaders. Not part of the runtime's interface.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "error.hpp"
#include "tokenizer.hpp"

namespace cwm::detail {

// Lets unordered maps keyed by std::string be searched with a string_view, without a copy.
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// Throws Error(invalid_argument) naming the byte offset of the first ill-formed sequence.
void require_valid_utf8(std::string_view text);

// Finds the texts of special tokens inside a string, leftmost first and longest among
// those starting at the same byte (as Hugging Face's added-token matcher does).
class SpecialMatcher {
public:
    void add(std::string_view text, Token id);

    // Calls on_text(segment) for plain text and on_special(id) for each match, in order.
    template <typename OnText, typename OnSpecial>
    void split(std::string_view text, OnText&& on_text, OnSpecial&& on_special) const;

private:
    struct Match {
        size_t pos;
        size_t len;
        Token id;
    };
    Match next(std::string_view text, size_t from) const;  // pos == npos when none

    StringMap<Token> by_text_;
    std::vector<size_t> lengths_;  // distinct token lengths, longest first
    bool first_byte_[256] = {};    // quick filter: can a special token start with this byte?
};

template <typename OnText, typename OnSpecial>
void SpecialMatcher::split(std::string_view text, OnText&& on_text, OnSpecial&& on_special) const {
    size_t done = 0;
    while (done < text.size()) {
        Match m = next(text, done);
        if (m.pos == std::string_view::npos) break;
        if (m.pos > done) on_text(text.substr(done, m.pos - done));
        on_special(m.id);
        done = m.pos + m.len;
    }
    if (done < text.size()) on_text(text.substr(done));
}

// The whole content of a file; throws Error(io_error) naming it and `what` it was meant to be.
std::string read_whole_file(const std::string& path, std::string_view what);

// Runs `load`, putting the file's path in front of the message of any Error it throws, so
// that errors found deep inside a vocabulary still say which file they are about.
template <typename Load>
auto with_file_context(const std::string& path, Load&& load) -> decltype(load()) {
    try {
        return load();
    } catch (const Error& e) {
        throw Error(e.status(), "'" + path + "': " + e.what());
    }
}

// Appends `id` to `stops` unless it is -1 or already there.
void add_stop_token(std::vector<Token>& stops, Token id);

// Everything a byte-level BPE vocabulary is made of, as the loaders read it.
struct BpeVocab {
    // Token texts as stored: normal tokens in GPT-2 byte-level form ("Ġworld"), control and
    // user-defined tokens as their plain text ("<|eot_id|>").
    std::vector<std::string> texts;
    std::vector<TokenKind> kinds;
    // Merge rules in rank order, as token texts. Empty means tiktoken semantics: any two
    // adjacent tokens whose concatenation is a token merge, at the rank (= id) of the result.
    std::vector<std::pair<std::string, std::string>> merges;
    Token bos = -1;
    Token eos = -1;
    bool add_bos = true;
    std::vector<Token> stop_tokens;
};

// Validates `vocab` (throws Error(invalid_file) naming what is wrong) and builds the tokenizer.
std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeVocab vocab);

// The id of the token whose stored text is `text`, or -1.
Token find_text(const std::vector<std::string>& texts, std::string_view text);

// A Hugging Face tokenizer.json (with tokenizer_config.json beside it) read, not yet validated
// (make_bpe_tokenizer does that); errors name the file.
BpeVocab read_hf_vocab_file(const std::string& path);

// GPT-2's reversible mapping of raw bytes to printable characters ("byte-level" text).
std::string bytes_to_byte_level(std::string_view bytes);

}  // namespace cwm::detail
