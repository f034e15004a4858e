// FNV-1a, 64-bit: a checksum for detecting corrupted or mismatched files, not a cryptographic
// hash (nothing here defends against a forger, only against accidents).
#pragma once

#include <cstddef>
#include <cstdint>

namespace cwm {

class Fnv1a {
public:
    void add(const void* data, size_t n) {
        const auto* p = static_cast<const uint8_t*>(data);
        for (size_t i = 0; i < n; ++i) value_ = (value_ ^ p[i]) * 0x100000001b3ull;
    }
    template <class T>
    void add_value(const T& v) {
        add(&v, sizeof v);
    }
    uint64_t value() const { return value_; }

private:
    uint64_t value_ = 0xcbf29ce484222325ull;
};

}  // namespace cwm
