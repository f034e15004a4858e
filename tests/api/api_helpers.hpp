// Helpers shared by the API tests: the test models, token sequences and independent checks.
#pragma once

#include <doctest/doctest.h>

#include <cwm.h>
#include <cwm/cwm.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <span>
#include <string>
#include <vector>

namespace api_test {

inline std::string model_path(const char* name) {
    const char* dir = std::getenv("CWM_TEST_MODELS");
    REQUIRE_MESSAGE(dir != nullptr, "CWM_TEST_MODELS is not set (ctest sets it; see tests/CMakeLists.txt)");
    return std::string(dir) + "/" + name;
}

inline const cwm::model& tiny() {
    static const cwm::model m(model_path("tiny-cwm.gguf"));
    return m;
}

inline std::vector<cwm::token> some_tokens(size_t n) {
    std::vector<cwm::token> t(n);
    for (size_t i = 0; i < n; ++i) t[i] = cwm::token((i * 37 + 11) % 500);
    return t;
}

inline double max_diff(std::span<const float> a, std::span<const float> b) {
    REQUIRE(a.size() == b.size());
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
    return m;
}

// A strict UTF-8 check written here so the test shares no code with the library.
inline bool valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > s.size()) return false;
        for (size_t k = 1; k < len; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
        i += len;
    }
    return true;
}

inline std::string temp_file(const std::string& name, const std::string& bytes) {
    const std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/cwm-api-" +
                             std::to_string(::getpid()) + "-" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

inline double stddev(std::span<const float> x) {
    double mean = 0, sq = 0;
    for (float v : x) mean += v;
    mean /= double(x.size());
    for (float v : x) sq += (v - mean) * (v - mean);
    return std::sqrt(sq / double(x.size()));
}

inline size_t argmax(std::span<const float> x) { return size_t(std::max_element(x.begin(), x.end()) - x.begin()); }

}  // namespace api_test
