// Loader details on small synthetic vocabularies (no fixtures needed): format variants,
// and malformed files rejected with the right status and a message naming the problem.
#include <doctest/doctest.h>

#include <fstream>

#include "error.hpp"
#include "tokenizer_fixtures.hpp"
#include "tokenizer_internal.hpp"

using namespace cwm;

namespace {

// A byte-level vocabulary: the 256 single bytes, "ab" and one control token, merge "a b".
struct TinyVocab {
    std::vector<std::string> tokens;
    std::vector<int64_t> types;
    std::vector<std::string> merges{"a b"};
    std::string model = "gpt2";
    int64_t bos = 256;

    TinyVocab() {
        for (int b = 0; b < 256; ++b) tokens.push_back(detail::bytes_to_byte_level(std::string(1, char(b))));
        tokens.push_back("ab");
        tokens.push_back("<|eot_id|>");
        types.assign(tokens.size(), 1);
        types.back() = 3;
    }

    void write(const std::string& path) const {
        GgufWriter writer;
        writer.set("tokenizer.ggml.model", GgufValue::from_string(model));
        writer.set("tokenizer.ggml.pre", GgufValue::from_string("some-future-pre-tokenizer"));
        writer.set("tokenizer.ggml.tokens", test::gguf_string_array(tokens));
        writer.set("tokenizer.ggml.token_type", test::gguf_int_array(GgufType::i32, types));
        writer.set("tokenizer.ggml.merges", test::gguf_string_array(merges));
        writer.set("tokenizer.ggml.bos_token_id", GgufValue::from_uint(GgufType::u32, uint64_t(bos)));
        writer.write(path);
    }
};

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    REQUIRE(out.good());
}

// Runs `load` and checks it throws Error with `status` and a message containing `needle`.
template <typename Load>
void check_rejected(Load&& load, Status status, const std::string& needle) {
    try {
        load();
        FAIL("no error; expected one mentioning '" << needle << "'");
    } catch (const Error& e) {
        INFO("message: " << e.what());
        CHECK(e.status() == status);
        CHECK(std::string(e.what()).find(needle) != std::string::npos);
    }
}

void check_gguf_rejected(const TinyVocab& vocab, Status status, const std::string& needle) {
    test::TempPath path("tiny.gguf");
    vocab.write(path.str());
    check_rejected([&] { load_tokenizer_gguf(GgufFile(path.str())); }, status, needle);
}

}  // namespace

TEST_CASE("tokenizer loaders: tokenizer.json with pair merges, added tokens and a config beside it") {
    test::TempDir dir;
    nlohmann::json vocab = nlohmann::json::object();
    for (int b = 0; b < 256; ++b) vocab[detail::bytes_to_byte_level(std::string(1, char(b)))] = b;
    vocab["ab"] = 256;
    nlohmann::json tokenizer = {
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array({nlohmann::json::array({"a", "b"})})}}},
        {"added_tokens",
         {{{"id", 257}, {"content", "<s>"}, {"special", true}},
          {{"id", 258}, {"content", "</s>"}, {"special", true}},
          {{"id", 260}, {"content", "<tool>"}, {"special", false}}}}};
    nlohmann::json config = {{"bos_token", {{"content", "<s>"}}}, {"eos_token", "</s>"}, {"add_bos_token", false}};
    write_text(dir.file("tokenizer.json"), tokenizer.dump());
    write_text(dir.file("tokenizer_config.json"), config.dump());

    auto tok = load_tokenizer_hf_json(dir.file("tokenizer.json"));
    CHECK(tok->n_vocab() == 261);
    CHECK(tok->encode("ab", false) == std::vector<Token>{256});
    CHECK(tok->bos == 257);
    CHECK(tok->eos == 258);
    CHECK_FALSE(tok->add_bos);
    CHECK(tok->stop_tokens == std::vector<Token>{258});
    CHECK(tok->kind(259) == TokenKind::unused);  // an id nobody claims
    CHECK(tok->token_text(259) == "[PAD259]");
    CHECK(tok->kind(260) == TokenKind::user_defined);
    CHECK(tok->token_bytes(260, false) == "<tool>");
    CHECK(tok->encode("a<tool>", true) == std::vector<Token>{97, 260});
}

TEST_CASE("tokenizer loaders: a well-formed tiny GGUF vocabulary loads") {
    test::TempPath path("tiny_ok.gguf");
    TinyVocab().write(path.str());
    auto tok = load_tokenizer_gguf(GgufFile(path.str()));
    CHECK(tok->n_vocab() == 258);
    CHECK(tok->encode("ab", false) == std::vector<Token>{256});
    CHECK(tok->stop_tokens == std::vector<Token>{257});  // <|eot_id|> found by name
}

TEST_CASE("tokenizer loaders: malformed GGUF vocabularies") {
    TinyVocab vocab;
    SUBCASE("type count") {
        vocab.types.pop_back();
        check_gguf_rejected(vocab, Status::invalid_file, "token_type");
    }
    SUBCASE("unknown type") {
        vocab.types[3] = 9;
        check_gguf_rejected(vocab, Status::invalid_file, "token_type[3]");
    }
    SUBCASE("merge of an unknown token") {
        vocab.merges.push_back("a zz");
        check_gguf_rejected(vocab, Status::invalid_file, "'zz'");
    }
    SUBCASE("merge without a separator") {
        vocab.merges.push_back("ab");
        check_gguf_rejected(vocab, Status::invalid_file, "merge 1");
    }
    SUBCASE("id out of range") {
        vocab.bos = 5000;
        check_gguf_rejected(vocab, Status::invalid_file, "bos_token_id");
    }
    SUBCASE("normal token not byte-level") {
        vocab.tokens[256] = "\xE2\x82\xAC";  // U+20AC has no byte-level meaning
        check_gguf_rejected(vocab, Status::invalid_file, "token 256");
    }
    SUBCASE("missing byte token") {
        vocab.tokens[65] = "<|not_A|>";
        vocab.types[65] = 3;
        check_gguf_rejected(vocab, Status::invalid_file, "byte 65");
    }
    SUBCASE("unsupported model") {
        vocab.model = "bert";
        check_gguf_rejected(vocab, Status::unsupported, "bert");
    }
}

TEST_CASE("tokenizer loaders: malformed tiktoken, tokenizer.json and missing files") {
    test::TempPath path("tiny.txt");
    auto tiktoken = [&] { load_tokenizer_tiktoken(path.str()); };
    auto hf_json = [&] { load_tokenizer_hf_json(path.str()); };

    write_text(path.str(), "YQ== 0\nYg== 0\n");
    check_rejected(tiktoken, Status::invalid_file, "line 2");
    write_text(path.str(), "YQ== 0\nYg== 7\n");
    check_rejected(tiktoken, Status::invalid_file, "rank 7");
    write_text(path.str(), "Y!== 0\n");
    check_rejected(tiktoken, Status::invalid_file, "base64");
    write_text(path.str(), "YQ== 0\nYg== 1\n");
    check_rejected(tiktoken, Status::invalid_file, "byte 0");

    write_text(path.str(), "{ not json");
    check_rejected(hf_json, Status::invalid_file, "JSON");
    write_text(path.str(), R"({"model": {"type": "Unigram"}})");
    check_rejected(hf_json, Status::unsupported, "Unigram");
    write_text(path.str(), R"({"model": {"type": "BPE"}})");
    check_rejected(hf_json, Status::invalid_file, "tokenizer.json");

    write_text(path.str(), "just some text\n");
    check_rejected([&] { load_tokenizer_file(path.str()); }, Status::invalid_file, "not GGUF, tokenizer.json or tiktoken");
    check_rejected([&] { load_tokenizer_file(path.str()); }, Status::invalid_file, path.str());
    check_rejected([] { load_tokenizer_file("/nonexistent/tokenizer.json"); }, Status::io_error, "/nonexistent");
    check_rejected([] { load_tokenizer_hf_json("/nonexistent/tokenizer.json"); }, Status::io_error, "/nonexistent");
}
