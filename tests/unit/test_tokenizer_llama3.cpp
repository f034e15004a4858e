// The Llama-3 byte-level BPE tokenizer, loaded from tokenizer.json, from a tiktoken file and
// from GGUF, against ids produced by an independent JavaScript tokenizer (see
// tests/tokenizer/make_fixtures.sh) and against the ids published for CWM.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <thread>

#include "error.hpp"
#include "tokenizer_fixtures.hpp"

using namespace cwm;
using json = nlohmann::json;

namespace {

// What llama.cpp's convert_hf_to_gguf.py writes for a Llama-3 tokenizer.json: tokens in id
// order (model vocab byte-level encoded, added tokens as plain text), types 1 normal,
// 3 control (special added tokens), 4 user-defined, 5 unused for ids nobody claims, merges
// as "left right" strings, and BOS/EOS ids (EOT/EOM are found by name when loading).
void write_llama3_gguf(const json& tokenizer, const std::string& path) {
    std::map<int64_t, std::pair<std::string, int64_t>> by_id;
    for (const auto& [text, id] : tokenizer.at("model").at("vocab").items()) by_id[id.get<int64_t>()] = {text, 1};
    for (const json& added : tokenizer.at("added_tokens")) {
        by_id[added.at("id").get<int64_t>()] = {added.at("content").get<std::string>(), added.at("special").get<bool>() ? 3 : 4};
    }
    std::vector<std::string> tokens;
    std::vector<int64_t> types;
    for (int64_t id = 0; id <= by_id.rbegin()->first; ++id) {
        auto it = by_id.find(id);
        tokens.push_back(it != by_id.end() ? it->second.first : "[PAD" + std::to_string(id) + "]");
        types.push_back(it != by_id.end() ? it->second.second : 5);
    }
    std::vector<std::string> merges;
    for (const json& merge : tokenizer.at("model").at("merges")) {
        merges.push_back(merge.is_string() ? merge.get<std::string>()
                                           : merge[0].get<std::string>() + " " + merge[1].get<std::string>());
    }
    GgufWriter writer;
    writer.set("general.architecture", GgufValue::from_string("llama"));
    writer.set("tokenizer.ggml.model", GgufValue::from_string("gpt2"));
    writer.set("tokenizer.ggml.pre", GgufValue::from_string("llama-bpe"));
    writer.set("tokenizer.ggml.tokens", test::gguf_string_array(tokens));
    writer.set("tokenizer.ggml.token_type", test::gguf_int_array(GgufType::i32, types));
    writer.set("tokenizer.ggml.merges", test::gguf_string_array(merges));
    writer.set("tokenizer.ggml.bos_token_id", GgufValue::from_uint(GgufType::u32, 128000));
    writer.set("tokenizer.ggml.eos_token_id", GgufValue::from_uint(GgufType::u32, 128001));
    writer.set("tokenizer.ggml.add_bos_token", GgufValue::from_bool(true));
    writer.write(path);
}

struct Llama3 {
    std::string dir;
    json texts;   // {"plain": [...], "special": [...]}
    json oracle;  // the same shape, ids
    std::unique_ptr<Tokenizer> hf, tiktoken, gguf;
};

// Loading a 128k vocabulary takes a while, so all test cases share one set of tokenizers.
const Llama3& llama3() {
    static const Llama3 fixture = [] {
        Llama3 f;
        f.dir = test::tokenizer_fixture_dir() + "/llama3";
        f.texts = test::read_fixture_json(f.dir + "/texts.json");
        f.oracle = test::read_fixture_json(f.dir + "/oracle_ids.json");
        // Through load_tokenizer_file, so that its format sniffing is covered too.
        f.hf = load_tokenizer_file(f.dir + "/tokenizer.json");
        f.tiktoken = load_tokenizer_file(f.dir + "/tokenizer.model");
        test::TempPath gguf("llama3_vocab.gguf");
        write_llama3_gguf(test::read_fixture_json(f.dir + "/tokenizer.json"), gguf.str());
        f.gguf = load_tokenizer_gguf(GgufFile(gguf.str()));
        return f;
    }();
    return fixture;
}

std::vector<std::pair<const char*, const Tokenizer*>> all_loaders() {
    const Llama3& f = llama3();
    return {{"tokenizer.json", f.hf.get()}, {"tiktoken", f.tiktoken.get()}, {"gguf", f.gguf.get()}};
}

std::vector<Token> ids_of(const json& ids) { return ids.get<std::vector<Token>>(); }

void check_group(const Tokenizer& tok, const char* group, bool parse_special) {
    const json& texts = llama3().texts.at(group);
    const json& expected = llama3().oracle.at(group);
    REQUIRE(texts.size() == expected.size());
    for (size_t i = 0; i < texts.size(); ++i) {
        const std::string text = texts[i].get<std::string>();
        INFO(group << " text " << i << ": " << text.substr(0, 80));
        std::vector<Token> ids = tok.encode(text, parse_special);
        CHECK(ids == ids_of(expected[i]));
        CHECK(tok.decode(ids, true) == text);
    }
}

}  // namespace

TEST_CASE("llama3 BPE: every loader matches the JavaScript oracle and round-trips") {
    for (const auto& loader : all_loaders()) {
        const Tokenizer* tok = loader.second;
        INFO("loader: " << loader.first);
        CHECK(tok->n_vocab() == 128256);
        check_group(*tok, "plain", false);
        check_group(*tok, "special", true);
    }
}

TEST_CASE("llama3 BPE: the token ids published for CWM") {
    for (const auto& loader : all_loaders()) {
        const Tokenizer* tok = loader.second;
        INFO("loader: " << loader.first);
        CHECK(tok->encode("Okay", false) == std::vector<Token>{33413});
        CHECK(tok->encode(" Python", false) == std::vector<Token>{13325});
        CHECK(tok->encode("Hello world, this is a test of the llama tokenizer.", false) ==
              std::vector<Token>{9906, 1917, 11, 420, 374, 264, 1296, 315, 279, 94776, 47058, 13});
    }
}

TEST_CASE("llama3 BPE: special tokens only with parse_special") {
    const std::string text = "a<|eot_id|>b";
    for (const auto& loader : all_loaders()) {
        const Tokenizer* tok = loader.second;
        INFO("loader: " << loader.first);
        const Token eot = 128009;
        REQUIRE(tok->find("<|eot_id|>") == eot);
        CHECK(tok->kind(eot) == TokenKind::control);
        std::vector<Token> parsed = tok->encode(text, true);
        CHECK(std::count(parsed.begin(), parsed.end(), eot) == 1);
        std::vector<Token> expected = tok->encode("a", false);
        expected.push_back(eot);
        for (Token id : tok->encode("b", false)) expected.push_back(id);
        CHECK(parsed == expected);
        std::vector<Token> plain = tok->encode(text, false);
        CHECK(std::none_of(plain.begin(), plain.end(), [&](Token id) { return tok->kind(id) != TokenKind::normal; }));
        CHECK(tok->decode(plain, false) == text);
        CHECK(tok->token_bytes(eot, false).empty());
        CHECK(tok->token_bytes(eot, true) == "<|eot_id|>");
        CHECK(tok->decode(parsed, false) == "ab");
        CHECK(tok->bos == 128000);
        CHECK(tok->eos == 128001);
        CHECK(tok->add_bos);
        CHECK(std::count(tok->stop_tokens.begin(), tok->stop_tokens.end(), 128001) == 1);
        CHECK(std::count(tok->stop_tokens.begin(), tok->stop_tokens.end(), eot) == 1);
        CHECK(tok->token_text(1917) == "\xC4\xA0world");  // "Ġworld"
        CHECK(tok->token_bytes(1917, false) == " world");
        CHECK_THROWS_AS(tok->token_bytes(128256, false), Error);
        CHECK_THROWS_AS(tok->kind(-1), Error);
    }
}

TEST_CASE("llama3 BPE: tiktoken special tokens follow CWM's table") {
    const Tokenizer& tok = *llama3().tiktoken;
    const std::pair<Token, const char*> named[] = {
        {128000, "<|begin_of_text|>"}, {128001, "<|end_of_text|>"}, {128004, "<|pad|>"},
        {128006, "<|start_header_id|>"}, {128007, "<|end_header_id|>"}, {128008, "<|eom_id|>"},
        {128009, "<|eot_id|>"}, {128100, "<|frame_sep|>"}, {128101, "<|action_sep|>"},
        {128102, "<|return_sep|>"}, {128103, "<|call_sep|>"}, {128104, "<|line_sep|>"},
        {128105, "<|exception_sep|>"}, {128106, "<|arg_sep|>"}, {128107, "<|trace_context_start|>"},
        {128120, "<|reasoning_thinking_start|>"}, {128121, "<|reasoning_thinking_end|>"},
        {128002, "<|reserved_special_token_2|>"}, {128255, "<|reserved_special_token_255|>"}};
    for (const auto& entry : named) {
        const Token id = entry.first;
        const std::string text = entry.second;
        INFO(text);
        CHECK(tok.find(text) == id);
        CHECK(tok.token_text(id) == text);
        CHECK(tok.kind(id) == TokenKind::control);
    }
    CHECK(tok.stop_tokens == std::vector<Token>{128001, 128009, 128008});
    CHECK(tok.encode("<|frame_sep|>x = 1<|line_sep|>", true).front() == 128100);
}

TEST_CASE("llama3 BPE: invalid UTF-8 is rejected with its byte offset") {
    const Tokenizer& tok = *llama3().hf;
    try {
        tok.encode("abc\xC0\x80" "def", false);
        FAIL("no error for invalid UTF-8");
    } catch (const Error& e) {
        CHECK(e.status() == Status::invalid_argument);
        CHECK(std::string(e.what()).find("byte offset 3") != std::string::npos);
    }
    CHECK_THROWS_AS(tok.encode(std::string("\xED\xA0\x80"), true), Error);
}

TEST_CASE("llama3 BPE: concurrent encodes from several threads agree with the oracle") {
    const Llama3& f = llama3();
    const json& texts = f.texts.at("plain");
    std::vector<std::vector<std::vector<Token>>> results(4);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < results.size(); ++t) {
        threads.emplace_back([&, t] {
            const Tokenizer& tok = t % 2 ? *f.tiktoken : *f.hf;
            for (const json& text : texts) results[t].push_back(tok.encode(text.get<std::string>(), false));
        });
    }
    for (auto& thread : threads) thread.join();
    for (const auto& per_thread : results) {
        REQUIRE(per_thread.size() == texts.size());
        for (size_t i = 0; i < texts.size(); ++i) CHECK(per_thread[i] == ids_of(f.oracle.at("plain")[i]));
    }
}
