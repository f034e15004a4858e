#include "safetensors.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unordered_set>

#include "error.hpp"
#include "mapped_file.hpp"

namespace cwm {

// The header length is loaded with memcpy in host order; the format is little-endian.
static_assert(std::endian::native == std::endian::little, "the safetensors code assumes a little-endian host");

using json = nlohmann::json;

namespace {

constexpr uint64_t kLengthBytes = 8;
// The reference implementation's limit; real headers are well under 1 MB.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// The header object, a tensor entry, its shape / data_offsets array: nothing valid is deeper.
constexpr int kMaxHeaderDepth = 3;
constexpr char kMetadataKey[] = "__metadata__";

struct DTypeSpec {
    SafetensorsDType dtype;
    const char* name;
    uint32_t size;
};

// In enum order, so a dtype indexes its own row.
constexpr DTypeSpec kDTypes[] = {
    {SafetensorsDType::boolean, "BOOL", 1}, {SafetensorsDType::u8, "U8", 1},
    {SafetensorsDType::i8, "I8", 1},        {SafetensorsDType::f8_e5m2, "F8_E5M2", 1},
    {SafetensorsDType::f8_e4m3, "F8_E4M3", 1}, {SafetensorsDType::f8_e8m0, "F8_E8M0", 1},
    {SafetensorsDType::i16, "I16", 2},      {SafetensorsDType::u16, "U16", 2},
    {SafetensorsDType::f16, "F16", 2},      {SafetensorsDType::bf16, "BF16", 2},
    {SafetensorsDType::i32, "I32", 4},      {SafetensorsDType::u32, "U32", 4},
    {SafetensorsDType::f32, "F32", 4},      {SafetensorsDType::c64, "C64", 8},
    {SafetensorsDType::f64, "F64", 8},      {SafetensorsDType::i64, "I64", 8},
    {SafetensorsDType::u64, "U64", 8},
};

constexpr bool dtypes_in_enum_order() {
    for (size_t i = 0; i < std::size(kDTypes); ++i)
        if (size_t(kDTypes[i].dtype) != i) return false;
    return true;
}
static_assert(dtypes_in_enum_order());

// Where a problem is: the file, and the tensor when there is one.
struct Where {
    const std::string& path;
    std::string tensor;  // empty: the file as a whole

    [[noreturn]] void fail(const std::string& what, Status status = Status::invalid_file) const {
        cwm::fail(status, path + ": " + (tensor.empty() ? "" : "tensor '" + tensor + "': ") + what);
    }
};

// A JSON value for an error message: scalars as written, the rest by kind (a string could be
// megabytes long).
std::string describe(const json& j) {
    return j.is_number() || j.is_boolean() || j.is_null() ? j.dump() : std::string(j.type_name());
}

std::string list_text(const std::vector<uint64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i > 0 ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

// std::string("[") rather than "[" + ...: GCC 12 warns falsely (-Wrestrict) about the latter.
std::string range_text(uint64_t begin, uint64_t end) {
    return std::string("[") + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

const json& field(const Where& at, const json& entry, const char* key) {
    const auto it = entry.find(key);
    if (it == entry.end()) at.fail(std::string("missing \"") + key + "\"");
    return *it;
}

SafetensorsDType read_dtype(const Where& at, const json& j) {
    if (!j.is_string()) at.fail("\"dtype\" is not a string (found " + describe(j) + ")");
    const auto& name = j.get_ref<const std::string&>();
    for (const DTypeSpec& spec : kDTypes)
        if (name == spec.name) return spec.dtype;
    std::string known;
    for (const DTypeSpec& spec : kDTypes) known += (known.empty() ? "" : ", ") + std::string(spec.name);
    at.fail("dtype '" + name + "' is not supported (known: " + known + ")", Status::unsupported);
}

// nlohmann stores every non-negative integer literal as unsigned, so this refuses negative
// numbers, floats (even 2.0) and integers beyond 64 bits (which it parses as floats).
std::vector<uint64_t> read_u64s(const Where& at, const json& j, const char* key) {
    if (!j.is_array()) at.fail(std::string("\"") + key + "\" is not an array (found " + describe(j) + ")");
    std::vector<uint64_t> out;
    out.reserve(j.size());
    for (const json& v : j) {
        if (!v.is_number_unsigned())
            at.fail(std::string("\"") + key + "\" holds " + describe(v) + ", not an integer in [0, 2^64)");
        out.push_back(v.get<uint64_t>());
    }
    return out;
}

// Bytes the shape takes; starting from the element size makes one overflow check cover both
// the element count and the byte count.
uint64_t shape_bytes(const Where& at, SafetensorsDType dtype, const std::vector<uint64_t>& shape) {
    uint64_t n = safetensors_dtype_size(dtype);
    for (uint64_t d : shape)
        if (__builtin_mul_overflow(n, d, &n))
            at.fail("shape " + list_text(shape) + " of " + safetensors_dtype_name(dtype) + " exceeds 2^64 bytes");
    return n;
}

SafetensorsTensor read_entry(const Where& at, const json& entry, uint64_t data_size) {
    if (!entry.is_object()) at.fail("entry is not an object (found " + describe(entry) + ")");
    SafetensorsTensor t;
    t.name = at.tensor;
    t.dtype = read_dtype(at, field(at, entry, "dtype"));
    t.shape = read_u64s(at, field(at, entry, "shape"), "shape");
    const std::vector<uint64_t> offsets = read_u64s(at, field(at, entry, "data_offsets"), "data_offsets");
    if (offsets.size() != 2)
        at.fail("\"data_offsets\" has " + std::to_string(offsets.size()) + " numbers (must be [begin, end])");
    const uint64_t begin = offsets[0], end = offsets[1];
    if (begin > end) at.fail("data_offsets " + list_text(offsets) + " begin after they end");
    if (end > data_size)
        at.fail("data_offsets " + list_text(offsets) + " run past the end of the data section (" +
                std::to_string(data_size) + " bytes): the file is truncated or the offsets are wrong");
    t.offset = begin;
    t.n_bytes = end - begin;
    const uint64_t expected = shape_bytes(at, t.dtype, t.shape);
    if (expected != t.n_bytes)
        at.fail("shape " + list_text(t.shape) + " of " + safetensors_dtype_name(t.dtype) + " takes " +
                std::to_string(expected) + " bytes but data_offsets " + list_text(offsets) + " hold " +
                std::to_string(t.n_bytes));
    return t;
}

std::map<std::string, std::string> read_metadata(const Where& file, const json& j) {
    if (j.is_null()) return {};  // the reference reader takes null as absent (a Rust Option)
    if (!j.is_object()) file.fail(std::string("\"") + kMetadataKey + "\" is not an object (found " + describe(j) + ")");
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : j.items()) {
        if (!value.is_string())
            file.fail(std::string("\"") + kMetadataKey + "\" value of '" + key + "' is not a string (found " +
                      describe(value) + ")");
        out.emplace(key, value.get<std::string>());
    }
    return out;
}

// The format requires the tensors to tile the data section exactly: sorted by offset, each
// begins where the previous one ended and the last ends at the end of the file. That also
// rules out overlaps, through which two tensors would alias each other's bytes.
void place_tensors(const Where& file, std::vector<SafetensorsTensor>& tensors, const uint8_t* data,
                   uint64_t data_size) {
    // Empty tensors first among those at one offset; names break the remaining ties.
    std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) {
        return std::tie(a.offset, a.n_bytes, a.name) < std::tie(b.offset, b.n_bytes, b.name);
    });
    uint64_t covered = 0;
    const SafetensorsTensor* prev = nullptr;
    for (SafetensorsTensor& t : tensors) {
        if (t.offset < covered)  // then prev is set: covered > 0
            file.fail("tensors '" + prev->name + "' " + range_text(prev->offset, covered) + " and '" + t.name +
                      "' " + range_text(t.offset, t.offset + t.n_bytes) + " overlap");
        if (t.offset > covered)
            file.fail("bytes " + range_text(covered, t.offset) +
                      " of the data section belong to no tensor (the format allows no holes)");
        t.data = data + t.offset;
        covered = t.offset + t.n_bytes;  // no overflow: read_entry checked it is <= data_size
        prev = &t;
    }
    if (covered < data_size)
        file.fail("bytes " + range_text(covered, data_size) + " at the end of the data section belong to no tensor" +
                  " (the format allows no holes)");
}

uint64_t read_header_length(const Where& file, const uint8_t* map, uint64_t size) {
    uint64_t n = 0;
    std::memcpy(&n, map, sizeof n);
    if (n == 0) file.fail("header length is 0");
    if (n > kMaxHeaderBytes)
        file.fail("header length " + std::to_string(n) + " exceeds the format's limit of " +
                  std::to_string(kMaxHeaderBytes) + " bytes");
    if (n > size - kLengthBytes)
        file.fail("truncated: the header length is " + std::to_string(n) + " bytes but only " +
                  std::to_string(size - kLengthBytes) + " bytes follow it");
    return n;
}

struct Parsed {
    uint64_t data_offset = 0;
    std::map<std::string, std::string> metadata;
    std::vector<SafetensorsTensor> tensors;
};

Parsed parse(const std::string& path, const uint8_t* map, uint64_t size) {
    const Where file{path, {}};
    const uint64_t n = read_header_length(file, map, size);
    const std::string_view text(reinterpret_cast<const char*>(map + kLengthBytes), size_t(n));
    // Required by the format; it also makes any successfully parsed header an object.
    if (text.front() != '{') file.fail("header does not start with '{'");
    const json root = detail::parse_json_strict(text, path + ": header", kMaxHeaderDepth);
    Parsed out;
    out.data_offset = kLengthBytes + n;
    const uint64_t data_size = size - out.data_offset;
    for (const auto& [key, value] : root.items()) {
        if (key == kMetadataKey)
            out.metadata = read_metadata(file, value);
        else
            out.tensors.push_back(read_entry(Where{path, key}, value, data_size));
    }
    place_tensors(file, out.tensors, map + out.data_offset, data_size);
    return out;
}


}  // namespace

const char* safetensors_dtype_name(SafetensorsDType dtype) { return kDTypes[size_t(dtype)].name; }

uint32_t safetensors_dtype_size(SafetensorsDType dtype) { return kDTypes[size_t(dtype)].size; }

uint64_t SafetensorsTensor::n_elements() const {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;  // no overflow: the byte size was checked at load
    return n;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path), file_(std::make_unique<MappedFile>(path)) {
    if (file_->size() < kLengthBytes)
        fail(Status::invalid_file, path + ": file is " + std::to_string(file_->size()) +
                                       " bytes, too short for the 8-byte header length");
    Parsed p = parse(path_, file_->data(), file_->size());
    data_offset_ = p.data_offset;
    metadata_ = std::move(p.metadata);
    tensors_ = std::move(p.tensors);
    for (size_t i = 0; i < tensors_.size(); ++i) by_name_.emplace(tensors_[i].name, i);
}

SafetensorsFile::~SafetensorsFile() = default;

uint64_t SafetensorsFile::file_size() const { return file_->size(); }

const SafetensorsTensor* SafetensorsFile::find_tensor(std::string_view name) const {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

void SafetensorsFile::release(const SafetensorsTensor& t) const {
    // MADV_DONTNEED on anything but this read-only file mapping could discard data (anonymous
    // memory reads back as zeros), so only a range inside the mapping is accepted.
    const auto map_begin = reinterpret_cast<uintptr_t>(file_->data()), map_end = map_begin + file_->size();
    const auto data = reinterpret_cast<uintptr_t>(t.data);
    if (data < map_begin || data > map_end || t.n_bytes > map_end - data)
        fail(Status::invalid_argument, path_ + ": release: tensor '" + t.name + "' is not inside this file");
    drop_resident_pages(t.data, t.n_bytes);
}

namespace detail {

json parse_json_strict(std::string_view text, const std::string& what, int max_depth) {
    // nlohmann reports a key at depth d + 1 for an object that started at depth d, so keys[d]
    // holds the keys seen so far in the open object whose keys are at depth d.
    std::vector<std::unordered_set<std::string>> keys(size_t(max_depth) + 1);
    std::vector<std::string> last_key(size_t(max_depth) + 1);
    std::string problem;
    const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
        if (!problem.empty()) return false;  // stop keeping values: an error is coming anyway
        const bool opens = event == json::parse_event_t::object_start || event == json::parse_event_t::array_start;
        if (opens && depth >= max_depth) {
            problem = "nested more than " + std::to_string(max_depth) + " levels deep";
            return false;
        }
        if (event == json::parse_event_t::object_start) keys[size_t(depth) + 1].clear();
        if (event == json::parse_event_t::array_start) last_key[size_t(depth) + 1].clear();  // no key names its items
        if (event == json::parse_event_t::key) {
            const auto& key = parsed.get_ref<const std::string&>();
            const std::string& parent = last_key[size_t(depth) - 1];
            if (!keys[size_t(depth)].insert(key).second)
                problem = "duplicate key '" + key + "'" + (parent.empty() ? "" : " in '" + parent + "'");
            last_key[size_t(depth)] = key;
        }
        return problem.empty();
    };
    json root;
    try {
        root = json::parse(text.begin(), text.end(), check);
    } catch (const json::exception& e) {
        fail(Status::invalid_file, what + " is not valid JSON: " + e.what());
    }
    if (!problem.empty()) fail(Status::invalid_file, what + ": " + problem);
    return root;
}

}  // namespace detail

}  // namespace cwm
