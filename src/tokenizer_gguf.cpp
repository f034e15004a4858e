// A Hugging Face byte-level BPE tokenizer written as GGUF tokenizer keys, the way llama.cpp's
// converter writes them (docs/gguf-format.md), so a converted model carries its tokenizer.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "gguf.hpp"
#include "tokenizer.hpp"
#include "tokenizer_internal.hpp"

namespace cwm {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// GGUF token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
int32_t gguf_token_type(TokenKind kind) {
    switch (kind) {
        case TokenKind::normal: return 1;
        case TokenKind::unknown: return 2;
        case TokenKind::control: return 3;
        case TokenKind::user_defined: return 4;
        case TokenKind::unused: return 5;
        case TokenKind::byte: return 6;
    }
    return 1;
}

// An optional JSON file of the checkpoint: null when absent.
json optional_json(const fs::path& path) {
    if (!fs::exists(path)) return nullptr;
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(Status::io_error, path.string() + ": cannot open");
    try {
        return json::parse(in);
    } catch (const json::exception& e) {
        fail(Status::invalid_file, path.string() + ": not valid JSON: " + e.what());
    }
}

// tokenizer_config.json holds the template as a string or as a list of {name, template}.
std::string chat_template(const json& config) {
    if (!config.is_object() || !config.contains("chat_template")) return {};
    const json& t = config.at("chat_template");
    if (t.is_string()) return t.get<std::string>();
    if (t.is_array()) {
        for (const json& entry : t)
            if (entry.is_object() && entry.value("name", "") == "default") return entry.value("template", "");
    }
    return {};
}

GgufValue string_array(const std::vector<std::string>& items) {
    std::vector<GgufValue> values;
    values.reserve(items.size());
    for (const std::string& s : items) values.push_back(GgufValue::from_string(s));
    return GgufValue::from_array(GgufType::string, std::move(values));
}

void put_token(GgufWriter& w, const char* key, Token id) {
    if (id >= 0) w.set(key, GgufValue::from_uint(GgufType::u32, uint64_t(id)));
}

void put_vocab(GgufWriter& w, const detail::BpeVocab& vocab) {
    w.set("tokenizer.ggml.model", GgufValue::from_string("gpt2"));
    w.set("tokenizer.ggml.pre", GgufValue::from_string("llama-bpe"));
    w.set("tokenizer.ggml.tokens", string_array(vocab.texts));
    std::vector<GgufValue> types;
    for (TokenKind kind : vocab.kinds) types.push_back(GgufValue::from_int(GgufType::i32, gguf_token_type(kind)));
    w.set("tokenizer.ggml.token_type", GgufValue::from_array(GgufType::i32, std::move(types)));
    std::vector<std::string> merges;
    for (const auto& [left, right] : vocab.merges) merges.push_back(left + " " + right);
    w.set("tokenizer.ggml.merges", string_array(merges));
    put_token(w, "tokenizer.ggml.bos_token_id", vocab.bos);
    put_token(w, "tokenizer.ggml.eos_token_id", vocab.eos);
    put_token(w, "tokenizer.ggml.eot_token_id", detail::find_text(vocab.texts, "<|eot_id|>"));
    put_token(w, "tokenizer.ggml.eom_token_id", detail::find_text(vocab.texts, "<|eom_id|>"));
    put_token(w, "tokenizer.ggml.padding_token_id", detail::find_text(vocab.texts, "<|pad|>"));
    w.set("tokenizer.ggml.add_bos_token", GgufValue::from_bool(vocab.add_bos));
}

// generation_config.json's stop ids that the GGUF keys cannot carry (libcwm and llama.cpp stop
// on EOS, EOT and EOM) are reported rather than dropped silently.
void check_stop_tokens(const json& generation, const detail::BpeVocab& vocab, std::vector<std::string>& notes) {
    if (!generation.is_object() || !generation.contains("eos_token_id")) return;
    json ids = generation.at("eos_token_id");
    if (!ids.is_array()) ids = json::array({ids});
    for (const json& id : ids) {
        if (!id.is_number_integer()) continue;
        const Token t = Token(id.get<int64_t>());
        if (t < 0 || size_t(t) >= vocab.texts.size())
            fail(Status::invalid_file, "generation_config.json: eos_token_id " + std::to_string(t) + " is outside the vocabulary");
        if (std::find(vocab.stop_tokens.begin(), vocab.stop_tokens.end(), t) == vocab.stop_tokens.end())
            notes.push_back("generation_config.json stop token " + std::to_string(t) + " '" + vocab.texts[size_t(t)] +
                            "' is not EOS, <|eot_id|> or <|eom_id|>: generation will not stop on it");
    }
}

}  // namespace

std::vector<std::string> put_hf_tokenizer(GgufWriter& writer, const std::string& dir, uint32_t n_vocab) {
    const fs::path root(dir);
    const std::string path = (root / "tokenizer.json").string();
    if (!fs::exists(path)) fail(Status::io_error, path + ": missing (the checkpoint's tokenizer)");
    detail::BpeVocab vocab = detail::read_hf_vocab_file(path);
    if (vocab.texts.size() > n_vocab)
        fail(Status::invalid_file, path + ": " + std::to_string(vocab.texts.size()) + " tokens for an embedding of " +
                                       std::to_string(n_vocab) + " rows");
    std::vector<std::string> notes;
    if (vocab.texts.size() < n_vocab)
        notes.push_back("vocabulary padded from " + std::to_string(vocab.texts.size()) + " to " + std::to_string(n_vocab) +
                        " tokens (unused [PAD] entries, as llama.cpp pads)");
    for (size_t id = vocab.texts.size(); id < n_vocab; ++id) {
        vocab.texts.push_back("[PAD" + std::to_string(id) + "]");
        vocab.kinds.push_back(TokenKind::unused);
    }
    detail::with_file_context(path, [&] { return detail::make_bpe_tokenizer(vocab); });  // validates
    put_vocab(writer, vocab);
    const std::string tmpl = chat_template(optional_json(root / "tokenizer_config.json"));
    if (tmpl.empty())
        notes.push_back("no chat_template in tokenizer_config.json: cwm run uses CWM's built-in chat format");
    else
        writer.set("tokenizer.chat_template", GgufValue::from_string(tmpl));
    check_stop_tokens(optional_json(root / "generation_config.json"), vocab, notes);
    return notes;
}

}  // namespace cwm
