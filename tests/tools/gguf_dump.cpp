// Prints what libcwm's GGUF reader sees, one fact per line, so a script can compare it with
// what another implementation wrote (tests/integration/gguf_py_roundtrip.py):
//
//   version 3
//   alignment 32
//   kv <key> <type> <value>         type is e.g. u32, string, array<i32>, array<array>
//   tensor <name> <type> ne=<ne0,ne1,...> bytes=<n> fnv1a=<16 hex digits>
//
// Strings are printed JSON-escaped (as Python's json.dumps(s, ensure_ascii=False) does),
// f32 with %.9g and f64 with %.17g, so every value is exact and comparable as text.
//
// With --rewrite OUT it also writes the file back out through GgufWriter, which must
// reproduce a gguf-py file byte for byte.
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "error.hpp"
#include "gguf.hpp"

namespace {

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (const char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

std::string type_text(const cwm::GgufValue& v) {
    if (v.type() != cwm::GgufType::array) return cwm::gguf_type_name(v.type());
    return std::string("array<") + cwm::gguf_type_name(v.as_array().elem_type) + ">";
}

std::string value_text(const cwm::GgufValue& v) {
    char buf[64];
    switch (v.type()) {
        case cwm::GgufType::u8: case cwm::GgufType::u16: case cwm::GgufType::u32: case cwm::GgufType::u64:
            return std::to_string(v.as_uint());
        case cwm::GgufType::i8: case cwm::GgufType::i16: case cwm::GgufType::i32: case cwm::GgufType::i64:
            return std::to_string(v.as_int());
        case cwm::GgufType::f32:
            std::snprintf(buf, sizeof buf, "%.9g", v.as_float());
            return buf;
        case cwm::GgufType::f64:
            std::snprintf(buf, sizeof buf, "%.17g", v.as_float());
            return buf;
        case cwm::GgufType::boolean: return v.as_bool() ? "true" : "false";
        case cwm::GgufType::string: return json_string(v.as_string());
        case cwm::GgufType::array: {
            std::string out = "[";
            for (const cwm::GgufValue& item : v.as_array().items) {
                if (out.size() > 1) out += ',';
                out += value_text(item);
            }
            return out + "]";
        }
    }
    return "?";
}

uint64_t fnv1a(const uint8_t* p, uint64_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

void dump(const cwm::GgufFile& f) {
    std::printf("version %u\nalignment %" PRIu64 "\n", f.version(), f.alignment());
    for (const auto& [key, value] : f.metadata())
        std::printf("kv %s %s %s\n", key.c_str(), type_text(value).c_str(), value_text(value).c_str());
    for (const cwm::TensorView& t : f.tensors()) {
        std::string ne;
        for (uint64_t d : t.ne) {
            if (!ne.empty()) ne += ',';
            ne += std::to_string(d);
        }
        std::printf("tensor %s %s ne=%s bytes=%" PRIu64 " fnv1a=%016" PRIx64 "\n", t.name.c_str(),
                    cwm::dtype_info(uint32_t(t.type))->name, ne.c_str(), t.n_bytes, fnv1a(t.data, t.n_bytes));
    }
}

void rewrite(const cwm::GgufFile& f, const std::string& out) {
    cwm::GgufWriter w(f.alignment());
    for (const auto& [key, value] : f.metadata()) w.set(key, value);
    for (const cwm::TensorView& t : f.tensors()) w.add_tensor(t.name, t.type, t.ne, t.data);
    w.write(out);
}

}  // namespace

int main(int argc, char** argv) {
    const bool has_rewrite = argc == 4 && std::strcmp(argv[2], "--rewrite") == 0;
    if (argc != 2 && !has_rewrite) {
        std::fprintf(stderr, "usage: %s FILE.gguf [--rewrite OUT.gguf]\n", argv[0]);
        return 2;
    }
    try {
        const cwm::GgufFile f(argv[1]);
        dump(f);
        if (has_rewrite) rewrite(f, argv[3]);
    } catch (const cwm::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
