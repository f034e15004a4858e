// SentencePiece models through libsentencepiece, behind the common Tokenizer interface.
#include <sentencepiece_processor.h>

#include <charconv>

#include "error.hpp"
#include "tokenizer_internal.hpp"

namespace cwm {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's stand-in for ' '

std::string replace_spm_spaces(std::string_view piece) {
    std::string out;
    for (size_t pos = 0; pos < piece.size();) {
        if (piece.substr(pos, kSpmSpace.size()) == kSpmSpace) {
            out.push_back(' ');
            pos += kSpmSpace.size();
        } else {
            out.push_back(piece[pos++]);
        }
    }
    return out;
}

// "<0x0A>" -> "\n": the raw byte of a byte-fallback piece.
std::string byte_piece_value(const std::string& piece) {
    unsigned value = 0;
    if (piece.size() != 6 || !piece.starts_with("<0x") || piece[5] != '>' ||
        std::from_chars(piece.data() + 3, piece.data() + 5, value, 16).ptr != piece.data() + 5) {
        fail(Status::invalid_file, "SentencePiece byte piece '" + piece + "' is not of the form <0xNN>");
    }
    return std::string(1, static_cast<char>(value));
}

// libsentencepiece can tell every piece type except user-defined, and its ModelProto class
// is not part of the installed headers, so the piece types are read from the serialized
// protobuf directly: ModelProto field 1 holds the pieces, SentencePiece field 3 the type.
class ProtoReader {
public:
    struct Field {
        uint32_t number;
        uint64_t value;            // varint fields
        std::string_view payload;  // length-delimited fields
    };

    explicit ProtoReader(std::string_view data) : data_(data) {}
    bool done() const { return pos_ >= data_.size(); }

    Field next() {
        const uint64_t tag = varint();
        Field field{uint32_t(tag >> 3), 0, {}};
        switch (tag & 7) {
            case 0: field.value = varint(); break;
            case 1: take(8); break;
            case 2: field.payload = take(varint()); break;
            case 5: take(4); break;
            default: fail(Status::invalid_file, "SentencePiece model: unsupported protobuf wire type");
        }
        return field;
    }

private:
    uint64_t varint() {
        uint64_t value = 0;
        for (int shift = 0; shift < 64 && !done(); shift += 7) {
            const auto byte = static_cast<unsigned char>(data_[pos_++]);
            value |= uint64_t(byte & 0x7F) << shift;
            if (!(byte & 0x80)) return value;
        }
        fail(Status::invalid_file, "SentencePiece model: malformed protobuf varint");
    }

    std::string_view take(uint64_t n) {
        if (n > data_.size() - pos_) fail(Status::invalid_file, "SentencePiece model: truncated protobuf");
        std::string_view out = data_.substr(pos_, n);
        pos_ += n;
        return out;
    }

    std::string_view data_;
    size_t pos_ = 0;
};

constexpr uint32_t kModelPiecesField = 1;
constexpr uint32_t kPieceTypeField = 3;
constexpr uint64_t kUserDefinedPieceType = 4;

std::vector<bool> read_user_defined_flags(std::string_view serialized) {
    std::vector<bool> flags;
    for (ProtoReader model(serialized); !model.done();) {
        ProtoReader::Field piece = model.next();
        if (piece.number != kModelPiecesField) continue;
        bool user_defined = false;
        for (ProtoReader fields(piece.payload); !fields.done();) {
            ProtoReader::Field field = fields.next();
            if (field.number == kPieceTypeField) user_defined = field.value == kUserDefinedPieceType;
        }
        flags.push_back(user_defined);
    }
    return flags;
}

class SpmTokenizer final : public Tokenizer {
public:
    explicit SpmTokenizer(std::string_view serialized);

    std::vector<Token> encode(std::string_view text, bool parse_special) const override;
    std::string token_bytes(Token id, bool render_special) const override;
    size_t n_vocab() const override { return texts_.size(); }
    TokenKind kind(Token id) const override { return kinds_[check_id(id)]; }
    const std::string& token_text(Token id) const override { return texts_[check_id(id)]; }
    std::optional<Token> find(std::string_view text) const override;

private:
    size_t check_id(Token id) const;
    TokenKind piece_kind(int id, bool user_defined) const;
    void encode_plain(std::string_view text, std::vector<Token>& out) const;

    sentencepiece::SentencePieceProcessor sp_;
    std::vector<std::string> texts_;
    std::vector<TokenKind> kinds_;
    std::vector<std::string> bytes_;
    detail::StringMap<Token> by_text_;
    detail::SpecialMatcher specials_;
};

SpmTokenizer::SpmTokenizer(std::string_view serialized) {
    auto status = sp_.LoadFromSerializedProto(serialized);
    if (!status.ok()) fail(Status::invalid_file, "not a valid SentencePiece model: " + status.ToString());
    const int n = sp_.GetPieceSize();
    const std::vector<bool> user_defined = read_user_defined_flags(serialized);
    if (user_defined.size() != size_t(n)) fail(Status::internal, "SentencePiece model: piece count mismatch");
    for (int id = 0; id < n; ++id) {
        texts_.push_back(sp_.IdToPiece(id));
        kinds_.push_back(piece_kind(id, user_defined[size_t(id)]));
        const std::string& text = texts_.back();
        switch (kinds_.back()) {
            case TokenKind::byte: bytes_.push_back(byte_piece_value(text)); break;
            case TokenKind::unused: bytes_.emplace_back(); break;
            default: bytes_.push_back(replace_spm_spaces(text));
        }
        by_text_.emplace(text, Token(id));
        // SentencePiece itself matches user-defined pieces in any text (splitting them out
        // here would add a dummy-prefix space after each); control pieces are only ever
        // produced here, when the caller asks for special tokens.
        if (kinds_.back() == TokenKind::control) specials_.add(text, Token(id));
    }
    bos = sp_.bos_id();
    eos = sp_.eos_id();
    detail::add_stop_token(stop_tokens, eos);
    for (const char* name : {"<|eot_id|>", "<|eom_id|>"}) {
        if (auto id = find(name)) detail::add_stop_token(stop_tokens, *id);
    }
}

TokenKind SpmTokenizer::piece_kind(int id, bool user_defined) const {
    if (sp_.IsControl(id)) return TokenKind::control;
    if (sp_.IsUnknown(id)) return TokenKind::unknown;
    if (sp_.IsUnused(id)) return TokenKind::unused;
    if (sp_.IsByte(id)) return TokenKind::byte;
    return user_defined ? TokenKind::user_defined : TokenKind::normal;
}

size_t SpmTokenizer::check_id(Token id) const {
    if (id < 0 || size_t(id) >= texts_.size()) {
        fail(Status::invalid_argument, "token id " + std::to_string(id) + " is outside the vocabulary of " +
                                           std::to_string(texts_.size()) + " tokens");
    }
    return size_t(id);
}

std::vector<Token> SpmTokenizer::encode(std::string_view text, bool parse_special) const {
    detail::require_valid_utf8(text);
    std::vector<Token> out;
    if (!parse_special) {
        encode_plain(text, out);
        return out;
    }
    specials_.split(
        text, [&](std::string_view segment) { encode_plain(segment, out); }, [&](Token id) { out.push_back(id); });
    return out;
}

void SpmTokenizer::encode_plain(std::string_view text, std::vector<Token>& out) const {
    std::vector<int> ids;
    auto status = sp_.Encode(text, &ids);
    if (!status.ok()) fail(Status::internal, "SentencePiece encoding failed: " + status.ToString());
    out.insert(out.end(), ids.begin(), ids.end());
}

std::string SpmTokenizer::token_bytes(Token id, bool render_special) const {
    size_t i = check_id(id);
    bool hidden = (kinds_[i] == TokenKind::control || kinds_[i] == TokenKind::unknown) && !render_special;
    return hidden ? std::string() : bytes_[i];
}

std::optional<Token> SpmTokenizer::find(std::string_view text) const {
    auto it = by_text_.find(text);
    if (it == by_text_.end()) return std::nullopt;
    return it->second;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_sentencepiece_bytes(std::string_view serialized) {
    return std::make_unique<SpmTokenizer>(serialized);
}

std::unique_ptr<Tokenizer> load_tokenizer_sentencepiece_file(const std::string& path) {
    std::string serialized = detail::read_whole_file(path, "SentencePiece model");
    return detail::with_file_context(path, [&] { return load_tokenizer_sentencepiece_bytes(serialized); });
}

}  // namespace cwm
