#include "gguf_text.hpp"

#include <cstdio>

namespace cwm {

namespace {

std::string number_text(const GgufValue& v) {
    switch (v.type()) {
        case GgufType::f32:
        case GgufType::f64: {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.9g", v.as_float());
            return buf;
        }
        case GgufType::i8:
        case GgufType::i16:
        case GgufType::i32:
        case GgufType::i64: return std::to_string(v.as_int());
        default: return std::to_string(v.as_uint());
    }
}

}  // namespace

std::string gguf_value_to_text(const GgufValue& value, size_t max_items) {
    switch (value.type()) {
        case GgufType::boolean: return value.as_bool() ? "true" : "false";
        case GgufType::string: return value.as_string();
        case GgufType::array: {
            const auto& items = value.as_array().items;
            const size_t shown = max_items ? std::min(max_items, items.size()) : items.size();
            std::string out = "[";
            for (size_t i = 0; i < shown; ++i) {
                const GgufValue& item = items[i];
                out += (i ? ", " : "");
                out += item.type() == GgufType::string ? "\"" + item.as_string() + "\"" : gguf_value_to_text(item, max_items);
            }
            if (shown < items.size()) out += ", ... (" + std::to_string(items.size()) + " items)";
            return out + "]";
        }
        default: return number_text(value);
    }
}

}  // namespace cwm
