// Llama-3 byte-level BPE: the pre-tokenizer regex (PCRE2) splits text into pieces; a piece
// that is itself a token is emitted as is (tiktoken, and Hugging Face's "ignore_merges"),
// any other piece starts as one token per byte and merges adjacent pairs by rank.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <cstdint>
#include <queue>
#include <unordered_map>

#include "error.hpp"
#include "tokenizer_internal.hpp"

namespace cwm::detail {
namespace {

// GPT-2's bytes_to_unicode(): the printable Latin-1 bytes stand for themselves, the other
// 68 bytes map to U+0100, U+0101, ... in byte order.
constexpr std::array<uint16_t, 256> make_byte_to_code_point() {
    std::array<uint16_t, 256> map{};
    uint16_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        map[b] = printable ? static_cast<uint16_t>(b) : next++;
    }
    return map;
}
constexpr std::array<uint16_t, 256> kByteToCodePoint = make_byte_to_code_point();
constexpr uint32_t kMaxByteLevelCodePoint = 0x143;  // 0x100 + 68 - 1

constexpr std::array<int16_t, kMaxByteLevelCodePoint + 1> make_code_point_to_byte() {
    std::array<int16_t, kMaxByteLevelCodePoint + 1> map{};
    for (auto& v : map) v = -1;
    for (int b = 0; b < 256; ++b) map[kByteToCodePoint[b]] = static_cast<int16_t>(b);
    return map;
}
constexpr std::array<int16_t, kMaxByteLevelCodePoint + 1> kCodePointToByte = make_code_point_to_byte();

// Byte-level text only uses code points below U+0800, i.e. 1- and 2-byte UTF-8.
bool byte_level_to_bytes(std::string_view text, std::string& out) {
    out.clear();
    for (size_t i = 0; i < text.size();) {
        const auto c0 = static_cast<unsigned char>(text[i]);
        uint32_t cp;
        if (c0 < 0x80) {
            cp = c0;
            i += 1;
        } else if ((c0 & 0xE0) == 0xC0 && i + 1 < text.size() && (text[i + 1] & 0xC0) == 0x80) {
            cp = ((c0 & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
            i += 2;
        } else {
            return false;
        }
        if (cp > kMaxByteLevelCodePoint || kCodePointToByte[cp] < 0) return false;
        out.push_back(static_cast<char>(kCodePointToByte[cp]));
    }
    return true;
}

// Llama-3's pre-tokenizer as llama.cpp spells it ("llama-bpe"): the case-insensitive
// contractions of the original (?i:'s|'t|...) are written out so that PCRE2's Unicode case
// folding cannot match anything beyond ASCII letters. With PCRE2_UCP, \s is Unicode
// White_Space as in tiktoken's Rust regex (PCRE2 adds only U+180E).
constexpr const char* kLlama3Pattern =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct CodeDeleter {
    void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
    void operator()(pcre2_match_data* md) const { pcre2_match_data_free(md); }
};
using MatchData = std::unique_ptr<pcre2_match_data, MatchDataDeleter>;

std::unique_ptr<pcre2_code, CodeDeleter> compile_pattern(const char* pattern) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                                     PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (!code) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(error, message, sizeof message);
        fail(Status::internal, "pre-tokenizer regex does not compile at offset " + std::to_string(offset) +
                                   ": " + reinterpret_cast<const char*>(message));
    }
    // JIT is only a speed-up: pcre2_match falls back to the interpreter when it is unavailable.
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    return std::unique_ptr<pcre2_code, CodeDeleter>(code);
}

uint64_t pair_key(Token left, Token right) {
    return (uint64_t(uint32_t(left)) << 32) | uint32_t(right);
}

class BpeTokenizer final : public Tokenizer {
public:
    explicit BpeTokenizer(BpeVocab vocab);

    std::vector<Token> encode(std::string_view text, bool parse_special) const override;
    std::string token_bytes(Token id, bool render_special) const override;
    size_t n_vocab() const override { return texts_.size(); }
    TokenKind kind(Token id) const override { return kinds_[check_id(id)]; }
    const std::string& token_text(Token id) const override { return texts_[check_id(id)]; }
    std::optional<Token> find(std::string_view text) const override;

private:
    struct Merge {
        int32_t rank;
        Token result;
    };

    size_t check_id(Token id) const;
    void index_tokens();
    void add_ranked_merges(const std::vector<std::pair<std::string, std::string>>& merges);
    void add_implied_merges();
    void check_special_ids() const;
    void encode_text(std::string_view text, pcre2_match_data* md, std::vector<Token>& out) const;
    void encode_piece(std::string_view piece, std::vector<Token>& out) const;
    const Merge* find_merge(Token left, Token right) const;

    std::vector<std::string> texts_;
    std::vector<TokenKind> kinds_;
    std::vector<std::string> bytes_;  // raw bytes of normal tokens, text of the others
    StringMap<Token> by_text_;
    StringMap<Token> by_bytes_;       // normal tokens only: what plain text can become
    std::array<Token, 256> byte_token_{};
    std::unordered_map<uint64_t, Merge> merges_;
    SpecialMatcher specials_;
    std::unique_ptr<pcre2_code, CodeDeleter> pattern_;
};

BpeTokenizer::BpeTokenizer(BpeVocab vocab)
    : texts_(std::move(vocab.texts)), kinds_(std::move(vocab.kinds)), pattern_(compile_pattern(kLlama3Pattern)) {
    if (texts_.empty()) fail(Status::invalid_file, "BPE vocabulary is empty");
    if (texts_.size() > size_t(INT32_MAX)) fail(Status::invalid_file, "BPE vocabulary is too large");
    if (kinds_.size() != texts_.size()) {
        fail(Status::invalid_file, "BPE vocabulary has " + std::to_string(texts_.size()) + " tokens but " +
                                       std::to_string(kinds_.size()) + " token types");
    }
    bos = vocab.bos;
    eos = vocab.eos;
    add_bos = vocab.add_bos;
    stop_tokens = std::move(vocab.stop_tokens);
    check_special_ids();
    index_tokens();
    if (vocab.merges.empty()) {
        add_implied_merges();
    } else {
        add_ranked_merges(vocab.merges);
    }
}

size_t BpeTokenizer::check_id(Token id) const {
    if (id < 0 || size_t(id) >= texts_.size()) {
        fail(Status::invalid_argument, "token id " + std::to_string(id) + " is outside the vocabulary of " +
                                           std::to_string(texts_.size()) + " tokens");
    }
    return size_t(id);
}

void BpeTokenizer::check_special_ids() const {
    auto check = [&](Token id, const char* what) {
        if (id < -1 || (id >= 0 && size_t(id) >= texts_.size())) {
            fail(Status::invalid_file, std::string(what) + " token id " + std::to_string(id) +
                                           " is outside the vocabulary of " + std::to_string(texts_.size()));
        }
    };
    check(bos, "BOS");
    check(eos, "EOS");
    for (Token id : stop_tokens) check(id, "stop");
}

void BpeTokenizer::index_tokens() {
    bytes_.resize(texts_.size());
    by_text_.reserve(texts_.size());
    by_bytes_.reserve(texts_.size());
    for (size_t id = 0; id < texts_.size(); ++id) {
        const std::string& text = texts_[id];
        by_text_.emplace(text, Token(id));  // the first of duplicate texts wins, as in llama.cpp
        if (kinds_[id] == TokenKind::control || kinds_[id] == TokenKind::user_defined) specials_.add(text, Token(id));
        if (kinds_[id] != TokenKind::normal) {
            bytes_[id] = text;
            continue;
        }
        if (!byte_level_to_bytes(text, bytes_[id])) {
            fail(Status::invalid_file, "token " + std::to_string(id) + " '" + text +
                                           "' is a normal token but not in GPT-2 byte-level form");
        }
        by_bytes_.emplace(bytes_[id], Token(id));
    }
    for (int b = 0; b < 256; ++b) {
        const char byte = char(b);
        auto it = by_bytes_.find(std::string_view(&byte, 1));
        if (it == by_bytes_.end()) {
            fail(Status::invalid_file, "byte-level BPE vocabulary has no token for byte " + std::to_string(b));
        }
        byte_token_[b] = it->second;
    }
}

void BpeTokenizer::add_ranked_merges(const std::vector<std::pair<std::string, std::string>>& merges) {
    if (merges.size() > size_t(INT32_MAX)) fail(Status::invalid_file, "too many BPE merges");
    merges_.reserve(merges.size());
    auto lookup = [&](const std::string& text, size_t rank) {
        auto it = by_text_.find(text);
        if (it == by_text_.end()) {
            fail(Status::invalid_file, "BPE merge " + std::to_string(rank) + " ('" + merges[rank].first + " " +
                                           merges[rank].second + "') refers to unknown token '" + text + "'");
        }
        return it->second;
    };
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const auto& [left, right] = merges[rank];
        const Token left_id = lookup(left, rank), right_id = lookup(right, rank);
        merges_.try_emplace(pair_key(left_id, right_id), Merge{int32_t(rank), lookup(left + right, rank)});  // lowest rank wins
    }
}

// tiktoken has no merge list: two adjacent tokens merge whenever their concatenation is a
// token, with that token's rank (its id) as priority. Listing every split of every token
// into two tokens gives exactly those pairs.
void BpeTokenizer::add_implied_merges() {
    merges_.reserve(texts_.size() * 2);
    for (size_t id = 0; id < texts_.size(); ++id) {
        if (kinds_[id] != TokenKind::normal) continue;
        std::string_view bytes = bytes_[id];
        for (size_t split = 1; split < bytes.size(); ++split) {
            auto left = by_bytes_.find(bytes.substr(0, split));
            if (left == by_bytes_.end()) continue;
            auto right = by_bytes_.find(bytes.substr(split));
            if (right == by_bytes_.end()) continue;
            merges_.try_emplace(pair_key(left->second, right->second), Merge{int32_t(id), Token(id)});
        }
    }
}

const BpeTokenizer::Merge* BpeTokenizer::find_merge(Token left, Token right) const {
    auto it = merges_.find(pair_key(left, right));
    return it == merges_.end() ? nullptr : &it->second;
}

std::vector<Token> BpeTokenizer::encode(std::string_view text, bool parse_special) const {
    require_valid_utf8(text);
    if (text.size() > size_t(INT32_MAX)) fail(Status::invalid_argument, "text to encode is larger than 2 GiB");
    // Per call, so that concurrent encodes never share matcher state.
    MatchData md(pcre2_match_data_create_from_pattern(pattern_.get(), nullptr));
    if (!md) fail(Status::out_of_memory, "cannot allocate regex match data");
    std::vector<Token> out;
    if (!parse_special) {
        encode_text(text, md.get(), out);
        return out;
    }
    specials_.split(
        text, [&](std::string_view segment) { encode_text(segment, md.get(), out); },
        [&](Token id) { out.push_back(id); });
    return out;
}

void BpeTokenizer::encode_text(std::string_view text, pcre2_match_data* md, std::vector<Token>& out) const {
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0;
    while (pos < text.size()) {
        int rc = pcre2_match(pattern_.get(), subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) fail(Status::internal, "pre-tokenizer regex failed with PCRE2 error " + std::to_string(rc));
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(md);
        if (ovector[1] <= ovector[0]) fail(Status::internal, "pre-tokenizer regex matched an empty piece");
        // Text the regex skips would stay a piece of its own (Hugging Face's "Isolated").
        if (ovector[0] > pos) encode_piece(text.substr(pos, ovector[0] - pos), out);
        encode_piece(text.substr(ovector[0], ovector[1] - ovector[0]), out);
        pos = ovector[1];
    }
    if (pos < text.size()) encode_piece(text.substr(pos), out);
}

// Merges adjacent symbols lowest rank first (leftmost among equal ranks) using a heap of
// candidate pairs; candidates made stale by an earlier merge are skipped when popped. A
// symbol's token only ever grows, so "both ends still hold the same tokens" is a sufficient
// freshness test. O(n log n), which matters for long pieces such as runs of spaces.
void BpeTokenizer::encode_piece(std::string_view piece, std::vector<Token>& out) const {
    if (piece.empty()) return;
    if (auto it = by_bytes_.find(piece); it != by_bytes_.end()) {
        out.push_back(it->second);
        return;
    }
    struct Symbol {
        Token id;
        int prev, next;  // neighbours in the list of live symbols, -1 at the ends
    };
    struct Candidate {
        int32_t rank;
        int left;
        Token left_id, right_id;
        bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
    };
    const int n = int(piece.size());
    std::vector<Symbol> syms(piece.size());
    for (int i = 0; i < n; ++i) {
        syms[i] = {byte_token_[static_cast<unsigned char>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1};
    }
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
    auto consider = [&](int left) {
        if (left < 0 || syms[left].next < 0) return;
        Token a = syms[left].id, b = syms[syms[left].next].id;
        if (const Merge* m = find_merge(a, b)) heap.push({m->rank, left, a, b});
    };
    for (int i = 0; i + 1 < n; ++i) consider(i);

    while (!heap.empty()) {
        const Candidate c = heap.top();
        heap.pop();
        Symbol& left = syms[c.left];
        if (left.id != c.left_id || left.next < 0 || syms[left.next].id != c.right_id) continue;
        Symbol& right = syms[left.next];
        left.id = find_merge(c.left_id, c.right_id)->result;
        left.next = right.next;
        if (right.next >= 0) syms[right.next].prev = c.left;
        right.id = -1;  // removed from the list
        consider(left.prev);
        consider(c.left);
    }
    for (int i = 0; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
}

std::string BpeTokenizer::token_bytes(Token id, bool render_special) const {
    size_t i = check_id(id);
    switch (kinds_[i]) {
        case TokenKind::normal:
        case TokenKind::user_defined: return bytes_[i];
        case TokenKind::control:
        case TokenKind::unknown: return render_special ? bytes_[i] : std::string();
        case TokenKind::byte:
        case TokenKind::unused: return std::string();
    }
    fail(Status::internal, "token " + std::to_string(id) + " has an invalid kind");
}

std::optional<Token> BpeTokenizer::find(std::string_view text) const {
    auto it = by_text_.find(text);
    if (it == by_text_.end()) return std::nullopt;
    return it->second;
}

}  // namespace

std::string bytes_to_byte_level(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char c : bytes) {
        uint16_t cp = kByteToCodePoint[static_cast<unsigned char>(c)];
        if (cp < 0x80) {
            out.push_back(char(cp));
        } else {
            out.push_back(char(0xC0 | (cp >> 6)));
            out.push_back(char(0x80 | (cp & 0x3F)));
        }
    }
    return out;
}

std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeVocab vocab) { return std::make_unique<BpeTokenizer>(std::move(vocab)); }

}  // namespace cwm::detail
