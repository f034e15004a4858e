#include "gguf.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <system_error>
#include <unordered_set>

#include "error.hpp"
#include "mapped_file.hpp"
#include "output_file.hpp"

namespace cwm {

// Values are loaded and stored with memcpy in host order; GGUF (v2 and our v3) is little-endian.
static_assert(std::endian::native == std::endian::little, "the GGUF code assumes a little-endian host");

namespace {

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
constexpr uint32_t kWriteVersion = 3;
constexpr uint64_t kHeaderBytes = 24;  // magic, version, tensor count, kv count
constexpr uint64_t kDefaultAlignment = 32;
constexpr uint32_t kMaxDims = 4;        // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;       // bounds recursion on hostile input
constexpr uint32_t kNumValueTypes = 13;
constexpr char kAlignmentKey[] = "general.alignment";
// Smallest possible encodings, used to reject impossible counts before allocating anything.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // key length, type, u8 value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name length, n_dims, ne[0], type, offset
constexpr uint64_t kMaxElements = uint64_t(std::numeric_limits<int64_t>::max());  // ggml counts in int64

std::string shape_text(const std::vector<uint64_t>& ne) {
    std::string s = "[";
    for (size_t i = 0; i < ne.size(); ++i) {
        if (i > 0) s += ", ";
        s += std::to_string(ne[i]);
    }
    return s + "]";
}

uint64_t align_up(uint64_t n, uint64_t alignment) { return n + (alignment - n % alignment) % alignment; }

bool is_power_of_two(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

uint64_t min_item_bytes(GgufType type) {
    switch (type) {
        case GgufType::u8: case GgufType::i8: case GgufType::boolean: return 1;
        case GgufType::u16: case GgufType::i16: return 2;
        case GgufType::u32: case GgufType::i32: case GgufType::f32: return 4;
        case GgufType::u64: case GgufType::i64: case GgufType::f64: return 8;
        case GgufType::string: return 8;   // length
        case GgufType::array: return 12;   // element type and count
    }
    return 1;
}

// Byte size of a shape with a known type: the block-size and overflow rules shared by the
// reader, the writer and tensor_bytes(). Returns "" when fine, else what is wrong.
std::string size_problem(const DTypeInfo& info, const std::vector<uint64_t>& ne, uint64_t& n_bytes) {
    if (ne.empty()) return "shape has no dimensions";
    uint64_t n_elements = 1;
    for (uint64_t d : ne) {
        if (d != 0 && n_elements > kMaxElements / d)
            return "shape " + shape_text(ne) + " has more than 2^63-1 elements";
        n_elements *= d;
    }
    if (ne[0] % info.block_elems != 0)
        return "innermost dimension " + std::to_string(ne[0]) + " is not a multiple of the " + info.name +
               " block size " + std::to_string(info.block_elems);
    const uint64_t blocks = n_elements / info.block_elems;
    if (blocks > std::numeric_limits<uint64_t>::max() / info.block_bytes)
        return "byte size of shape " + shape_text(ne) + " overflows 64 bits";
    n_bytes = blocks * info.block_bytes;
    return {};
}

// Full tensor validation (type, rank, non-empty dims, size). Returns "" when fine.
std::string tensor_problem(DType type, const std::vector<uint64_t>& ne, uint64_t& n_bytes) {
    const DTypeInfo* info = dtype_info(uint32_t(type));
    if (info == nullptr) return "unknown tensor type " + std::to_string(uint32_t(type));
    if (ne.empty() || ne.size() > kMaxDims)
        return "n_dims is " + std::to_string(ne.size()) + " (must be 1.." + std::to_string(kMaxDims) + ")";
    if (std::find(ne.begin(), ne.end(), uint64_t(0)) != ne.end())
        return "shape " + shape_text(ne) + " has a zero dimension";
    return size_problem(*info, ne, n_bytes);
}

// ---- reading -------------------------------------------------------------------------

// Bounds-checked little-endian cursor over the mapped file.
class Reader {
public:
    Reader(const std::string& path, const uint8_t* data, uint64_t size) : path_(path), data_(data), size_(size) {}

    uint64_t pos() const { return pos_; }
    uint64_t remaining() const { return size_ - pos_; }
    uint64_t size() const { return size_; }

    [[noreturn]] void fail_here(const std::string& what) const { fail(Status::invalid_file, path_ + ": " + what); }

    const uint8_t* take(uint64_t n, const std::string& what) {
        if (n > remaining())
            fail_here("truncated: " + what + " needs " + std::to_string(n) + " bytes at offset " +
                      std::to_string(pos_) + " but the file ends at " + std::to_string(size_));
        const uint8_t* p = data_ + pos_;
        pos_ += n;
        return p;
    }

    template <class T>
    T read(const std::string& what) {
        T v;
        std::memcpy(&v, take(sizeof v, what), sizeof v);
        return v;
    }

    std::string_view string(const std::string& what) {
        const uint64_t len = read<uint64_t>(what);
        if (len > remaining())
            fail_here(what + ": string length " + std::to_string(len) + " exceeds the " +
                      std::to_string(remaining()) + " bytes left in the file");
        return {reinterpret_cast<const char*>(take(len, what)), size_t(len)};
    }

private:
    const std::string& path_;
    const uint8_t* data_;
    uint64_t size_;
    uint64_t pos_ = 0;
};

GgufValue read_value(Reader& r, GgufType type, int depth, const std::string& what);

GgufValue read_array(Reader& r, int depth, const std::string& what) {
    if (depth >= kMaxArrayDepth)
        r.fail_here(what + ": arrays nested more than " + std::to_string(kMaxArrayDepth) + " levels deep");
    const uint32_t elem = r.read<uint32_t>(what);
    if (elem >= kNumValueTypes) r.fail_here(what + ": array has unknown element type " + std::to_string(elem));
    const auto elem_type = GgufType(elem);
    const uint64_t count = r.read<uint64_t>(what);
    if (count > r.remaining() / min_item_bytes(elem_type))
        r.fail_here(what + ": array count " + std::to_string(count) + " of " + gguf_type_name(elem_type) +
                    " cannot fit in the " + std::to_string(r.remaining()) + " bytes left in the file");
    std::vector<GgufValue> items;
    items.reserve(count);
    for (uint64_t i = 0; i < count; ++i) items.push_back(read_value(r, elem_type, depth + 1, what));
    return GgufValue::from_array(elem_type, std::move(items));
}

GgufValue read_value(Reader& r, GgufType type, int depth, const std::string& what) {
    switch (type) {
        case GgufType::u8: return GgufValue::from_uint(type, r.read<uint8_t>(what));
        case GgufType::u16: return GgufValue::from_uint(type, r.read<uint16_t>(what));
        case GgufType::u32: return GgufValue::from_uint(type, r.read<uint32_t>(what));
        case GgufType::u64: return GgufValue::from_uint(type, r.read<uint64_t>(what));
        case GgufType::i8: return GgufValue::from_int(type, r.read<int8_t>(what));
        case GgufType::i16: return GgufValue::from_int(type, r.read<int16_t>(what));
        case GgufType::i32: return GgufValue::from_int(type, r.read<int32_t>(what));
        case GgufType::i64: return GgufValue::from_int(type, r.read<int64_t>(what));
        case GgufType::f32: return GgufValue::from_float(type, r.read<float>(what));
        case GgufType::f64: return GgufValue::from_float(type, r.read<double>(what));
        case GgufType::boolean: {
            const uint8_t b = r.read<uint8_t>(what);
            if (b > 1) r.fail_here(what + ": bool value " + std::to_string(b) + " is neither 0 nor 1");
            return GgufValue::from_bool(b == 1);
        }
        case GgufType::string: return GgufValue::from_string(std::string(r.string(what)));
        case GgufType::array: return read_array(r, depth, what);
    }
    r.fail_here(what + ": unknown value type " + std::to_string(uint32_t(type)));
}

struct Parsed {
    uint32_t version = 0;
    uint64_t alignment = kDefaultAlignment;
    uint64_t data_offset = 0;
    std::vector<std::pair<std::string, GgufValue>> metadata;
    std::vector<TensorView> tensors;
};

std::string printable(const uint8_t* bytes, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) {
        char buf[8];
        const bool plain = bytes[i] >= 0x20 && bytes[i] < 0x7f;
        std::snprintf(buf, sizeof buf, plain ? "%c" : "\\x%02x", bytes[i]);
        s += buf;
    }
    return s;
}

// Magic, version and counts; the counts are checked against the file size so an absurd
// count fails here instead of in an allocation.
void read_header(Reader& r, uint64_t& n_tensors, uint64_t& n_kv, Parsed& out) {
    const size_t n_magic = size_t(std::min<uint64_t>(4, r.size()));
    const uint8_t* magic = r.take(n_magic, "magic");
    if (std::memcmp(magic, kMagic, n_magic) != 0)
        r.fail_here("not a GGUF file (magic '" + printable(magic, n_magic) + "', expected 'GGUF')");
    if (r.size() < kHeaderBytes)
        r.fail_here("file too small for a GGUF header (" + std::to_string(r.size()) + " bytes, need " +
                    std::to_string(kHeaderBytes) + ")");
    out.version = r.read<uint32_t>("version");
    if (out.version != 2 && out.version != 3) {
        const uint32_t swapped = __builtin_bswap32(out.version);
        r.fail_here("unsupported GGUF version " + std::to_string(out.version) +
                    (swapped == 2 || swapped == 3 ? " (a big-endian file, which is not supported)"
                                                  : " (only versions 2 and 3 are supported)"));
    }
    n_tensors = r.read<uint64_t>("tensor count");
    n_kv = r.read<uint64_t>("kv count");
    if (n_tensors > r.remaining() / kMinTensorInfoBytes)
        r.fail_here("tensor count " + std::to_string(n_tensors) + " is impossible in a file of " +
                    std::to_string(r.size()) + " bytes");
    if (n_kv > r.remaining() / kMinKvBytes)
        r.fail_here("kv count " + std::to_string(n_kv) + " is impossible in a file of " +
                    std::to_string(r.size()) + " bytes");
}

void read_metadata(Reader& r, uint64_t n_kv, Parsed& out) {
    out.metadata.reserve(n_kv);
    std::unordered_set<std::string_view> seen;  // views into the map, which outlives the set
    for (uint64_t i = 0; i < n_kv; ++i) {
        const std::string_view key = r.string("key #" + std::to_string(i));
        if (key.empty()) r.fail_here("key #" + std::to_string(i) + " is an empty string");
        const std::string what = "key '" + std::string(key) + "'";
        if (!seen.insert(key).second) r.fail_here("duplicate " + what);
        const uint32_t type = r.read<uint32_t>(what);
        if (type >= kNumValueTypes) r.fail_here(what + ": unknown value type " + std::to_string(type));
        out.metadata.emplace_back(std::string(key), read_value(r, GgufType(type), 0, what));
    }
}

void read_alignment(const Reader& r, Parsed& out) {
    for (const auto& [key, value] : out.metadata) {
        if (key != kAlignmentKey) continue;
        if (value.type() != GgufType::u32)
            r.fail_here(std::string("key '") + kAlignmentKey + "' has type " + gguf_type_name(value.type()) +
                        " (must be u32)");
        if (!is_power_of_two(value.as_uint()))
            r.fail_here(std::string("key '") + kAlignmentKey + "' is " + std::to_string(value.as_uint()) +
                        " (must be a non-zero power of two)");
        out.alignment = value.as_uint();
    }
}

TensorView read_tensor_info(Reader& r, uint64_t index, uint64_t alignment) {
    TensorView t;
    const std::string_view name = r.string("tensor #" + std::to_string(index) + " name");
    if (name.empty()) r.fail_here("tensor #" + std::to_string(index) + " has an empty name");
    t.name = name;
    const std::string what = "tensor '" + t.name + "'";
    const uint32_t n_dims = r.read<uint32_t>(what);
    if (n_dims == 0 || n_dims > kMaxDims)
        r.fail_here(what + ": n_dims is " + std::to_string(n_dims) + " (must be 1.." + std::to_string(kMaxDims) + ")");
    for (uint32_t d = 0; d < n_dims; ++d) t.ne.push_back(r.read<uint64_t>(what));
    const uint32_t type = r.read<uint32_t>(what);
    t.offset = r.read<uint64_t>(what);
    t.type = DType(type);
    const std::string problem = tensor_problem(t.type, t.ne, t.n_bytes);
    if (!problem.empty()) r.fail_here(what + ": " + problem);
    if (t.offset % alignment != 0)
        r.fail_here(what + ": data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                    std::to_string(alignment));
    return t;
}

void read_tensor_infos(Reader& r, uint64_t n_tensors, Parsed& out) {
    out.tensors.reserve(n_tensors);
    std::unordered_set<std::string> seen;
    for (uint64_t i = 0; i < n_tensors; ++i) {
        TensorView t = read_tensor_info(r, i, out.alignment);
        if (!seen.insert(t.name).second) r.fail_here("duplicate tensor name '" + t.name + "'");
        out.tensors.push_back(std::move(t));
    }
}

std::string range_text(const TensorView& t) {
    return "[offset " + std::to_string(t.offset) + ", " + std::to_string(t.n_bytes) + " bytes]";
}

// Checks every tensor lies inside the file and no two overlap, then points them into the map.
void place_tensors(const Reader& r, const uint8_t* map, Parsed& out) {
    out.data_offset = align_up(r.pos(), out.alignment);
    if (out.data_offset > r.size())
        r.fail_here("data section would start at offset " + std::to_string(out.data_offset) +
                    " (after padding to alignment " + std::to_string(out.alignment) +
                    "), past the end of the file (size " + std::to_string(r.size()) + ")");
    const uint64_t data_size = r.size() - out.data_offset;
    for (TensorView& t : out.tensors) {
        if (t.offset > data_size || t.n_bytes > data_size - t.offset)
            r.fail_here("tensor '" + t.name + "' data " + range_text(t) + " runs past the end of the file (size " +
                        std::to_string(r.size()) + ", data section at " + std::to_string(out.data_offset) + ")");
        t.data = map + out.data_offset + t.offset;
    }
    std::vector<const TensorView*> by_offset;
    for (const TensorView& t : out.tensors) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
        const TensorView& a = *by_offset[i - 1];
        const TensorView& b = *by_offset[i];
        if (a.offset + a.n_bytes > b.offset)  // both ranges are inside the file: no overflow
            r.fail_here("tensors '" + a.name + "' " + range_text(a) + " and '" + b.name + "' " + range_text(b) +
                        " overlap");
    }
}

Parsed parse(const std::string& path, const uint8_t* map, uint64_t size) {
    Reader r(path, map, size);
    Parsed out;
    uint64_t n_tensors = 0, n_kv = 0;
    read_header(r, n_tensors, n_kv, out);
    read_metadata(r, n_kv, out);
    read_alignment(r, out);
    read_tensor_infos(r, n_tensors, out);
    place_tensors(r, map, out);
    return out;
}


}  // namespace

// ---- GgufValue -------------------------------------------------------------------------

const char* gguf_type_name(GgufType type) {
    static constexpr const char* kNames[kNumValueTypes] = {"u8",     "i8",    "u16", "i16", "u32", "i32", "f32",
                                                            "bool",   "string", "array", "u64", "i64", "f64"};
    const auto i = uint32_t(type);
    return i < kNumValueTypes ? kNames[i] : "unknown";
}

GgufValue GgufValue::from_uint(GgufType type, uint64_t v) {
    uint64_t max = 0;
    switch (type) {
        case GgufType::u8: max = 0xff; break;
        case GgufType::u16: max = 0xffff; break;
        case GgufType::u32: max = 0xffffffff; break;
        case GgufType::u64: max = std::numeric_limits<uint64_t>::max(); break;
        default: fail(Status::invalid_argument, std::string("GgufValue::from_uint: ") + gguf_type_name(type) +
                                                    " is not an unsigned integer type");
    }
    if (v > max)
        fail(Status::invalid_argument, "GgufValue::from_uint: " + std::to_string(v) + " does not fit in " +
                                           gguf_type_name(type));
    GgufValue out;
    out.type_ = type;
    out.value_ = v;
    return out;
}

GgufValue GgufValue::from_int(GgufType type, int64_t v) {
    int64_t lo = 0, hi = 0;
    switch (type) {
        case GgufType::i8: lo = INT8_MIN, hi = INT8_MAX; break;
        case GgufType::i16: lo = INT16_MIN, hi = INT16_MAX; break;
        case GgufType::i32: lo = INT32_MIN, hi = INT32_MAX; break;
        case GgufType::i64: lo = INT64_MIN, hi = INT64_MAX; break;
        default: fail(Status::invalid_argument, std::string("GgufValue::from_int: ") + gguf_type_name(type) +
                                                    " is not a signed integer type");
    }
    if (v < lo || v > hi)
        fail(Status::invalid_argument, "GgufValue::from_int: " + std::to_string(v) + " does not fit in " +
                                           gguf_type_name(type));
    GgufValue out;
    out.type_ = type;
    out.value_ = v;
    return out;
}

GgufValue GgufValue::from_float(GgufType type, double v) {
    if (type != GgufType::f32 && type != GgufType::f64)
        fail(Status::invalid_argument, std::string("GgufValue::from_float: ") + gguf_type_name(type) +
                                           " is not a float type");
    GgufValue out;
    out.type_ = type;
    // Stored as written, so reading back a value that was set gives the same number.
    out.value_ = type == GgufType::f32 ? double(float(v)) : v;
    return out;
}

GgufValue GgufValue::from_bool(bool v) {
    GgufValue out;
    out.type_ = GgufType::boolean;
    out.value_ = v;
    return out;
}

GgufValue GgufValue::from_string(std::string v) {
    GgufValue out;
    out.type_ = GgufType::string;
    out.value_ = std::move(v);
    return out;
}

GgufValue GgufValue::from_array(GgufType elem_type, std::vector<GgufValue> items) {
    if (uint32_t(elem_type) >= kNumValueTypes)
        fail(Status::invalid_argument, "GgufValue::from_array: unknown element type " +
                                           std::to_string(uint32_t(elem_type)));
    for (const GgufValue& item : items)
        if (item.type() != elem_type)
            fail(Status::invalid_argument, std::string("GgufValue::from_array: a ") + gguf_type_name(item.type()) +
                                               " item in an array of " + gguf_type_name(elem_type));
    GgufValue out;
    out.type_ = GgufType::array;
    out.value_ = Array{elem_type, std::move(items)};
    return out;
}

bool GgufValue::is_integer() const {
    return std::holds_alternative<uint64_t>(value_) || std::holds_alternative<int64_t>(value_);
}

bool GgufValue::is_number() const { return is_integer() || std::holds_alternative<double>(value_); }

namespace {

[[noreturn]] void mismatch(const char* wanted, GgufType type, const std::string& value) {
    fail(Status::invalid_file, std::string("expected ") + wanted + ", found " + gguf_type_name(type) +
                                   (value.empty() ? "" : " " + value));
}

}  // namespace

uint64_t GgufValue::as_uint() const {
    if (const auto* u = std::get_if<uint64_t>(&value_)) return *u;
    const auto* i = std::get_if<int64_t>(&value_);
    if (i && *i >= 0) return uint64_t(*i);
    mismatch("a non-negative integer", type_, i ? std::to_string(*i) : "");
}

int64_t GgufValue::as_int() const {
    if (const auto* i = std::get_if<int64_t>(&value_)) return *i;
    const auto* u = std::get_if<uint64_t>(&value_);
    if (u && *u <= uint64_t(INT64_MAX)) return int64_t(*u);
    mismatch("an integer that fits in i64", type_, u ? std::to_string(*u) : "");
}

double GgufValue::as_float() const {
    if (const auto* d = std::get_if<double>(&value_)) return *d;
    if (const auto* u = std::get_if<uint64_t>(&value_)) return double(*u);
    if (const auto* i = std::get_if<int64_t>(&value_)) return double(*i);
    mismatch("a number", type_, "");
}

bool GgufValue::as_bool() const {
    if (const auto* b = std::get_if<bool>(&value_)) return *b;
    mismatch("bool", type_, "");
}

const std::string& GgufValue::as_string() const {
    if (const auto* s = std::get_if<std::string>(&value_)) return *s;
    mismatch("string", type_, "");
}

const GgufValue::Array& GgufValue::as_array() const {
    if (const auto* a = std::get_if<Array>(&value_)) return *a;
    mismatch("array", type_, "");
}

// ---- GgufFile --------------------------------------------------------------------------

uint64_t TensorView::n_elements() const {
    uint64_t n = 1;
    for (uint64_t d : ne) n *= d;
    return n;
}

GgufFile::GgufFile(const std::string& path) : path_(path), file_(std::make_unique<MappedFile>(path)) {
    if (file_->size() == 0) fail(Status::invalid_file, path + ": file is empty");
    Parsed p = parse(path_, file_->data(), file_->size());
    version_ = p.version;
    alignment_ = p.alignment;
    data_offset_ = p.data_offset;
    metadata_ = std::move(p.metadata);
    tensors_ = std::move(p.tensors);
}

GgufFile::~GgufFile() = default;

uint64_t GgufFile::file_size() const { return file_->size(); }

const GgufValue* GgufFile::find(std::string_view key) const {
    for (const auto& [k, v] : metadata_)
        if (k == key) return &v;
    return nullptr;
}

const GgufValue& GgufFile::get(std::string_view key) const {
    const GgufValue* v = find(key);
    if (v == nullptr) fail(Status::invalid_file, path_ + ": missing key '" + std::string(key) + "'");
    return *v;
}

void GgufFile::release(const TensorView& t) const { drop_resident_pages(t.data, t.n_bytes); }

const TensorView* GgufFile::find_tensor(std::string_view name) const {
    for (const TensorView& t : tensors_)
        if (t.name == name) return &t;
    return nullptr;
}

uint64_t tensor_bytes(DType type, const std::vector<uint64_t>& ne) {
    const DTypeInfo* info = dtype_info(uint32_t(type));
    if (info == nullptr) fail(Status::invalid_file, "unknown tensor type " + std::to_string(uint32_t(type)));
    uint64_t n_bytes = 0;
    const std::string problem = size_problem(*info, ne, n_bytes);
    if (!problem.empty()) fail(Status::invalid_file, std::string(info->name) + " tensor: " + problem);
    return n_bytes;
}

// ---- writing ---------------------------------------------------------------------------

namespace {

// The header is assembled in memory (it is small next to the tensor data) and written once.
class Encoder {
public:
    std::vector<uint8_t> bytes;

    // resize + memcpy rather than insert(), which trips a GCC 12 -Wstringop-overflow false positive.
    void put_bytes(const void* p, size_t n) {
        const size_t old = bytes.size();
        bytes.resize(old + n);
        if (n > 0) std::memcpy(bytes.data() + old, p, n);
    }

    template <class T>
    void put(T v) {
        put_bytes(&v, sizeof v);
    }

    void put_string(const std::string& s) {
        put<uint64_t>(s.size());
        put_bytes(s.data(), s.size());
    }

    // The value without its type tag (the caller writes the tag; array items have none).
    void put_value(const GgufValue& v) {
        switch (v.type()) {
            case GgufType::u8: return put(uint8_t(v.as_uint()));
            case GgufType::u16: return put(uint16_t(v.as_uint()));
            case GgufType::u32: return put(uint32_t(v.as_uint()));
            case GgufType::u64: return put(uint64_t(v.as_uint()));
            case GgufType::i8: return put(int8_t(v.as_int()));
            case GgufType::i16: return put(int16_t(v.as_int()));
            case GgufType::i32: return put(int32_t(v.as_int()));
            case GgufType::i64: return put(int64_t(v.as_int()));
            case GgufType::f32: return put(float(v.as_float()));
            case GgufType::f64: return put(double(v.as_float()));
            case GgufType::boolean: return put(uint8_t(v.as_bool()));
            case GgufType::string: return put_string(v.as_string());
            case GgufType::array: {
                const GgufValue::Array& a = v.as_array();
                put(uint32_t(a.elem_type));
                put(uint64_t(a.items.size()));
                for (const GgufValue& item : a.items) put_value(item);
                return;
            }
        }
    }

    void put_kv(const std::string& key, const GgufValue& value) {
        put_string(key);
        put(uint32_t(value.type()));
        put_value(value);
    }
};

// Validates a tensor added to the writer and returns its size in bytes. A template so it can
// see the writer's private pending-tensor list without naming its type.
template <class Pending>
uint64_t checked_new_tensor(const std::vector<Pending>& existing, const std::string& name, DType type,
                            const std::vector<uint64_t>& ne) {
    if (name.empty()) fail(Status::invalid_argument, "GgufWriter: empty tensor name");
    for (const Pending& t : existing)
        if (t.name == name) fail(Status::invalid_argument, "GgufWriter: duplicate tensor '" + name + "'");
    uint64_t n_bytes = 0;
    const std::string problem = tensor_problem(type, ne, n_bytes);
    if (!problem.empty()) fail(Status::invalid_argument, "GgufWriter: tensor '" + name + "': " + problem);
    return n_bytes;
}

}  // namespace

GgufWriter::GgufWriter(uint64_t alignment) : alignment_(alignment) {
    if (!is_power_of_two(alignment) || alignment > std::numeric_limits<uint32_t>::max())
        fail(Status::invalid_argument, "GgufWriter: alignment " + std::to_string(alignment) +
                                           " must be a non-zero power of two that fits in u32");
}

void GgufWriter::set(const std::string& key, GgufValue value) {
    if (key.empty()) fail(Status::invalid_argument, "GgufWriter: empty key");
    // The alignment key is written automatically; setting it only fixes its position.
    if (key == kAlignmentKey && (value.type() != GgufType::u32 || value.as_uint() != alignment_))
        fail(Status::invalid_argument, std::string("GgufWriter: '") + kAlignmentKey + "' must be the u32 " +
                                           std::to_string(alignment_) + " given to the constructor");
    for (auto& [k, v] : metadata_) {
        if (k == key) {
            v = std::move(value);
            return;
        }
    }
    metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::remove(const std::string& key) {
    std::erase_if(metadata_, [&](const auto& kv) { return kv.first == key; });
}

void GgufWriter::add_tensor(const std::string& name, DType type, std::vector<uint64_t> ne, const void* data) {
    if (data == nullptr) fail(Status::invalid_argument, "GgufWriter: tensor '" + name + "' has no data");
    const uint64_t n_bytes = checked_new_tensor(tensors_, name, type, ne);
    tensors_.push_back({name, type, std::move(ne), n_bytes, static_cast<const uint8_t*>(data), {}});
}

void GgufWriter::add_tensor(const std::string& name, DType type, std::vector<uint64_t> ne, TensorFill fill) {
    if (!fill) fail(Status::invalid_argument, "GgufWriter: tensor '" + name + "' has no fill function");
    const uint64_t n_bytes = checked_new_tensor(tensors_, name, type, ne);
    tensors_.push_back({name, type, std::move(ne), n_bytes, nullptr, std::move(fill)});
}

void GgufWriter::write(const std::string& path, const Progress& progress) const {
    const bool alignment_set = std::any_of(metadata_.begin(), metadata_.end(),
                                           [](const auto& kv) { return kv.first == kAlignmentKey; });
    const bool auto_alignment = alignment_ != kDefaultAlignment && !alignment_set;

    Encoder header;
    header.put_bytes(kMagic, sizeof kMagic);
    header.put(kWriteVersion);
    header.put(uint64_t(tensors_.size()));
    header.put(uint64_t(metadata_.size() + (auto_alignment ? 1 : 0)));
    if (auto_alignment) header.put_kv(kAlignmentKey, GgufValue::from_uint(GgufType::u32, alignment_));
    for (const auto& [key, value] : metadata_) header.put_kv(key, value);
    uint64_t offset = 0, total = 0;
    for (const PendingTensor& t : tensors_) {
        header.put_string(t.name);
        header.put(uint32_t(t.ne.size()));
        for (uint64_t d : t.ne) header.put(d);
        header.put(uint32_t(t.type));
        header.put(offset);
        offset += align_up(t.n_bytes, alignment_);
        total += t.n_bytes;
    }

    OutputFile out(path);
    out.write(header.bytes.data(), header.bytes.size());
    out.zeros(align_up(header.bytes.size(), alignment_) - header.bytes.size());
    uint64_t done = 0;
    for (const PendingTensor& t : tensors_) {
        if (t.data != nullptr) {
            out.write(t.data, t.n_bytes);
        } else {
            const auto buffer = std::make_unique<uint8_t[]>(size_t(t.n_bytes));  // zeroed: no stale bytes on disk
            t.fill(buffer.get());
            out.write(buffer.get(), t.n_bytes);
        }
        out.zeros(align_up(t.n_bytes, alignment_) - t.n_bytes);
        done += t.n_bytes;
        if (progress) progress(done, total);
    }
    out.commit();
}

}  // namespace cwm
