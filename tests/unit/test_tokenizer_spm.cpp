// SentencePiece tokenizers (a .model file and the same model embedded in GGUF) against
// spm_encode / spm_decode run on a tiny model trained by spm_train (make_fixtures.sh).
#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

#include "error.hpp"
#include "tokenizer_fixtures.hpp"

using namespace cwm;

namespace {

struct Spm {
    std::string model_path;
    std::vector<std::string> texts, decoded;
    std::vector<std::vector<Token>> ids;
};

const Spm& spm() {
    static const Spm fixture = [] {
        Spm f;
        const std::string dir = test::tokenizer_fixture_dir() + "/spm";
        f.model_path = dir + "/cwm_test.model";
        f.texts = test::read_fixture_lines(dir + "/texts.txt");
        f.decoded = test::read_fixture_lines(dir + "/decoded.txt");
        for (const std::string& line : test::read_fixture_lines(dir + "/ids.txt")) {
            std::istringstream in(line);
            f.ids.emplace_back(std::istream_iterator<Token>(in), std::istream_iterator<Token>());
        }
        REQUIRE(f.ids.size() == f.texts.size());
        REQUIRE(f.decoded.size() == f.texts.size());
        return f;
    }();
    return fixture;
}

void write_spm_gguf(const std::string& path, const std::string& model, const std::string& serialized) {
    GgufWriter writer;
    writer.set("tokenizer.ggml.model", GgufValue::from_string(model));
    if (!serialized.empty()) writer.set("tokenizer.sentencepiece.model", test::gguf_bytes(serialized));
    writer.set("tokenizer.ggml.add_bos_token", GgufValue::from_bool(false));
    writer.write(path);
}

void check_against_spm_tools(const Tokenizer& tok) {
    const Spm& f = spm();
    for (size_t i = 0; i < f.texts.size(); ++i) {
        INFO("line " << i << ": " << f.texts[i]);
        CHECK(tok.encode(f.texts[i], false) == f.ids[i]);
        // Without control-token texts in the line, parsing special tokens changes nothing:
        // SentencePiece matches the user-defined trace tokens either way.
        if (f.texts[i].find("<|eot_id|>") == std::string::npos && f.texts[i].find("<|eom_id|>") == std::string::npos) {
            CHECK(tok.encode(f.texts[i], true) == f.ids[i]);
        }
        // spm_decode drops the space of the dummy prefix that encoding added; decode() keeps it.
        std::string ours = tok.decode(f.ids[i], false);
        if (ours.starts_with(' ')) ours.erase(0, 1);
        CHECK(ours == f.decoded[i]);
    }
}

}  // namespace

TEST_CASE("SentencePiece: .model file, embedded in GGUF and sniffed all match spm_encode") {
    const Spm& f = spm();
    const std::string serialized = test::read_fixture_file(f.model_path);
    test::TempPath gguf("spm.gguf");
    write_spm_gguf(gguf.str(), "cwm-spm", serialized);

    SUBCASE("file") { check_against_spm_tools(*load_tokenizer_sentencepiece_file(f.model_path)); }
    SUBCASE("bytes") { check_against_spm_tools(*load_tokenizer_sentencepiece_bytes(serialized)); }
    SUBCASE("sniffed file") { check_against_spm_tools(*load_tokenizer_file(f.model_path)); }
    SUBCASE("gguf") {
        auto tok = load_tokenizer_gguf(GgufFile(gguf.str()));
        check_against_spm_tools(*tok);
        CHECK_FALSE(tok->add_bos);
    }
    SUBCASE("sniffed gguf") { check_against_spm_tools(*load_tokenizer_file(gguf.str())); }
}

TEST_CASE("SentencePiece: piece kinds, bytes and special tokens") {
    auto tok = load_tokenizer_sentencepiece_file(spm().model_path);
    auto id = [&](const char* text) {
        std::optional<Token> found = tok->find(text);
        REQUIRE_MESSAGE(found.has_value(), text);
        return *found;
    };
    CHECK(tok->kind(id("<unk>")) == TokenKind::unknown);
    CHECK(tok->kind(id("<s>")) == TokenKind::control);
    CHECK(tok->kind(id("<|eot_id|>")) == TokenKind::control);
    CHECK(tok->kind(id("<|frame_sep|>")) == TokenKind::user_defined);
    CHECK(tok->kind(id("<0x41>")) == TokenKind::byte);
    CHECK(tok->token_bytes(id("<0x41>"), false) == "A");
    CHECK(tok->token_bytes(id("<0x0A>"), false) == "\n");
    CHECK(tok->token_bytes(id("<|frame_sep|>"), false) == "<|frame_sep|>");
    CHECK(tok->token_bytes(id("<|eot_id|>"), false).empty());
    CHECK(tok->token_bytes(id("<|eot_id|>"), true) == "<|eot_id|>");
    CHECK(tok->token_bytes(id("\xE2\x96\x81"), false) == " ");
    CHECK(tok->bos == id("<s>"));
    CHECK(tok->eos == id("</s>"));
    CHECK(tok->stop_tokens == std::vector<Token>{id("</s>"), id("<|eot_id|>"), id("<|eom_id|>")});

    const Token eot = id("<|eot_id|>");
    std::vector<Token> parsed = tok->encode("x<|eot_id|>y", true);
    std::vector<Token> plain = tok->encode("x<|eot_id|>y", false);
    CHECK(std::count(parsed.begin(), parsed.end(), eot) == 1);
    CHECK(std::count(plain.begin(), plain.end(), eot) == 0);
    CHECK_THROWS_AS(tok->encode("\xFF", false), Error);
    CHECK_THROWS_AS(tok->token_text(Token(tok->n_vocab())), Error);
}

TEST_CASE("SentencePiece: GGUF without an embedded model is unsupported") {
    test::TempPath gguf("spm_missing.gguf");
    write_spm_gguf(gguf.str(), "llama", "");
    try {
        load_tokenizer_gguf(GgufFile(gguf.str()));
        FAIL("loaded a SentencePiece GGUF without a model");
    } catch (const Error& e) {
        CHECK(e.status() == Status::unsupported);
        CHECK(std::string(e.what()).find("tokenizer.sentencepiece.model") != std::string::npos);
    }
}

TEST_CASE("SentencePiece: a corrupt model is an invalid file") {
    try {
        load_tokenizer_sentencepiece_bytes("not a protobuf at all");
        FAIL("loaded garbage");
    } catch (const Error& e) {
        CHECK(e.status() == Status::invalid_file);
    }
}
