// Tokenizers: Llama-3 byte-level BPE (from a GGUF vocabulary, a Hugging Face tokenizer.json
// or a tiktoken tokenizer.model) and SentencePiece (from a .model file or a serialized model
// embedded in GGUF). All share one interface; special tokens are found by name.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cwm {

class GgufFile;
class GgufWriter;
using Token = int32_t;

enum class TokenKind : uint8_t {
    normal,        // ordinary text piece
    control,       // special token (<|begin_of_text|>, trace tokens, ...): never produced from plain text
    user_defined,  // added token that is matched in text like a special token
    byte,          // SentencePiece byte-fallback token <0xNN>
    unknown,
    unused,
};

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Encodes text without BOS. With parse_special, occurrences of control and user-defined
    // token texts become those tokens; without it they are encoded as plain text.
    // Throws Error(invalid_argument) if `text` is not valid UTF-8.
    virtual std::vector<Token> encode(std::string_view text, bool parse_special) const = 0;

    // The raw bytes a token stands for (may be part of a UTF-8 character). Control tokens
    // give their text (e.g. "<|eot_id|>") only when `render_special`, else "".
    // Throws Error(invalid_argument) for an id outside [0, n_vocab()).
    virtual std::string token_bytes(Token id, bool render_special) const = 0;

    virtual size_t n_vocab() const = 0;
    virtual TokenKind kind(Token id) const = 0;
    // The token's text as stored in the vocabulary (e.g. "Ġworld" for byte-level BPE).
    virtual const std::string& token_text(Token id) const = 0;
    // Looks up a token by its exact vocabulary text (e.g. "<|frame_sep|>").
    virtual std::optional<Token> find(std::string_view text) const = 0;

    // Conventional tokens; -1 where the vocabulary has none.
    Token bos = -1;
    Token eos = -1;
    bool add_bos = true;
    std::vector<Token> stop_tokens;  // end-of-generation tokens (eos, eot, eom ...)

    // Concatenated token_bytes; may end in an incomplete UTF-8 sequence.
    std::string decode(const std::vector<Token>& ids, bool render_special) const;
};

// Loaders. Each throws Error(io_error / invalid_file / unsupported) with a clear message.
// From `tokenizer.ggml.*` keys as llama.cpp writes them (model "gpt2" = byte-level BPE,
// "llama"-style SentencePiece is only supported through an embedded serialized model).
std::unique_ptr<Tokenizer> load_tokenizer_gguf(const GgufFile& file);
std::unique_ptr<Tokenizer> load_tokenizer_hf_json(const std::string& path);      // tokenizer.json
std::unique_ptr<Tokenizer> load_tokenizer_tiktoken(const std::string& path);     // tokenizer.model (tiktoken)
std::unique_ptr<Tokenizer> load_tokenizer_sentencepiece_file(const std::string& path);  // .model
std::unique_ptr<Tokenizer> load_tokenizer_sentencepiece_bytes(std::string_view serialized);

// Writes the tokenizer of a Hugging Face checkpoint directory (tokenizer.json, with
// tokenizer_config.json and generation_config.json when present) as GGUF tokenizer keys,
// padded to `n_vocab` (the embedding's rows) with unused tokens, after checking that it builds
// a working tokenizer. Returns notes on what was assumed or cannot be carried over.
std::vector<std::string> put_hf_tokenizer(GgufWriter& writer, const std::string& dir, uint32_t n_vocab);

// Chooses by content: GGUF, tokenizer.json, tiktoken or SentencePiece protobuf.
std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path);

// Feeds token bytes and hands back only complete UTF-8 characters, holding back an
// incomplete tail until the next push. Bytes that can never form a valid character are
// replaced by U+FFFD, so the output is always valid UTF-8.
class Utf8Stream {
public:
    std::string push(std::string_view bytes);
    std::string finish();  // flushes a dangling incomplete tail as U+FFFD

private:
    std::string pending_;
};

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view s);

}  // namespace cwm
