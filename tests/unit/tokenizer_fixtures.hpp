// Access to the tokenizer test fixtures that tests/tokenizer/make_fixtures.sh generates
// under $CWM_TEST_DATA/tokenizer. A missing fixture is a test failure, never a skip.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <unistd.h>

#include "gguf.hpp"
#include "tokenizer.hpp"

namespace cwm::test {

inline std::string tokenizer_fixture_dir() {
    const char* root = std::getenv("CWM_TEST_DATA");
    if (!root || !*root) {
        FAIL("CWM_TEST_DATA is not set. Run scripts/fetch-test-data.sh and tests/tokenizer/make_fixtures.sh, "
             "then set CWM_TEST_DATA to the directory they used (default ~/.cache/cwm-test-data).");
    }
    std::string dir = std::string(root) + "/tokenizer";
    if (!std::filesystem::exists(dir + "/stamp")) {
        FAIL("no tokenizer fixtures in " << dir << ": run tests/tokenizer/make_fixtures.sh " << dir);
    }
    return dir;
}

inline std::string read_fixture_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) FAIL("cannot read fixture " << path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline nlohmann::json read_fixture_json(const std::string& path) { return nlohmann::json::parse(read_fixture_file(path)); }

inline std::vector<std::string> read_fixture_lines(const std::string& path) {
    std::vector<std::string> lines;
    std::ifstream in(path, std::ios::binary);
    if (!in) FAIL("cannot read fixture " << path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// A scratch file path unique to this process, removed when the object goes away.
class TempPath {
public:
    explicit TempPath(const std::string& name)
        : path_((std::filesystem::temp_directory_path() / ("cwm_tok_" + std::to_string(::getpid()) + "_" + name)).string()) {}
    ~TempPath() { std::filesystem::remove(path_); }
    TempPath(const TempPath&) = delete;
    TempPath& operator=(const TempPath&) = delete;
    const std::string& str() const { return path_; }

private:
    std::string path_;
};

// A fresh scratch directory, removed with its content when the object goes away.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "cwm_tok_XXXXXX").string();
        if (!::mkdtemp(pattern.data())) FAIL("cannot create a temporary directory");
        path_ = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

inline GgufValue gguf_string_array(const std::vector<std::string>& strings) {
    std::vector<GgufValue> items;
    items.reserve(strings.size());
    for (const auto& s : strings) items.push_back(GgufValue::from_string(s));
    return GgufValue::from_array(GgufType::string, std::move(items));
}

inline GgufValue gguf_int_array(GgufType type, const std::vector<int64_t>& values) {
    std::vector<GgufValue> items;
    items.reserve(values.size());
    for (int64_t v : values) items.push_back(GgufValue::from_int(type, v));
    return GgufValue::from_array(type, std::move(items));
}

inline GgufValue gguf_bytes(const std::string& bytes) {
    std::vector<GgufValue> items;
    items.reserve(bytes.size());
    for (char c : bytes) items.push_back(GgufValue::from_uint(GgufType::u8, static_cast<unsigned char>(c)));
    return GgufValue::from_array(GgufType::u8, std::move(items));
}

}  // namespace cwm::test
