// is_valid_utf8 and Utf8Stream against Python's UTF-8 decoder (fixture utf8_cases.json) and
// the Unicode standard's own examples.
#include <doctest/doctest.h>

#include "tokenizer_fixtures.hpp"

using namespace cwm;

namespace {

std::string unhex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(char(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

std::string stream_in_pieces(const std::string& bytes, const std::vector<size_t>& cuts) {
    Utf8Stream stream;
    std::string out;
    size_t from = 0;
    for (size_t cut : cuts) {
        std::string part = stream.push(std::string_view(bytes).substr(from, cut - from));
        CHECK(is_valid_utf8(part));
        out += part;
        from = cut;
    }
    out += stream.push(std::string_view(bytes).substr(from));
    return out + stream.finish();
}

}  // namespace

TEST_CASE("UTF-8: the Unicode standard's examples") {
    // Unicode 15, section 3.9, table 3-8: U+FFFD for each maximal subpart.
    const std::string bytes = unhex("61f18080e180c262806380bf64");
    const std::string fffd = "\xEF\xBF\xBD";
    CHECK(stream_in_pieces(bytes, {}) == "a" + fffd + fffd + fffd + "b" + fffd + "c" + fffd + fffd + "d");
    CHECK_FALSE(is_valid_utf8("\xC0\x80"));          // overlong
    CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
    CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
    CHECK_FALSE(is_valid_utf8("\xE2\x82"));          // truncated
    CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));
    CHECK(is_valid_utf8(""));
}

TEST_CASE("UTF-8: validity and replacement agree with Python's decoder") {
    const auto cases = test::read_fixture_json(test::tokenizer_fixture_dir() + "/utf8_cases.json");
    REQUIRE(cases.size() > 100);
    for (const auto& c : cases) {
        const std::string bytes = unhex(c.at("bytes").get<std::string>());
        const std::string replaced = unhex(c.at("replaced").get<std::string>());
        INFO("bytes " << c.at("bytes").get<std::string>());
        CHECK(is_valid_utf8(bytes) == c.at("valid").get<bool>());
        CHECK(stream_in_pieces(bytes, {}) == replaced);
        std::vector<size_t> every_byte;
        for (size_t i = 1; i < bytes.size(); ++i) every_byte.push_back(i);
        CHECK(stream_in_pieces(bytes, every_byte) == replaced);
    }
}

TEST_CASE("UTF-8: streaming never splits a character, whatever the cut points") {
    const auto texts = test::read_fixture_json(test::tokenizer_fixture_dir() + "/llama3/texts.json").at("plain");
    for (const auto& text_json : texts) {
        const std::string text = text_json.get<std::string>();
        if (text.size() > 400) continue;  // quadratic below; the short texts cover every script
        INFO(text);
        for (size_t a = 1; a < text.size(); ++a) {
            REQUIRE(stream_in_pieces(text, {a}) == text);
            if (a + 1 < text.size()) REQUIRE(stream_in_pieces(text, {a, a + 1}) == text);
        }
    }
}
