// Reading byte-level BPE vocabularies from GGUF, Hugging Face tokenizer.json and tiktoken
// files; SentencePiece models embedded in GGUF are handed to the SentencePiece tokenizer.
#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "gguf.hpp"
#include "tokenizer_internal.hpp"

namespace cwm {
namespace {

using detail::add_stop_token;
using detail::BpeVocab;
using detail::find_text;
using json = nlohmann::json;


// Stop generation on EOS and, as llama.cpp does, also on the Llama-3 end-of-turn and
// end-of-message tokens when the vocabulary has them, whether or not the file names them.
void add_llama3_stop_tokens(BpeVocab& vocab) {
    add_stop_token(vocab.stop_tokens, vocab.eos);
    add_stop_token(vocab.stop_tokens, find_text(vocab.texts, "<|eot_id|>"));
    add_stop_token(vocab.stop_tokens, find_text(vocab.texts, "<|eom_id|>"));
}

std::pair<std::string, std::string> split_merge(const std::string& merge, size_t rank) {
    // As llama.cpp splits: at the first space after position 0 (a left part is never empty).
    size_t space = merge.find(' ', 1);
    if (space == std::string::npos) {
        fail(Status::invalid_file, "BPE merge " + std::to_string(rank) + " '" + merge + "' is not of the form 'left right'");
    }
    return {merge.substr(0, space), merge.substr(space + 1)};
}

// ---- GGUF ----

const GgufValue::Array& gguf_array(const GgufFile& file, std::string_view key, GgufType elem_type) {
    const GgufValue::Array& array = file.get(key).as_array();
    if (array.elem_type != elem_type) {
        fail(Status::invalid_file, std::string(key) + " is an array of " + gguf_type_name(array.elem_type) +
                                       ", expected " + gguf_type_name(elem_type));
    }
    return array;
}

TokenKind gguf_token_kind(int64_t type, size_t id) {
    switch (type) {
        case 0:  // llama.cpp's "undefined": treated like a normal token
        case 1: return TokenKind::normal;
        case 2: return TokenKind::unknown;
        case 3: return TokenKind::control;
        case 4: return TokenKind::user_defined;
        case 5: return TokenKind::unused;
        case 6: return TokenKind::byte;
        default:
            fail(Status::invalid_file, "tokenizer.ggml.token_type[" + std::to_string(id) + "] = " +
                                           std::to_string(type) + " is not a known token type");
    }
}

Token gguf_token_id(const GgufFile& file, std::string_view key, size_t n_vocab) {
    const GgufValue* value = file.find(key);
    if (!value) return -1;
    uint64_t id = value->as_uint();
    if (id >= n_vocab) {
        fail(Status::invalid_file, std::string(key) + " = " + std::to_string(id) + " is outside the vocabulary of " +
                                       std::to_string(n_vocab) + " tokens");
    }
    return Token(id);
}

BpeVocab read_gguf_bpe_vocab(const GgufFile& file) {
    BpeVocab vocab;
    for (const GgufValue& token : gguf_array(file, "tokenizer.ggml.tokens", GgufType::string).items) {
        vocab.texts.push_back(token.as_string());
    }
    const size_t n = vocab.texts.size();
    vocab.kinds.assign(n, TokenKind::normal);
    if (file.find("tokenizer.ggml.token_type")) {
        const auto& types = file.get("tokenizer.ggml.token_type").as_array().items;
        if (types.size() != n) {
            fail(Status::invalid_file, "tokenizer.ggml.token_type has " + std::to_string(types.size()) +
                                           " entries for " + std::to_string(n) + " tokens");
        }
        for (size_t id = 0; id < n; ++id) vocab.kinds[id] = gguf_token_kind(types[id].as_int(), id);
    }
    const auto& merges = gguf_array(file, "tokenizer.ggml.merges", GgufType::string).items;
    if (merges.empty()) fail(Status::invalid_file, "tokenizer.ggml.merges is empty");
    for (size_t rank = 0; rank < merges.size(); ++rank) vocab.merges.push_back(split_merge(merges[rank].as_string(), rank));

    vocab.bos = gguf_token_id(file, "tokenizer.ggml.bos_token_id", n);
    vocab.eos = gguf_token_id(file, "tokenizer.ggml.eos_token_id", n);
    if (const GgufValue* add_bos = file.find("tokenizer.ggml.add_bos_token")) vocab.add_bos = add_bos->as_bool();
    add_stop_token(vocab.stop_tokens, vocab.eos);
    add_stop_token(vocab.stop_tokens, gguf_token_id(file, "tokenizer.ggml.eot_token_id", n));
    add_stop_token(vocab.stop_tokens, gguf_token_id(file, "tokenizer.ggml.eom_token_id", n));
    add_llama3_stop_tokens(vocab);
    return vocab;
}

std::unique_ptr<Tokenizer> load_gguf_sentencepiece(const GgufFile& file, const std::string& model) {
    if (!file.find("tokenizer.sentencepiece.model")) {
        fail(Status::unsupported, "GGUF tokenizer model '" + model +
                                      "' (SentencePiece) is only supported with the serialized model embedded as "
                                      "tokenizer.sentencepiece.model; re-convert the model with libcwm");
    }
    const auto& items = gguf_array(file, "tokenizer.sentencepiece.model", GgufType::u8).items;
    std::string serialized;
    serialized.reserve(items.size());
    for (const GgufValue& byte : items) serialized.push_back(static_cast<char>(byte.as_uint()));
    auto tokenizer = load_tokenizer_sentencepiece_bytes(serialized);
    if (const GgufValue* add_bos = file.find("tokenizer.ggml.add_bos_token")) tokenizer->add_bos = add_bos->as_bool();
    return tokenizer;
}

// ---- Hugging Face tokenizer.json ----

json parse_json_file(const std::string& path, std::string_view what) {
    std::string text = detail::read_whole_file(path, what);
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        fail(Status::invalid_file, std::string(what) + " '" + path + "' is not valid JSON: " + e.what());
    }
}

// tokenizer_config.json names tokens either as a string or as {"content": "..."}.
std::string config_token_text(const json& config, const char* key, const char* fallback) {
    auto it = config.find(key);
    if (it == config.end() || it->is_null()) return fallback;
    if (it->is_object()) return it->at("content").get<std::string>();
    return it->get<std::string>();
}

void set_hf_token(BpeVocab& vocab, std::vector<bool>& seen, int64_t id, std::string text, TokenKind kind) {
    if (id < 0 || id >= INT32_MAX) fail(Status::invalid_file, "token '" + text + "' has invalid id " + std::to_string(id));
    if (size_t(id) >= vocab.texts.size()) {
        vocab.texts.resize(size_t(id) + 1);
        vocab.kinds.resize(size_t(id) + 1, TokenKind::unused);
        seen.resize(size_t(id) + 1);
    }
    if (seen[size_t(id)] && vocab.texts[size_t(id)] != text) {
        fail(Status::invalid_file, "token id " + std::to_string(id) + " is given to both '" + vocab.texts[size_t(id)] +
                                       "' and '" + text + "'");
    }
    seen[size_t(id)] = true;
    vocab.texts[size_t(id)] = std::move(text);
    vocab.kinds[size_t(id)] = kind;
}

void read_hf_tokens(const json& root, BpeVocab& vocab) {
    std::vector<bool> seen;
    for (const auto& [text, id] : root.at("model").at("vocab").items()) {
        set_hf_token(vocab, seen, id.get<int64_t>(), text, TokenKind::normal);
    }
    if (root.contains("added_tokens")) {
        for (const json& added : root.at("added_tokens")) {
            bool special = added.value("special", false);
            set_hf_token(vocab, seen, added.at("id").get<int64_t>(), added.at("content").get<std::string>(),
                         special ? TokenKind::control : TokenKind::user_defined);
        }
    }
    // Ids nobody claims get a placeholder, named as llama.cpp's converter names them.
    for (size_t id = 0; id < seen.size(); ++id) {
        if (!seen[id]) vocab.texts[id] = "[PAD" + std::to_string(id) + "]";
    }
}

void read_hf_merges(const json& model, BpeVocab& vocab) {
    const json& merges = model.at("merges");
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const json& merge = merges[rank];
        if (merge.is_string()) {
            vocab.merges.push_back(split_merge(merge.get<std::string>(), rank));
        } else if (merge.is_array() && merge.size() == 2) {
            vocab.merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
        } else {
            fail(Status::invalid_file, "BPE merge " + std::to_string(rank) + " is neither \"left right\" nor [left, right]");
        }
    }
    if (vocab.merges.empty()) fail(Status::invalid_file, "tokenizer.json has no BPE merges");
}

void read_hf_config(const std::string& tokenizer_path, BpeVocab& vocab) {
    auto config_path = std::filesystem::path(tokenizer_path).parent_path() / "tokenizer_config.json";
    json config = json::object();
    if (std::filesystem::exists(config_path)) config = parse_json_file(config_path.string(), "tokenizer_config.json");
    vocab.bos = find_text(vocab.texts, config_token_text(config, "bos_token", "<|begin_of_text|>"));
    vocab.eos = find_text(vocab.texts, config_token_text(config, "eos_token", "<|end_of_text|>"));
    if (config.contains("add_bos_token")) vocab.add_bos = config.at("add_bos_token").get<bool>();
}

BpeVocab read_hf_vocab(const std::string& path, const json& root) {
    BpeVocab vocab;
    try {
        const json& model = root.at("model");
        std::string type = model.value("type", "BPE");
        if (type != "BPE") fail(Status::unsupported, "tokenizer.json model type '" + type + "' is not supported (only BPE)");
        read_hf_tokens(root, vocab);
        read_hf_merges(model, vocab);
        read_hf_config(path, vocab);
    } catch (const json::exception& e) {
        fail(Status::invalid_file, std::string("tokenizer.json has an unexpected structure: ") + e.what());
    }
    add_llama3_stop_tokens(vocab);
    return vocab;
}

// ---- tiktoken ----

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool base64_decode(std::string_view in, std::string& out) {
    out.clear();
    while (!in.empty() && in.back() == '=') in.remove_suffix(1);
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int v = base64_value(c);
        if (v < 0) return false;
        acc = ((acc << 6) | uint32_t(v)) & 0xFFFFu;  // at most 14 pending bits matter
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(char((acc >> bits) & 0xFF));
        }
    }
    return !out.empty();
}

// The 256 special tokens of CWM that follow the byte-level ranks. tiktoken files do not
// contain them (the model code defines them). Offsets without a name in cwm-model.md's table
// are "<|reserved_special_token_K|>" with K the offset from the first special token itself
// (so 128002 is reserved_special_token_2): CWM's own numbering, unlike Llama-3.1's, which
// counts only the reserved tokens.
std::string cwm_special_token_name(int offset) {
    switch (offset) {
        case 0: return "<|begin_of_text|>";
        case 1: return "<|end_of_text|>";
        case 4: return "<|pad|>";
        case 6: return "<|start_header_id|>";
        case 7: return "<|end_header_id|>";
        case 8: return "<|eom_id|>";
        case 9: return "<|eot_id|>";
        case 100: return "<|frame_sep|>";
        case 101: return "<|action_sep|>";
        case 102: return "<|return_sep|>";
        case 103: return "<|call_sep|>";
        case 104: return "<|line_sep|>";
        case 105: return "<|exception_sep|>";
        case 106: return "<|arg_sep|>";
        case 107: return "<|trace_context_start|>";
        case 120: return "<|reasoning_thinking_start|>";
        case 121: return "<|reasoning_thinking_end|>";
        default: return "<|reserved_special_token_" + std::to_string(offset) + "|>";
    }
}
constexpr int kCwmSpecialTokens = 256;

void parse_tiktoken_line(std::string_view line, size_t line_no, std::vector<std::string>& by_rank,
                         std::vector<bool>& seen, std::string& bytes) {
    auto bad = [&](const std::string& why) {
        fail(Status::invalid_file, "tiktoken line " + std::to_string(line_no) + ": " + why);
    };
    size_t space = line.find(' ');
    if (space == std::string_view::npos) bad("expected 'base64 rank'");
    if (!base64_decode(line.substr(0, space), bytes)) bad("invalid base64");
    std::string_view rank_text = line.substr(space + 1);
    uint64_t rank = 0;
    auto [end, ec] = std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    if (ec != std::errc() || end != rank_text.data() + rank_text.size()) bad("invalid rank");
    if (rank >= by_rank.size()) bad("rank " + std::to_string(rank) + " is not below the number of ranks " + std::to_string(by_rank.size()));
    if (seen[rank]) bad("rank " + std::to_string(rank) + " appears twice");
    seen[rank] = true;
    by_rank[rank] = detail::bytes_to_byte_level(bytes);
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    for (size_t pos = 0; pos < text.size();) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        std::string_view line = text.substr(pos, eol - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back(line);
        pos = eol + 1;
    }
    return lines;
}

BpeVocab read_tiktoken_vocab(std::string_view content) {
    std::vector<std::string_view> lines = split_lines(content);
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    if (lines.empty()) fail(Status::invalid_file, "tiktoken file is empty");

    // Ranks are the token ids, so they must be exactly 0 .. n-1.
    BpeVocab vocab;
    std::vector<bool> seen(lines.size());
    vocab.texts.resize(lines.size());
    std::string bytes;
    for (size_t i = 0; i < lines.size(); ++i) parse_tiktoken_line(lines[i], i + 1, vocab.texts, seen, bytes);
    vocab.kinds.assign(lines.size(), TokenKind::normal);

    const Token first_special = Token(lines.size());
    for (int offset = 0; offset < kCwmSpecialTokens; ++offset) {
        vocab.texts.push_back(cwm_special_token_name(offset));
        vocab.kinds.push_back(TokenKind::control);
    }
    vocab.bos = first_special;
    vocab.eos = first_special + 1;
    add_llama3_stop_tokens(vocab);
    return vocab;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_gguf(const GgufFile& file) {
    return detail::with_file_context(file.path(), [&] {
        const std::string& model = file.get("tokenizer.ggml.model").as_string();
        // Every pre-tokenizer name ("llama-bpe", "default", ...) gets the Llama-3 regex: it
        // is the only one libcwm implements, and CWM's is that one.
        if (model == "gpt2") return detail::make_bpe_tokenizer(read_gguf_bpe_vocab(file));
        if (model == "cwm-spm" || model == "llama") return load_gguf_sentencepiece(file, model);
        fail(Status::unsupported, "GGUF tokenizer model '" + model + "' is not supported (expected gpt2 or cwm-spm)");
    });
}

std::unique_ptr<Tokenizer> load_tokenizer_hf_json(const std::string& path) {
    BpeVocab vocab = detail::read_hf_vocab_file(path);
    return detail::with_file_context(path, [&] { return detail::make_bpe_tokenizer(std::move(vocab)); });
}

Token detail::find_text(const std::vector<std::string>& texts, std::string_view text) {
    for (size_t id = 0; id < texts.size(); ++id) {
        if (texts[id] == text) return Token(id);
    }
    return -1;
}

detail::BpeVocab detail::read_hf_vocab_file(const std::string& path) {
    json root = parse_json_file(path, "tokenizer.json");
    return detail::with_file_context(path, [&] { return read_hf_vocab(path, root); });
}

std::unique_ptr<Tokenizer> load_tokenizer_tiktoken(const std::string& path) {
    std::string content = detail::read_whole_file(path, "tiktoken file");
    return detail::with_file_context(path, [&] { return detail::make_bpe_tokenizer(read_tiktoken_vocab(content)); });
}

}  // namespace cwm
