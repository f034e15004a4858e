// GGUF v3 reader (mmap, zero-copy tensor views) and writer (atomic: temp file + rename).
//
// The reader validates every count, length, type and offset against the file size before
// using it, so a truncated or hostile file produces a cwm::Error(Status::invalid_file) whose
// message names the offending key/tensor and never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "../lib/dtype.hpp"

namespace cwm {

class MappedFile;

// Metadata value types, numbered as in the GGUF specification.
enum class GgufType : uint32_t {
    u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
    string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};

const char* gguf_type_name(GgufType type);

// One metadata value. Arrays may nest (an array of arrays), as the specification allows.
class GgufValue {
public:
    struct Array {
        GgufType elem_type = GgufType::u8;
        std::vector<GgufValue> items;
    };

    GgufValue() : type_(GgufType::u8), value_(uint64_t(0)) {}
    static GgufValue from_uint(GgufType type, uint64_t v);  // u8/u16/u32/u64
    static GgufValue from_int(GgufType type, int64_t v);    // i8/i16/i32/i64
    static GgufValue from_float(GgufType type, double v);   // f32/f64
    static GgufValue from_bool(bool v);
    static GgufValue from_string(std::string v);
    static GgufValue from_array(GgufType elem_type, std::vector<GgufValue> items);

    GgufType type() const { return type_; }
    bool is_integer() const;
    bool is_number() const;  // integer or float

    // Conversions throw Error(invalid_file) when the stored type does not fit
    // (e.g. as_uint on a negative int or a string), naming both types.
    uint64_t as_uint() const;
    int64_t as_int() const;
    double as_float() const;  // any number
    bool as_bool() const;
    const std::string& as_string() const;
    const Array& as_array() const;

private:
    GgufType type_;
    std::variant<uint64_t, int64_t, double, bool, std::string, Array> value_;
};

// A tensor inside a mapped file. `ne` is in ggml order: ne[0] is the contiguous (innermost)
// dimension, so a [rows x cols] matrix has ne = {cols, rows}.
struct TensorView {
    std::string name;
    DType type = DType::f32;
    std::vector<uint64_t> ne;
    uint64_t offset = 0;   // from the start of the data section
    uint64_t n_bytes = 0;
    const uint8_t* data = nullptr;

    uint64_t n_elements() const;
};

class GgufFile {
public:
    // Maps and validates the file; throws Error(io_error) if it cannot be opened and
    // Error(invalid_file) for any structural problem.
    explicit GgufFile(const std::string& path);
    ~GgufFile();
    GgufFile(const GgufFile&) = delete;
    GgufFile& operator=(const GgufFile&) = delete;

    const std::string& path() const { return path_; }
    uint32_t version() const { return version_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t file_size() const;
    uint64_t data_offset() const { return data_offset_; }

    const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
    const GgufValue* find(std::string_view key) const;        // nullptr if absent
    const GgufValue& get(std::string_view key) const;         // throws invalid_file naming the key

    const std::vector<TensorView>& tensors() const { return tensors_; }
    const TensorView* find_tensor(std::string_view name) const;  // nullptr if absent

    // Tells the kernel that a tensor's data will not be read again (it was copied elsewhere,
    // e.g. repacked): the whole pages inside it leave this process's resident memory. Reading
    // it afterwards still works; the pages are simply read back from the file.
    void release(const TensorView& t) const;

private:
    std::string path_;
    std::unique_ptr<MappedFile> file_;
    uint32_t version_ = 0;
    uint64_t alignment_ = 32;
    uint64_t data_offset_ = 0;
    std::vector<std::pair<std::string, GgufValue>> metadata_;
    std::vector<TensorView> tensors_;
};

class GgufWriter {
public:
    // Writes exactly the tensor's n_bytes into dst (called once, during write()).
    using TensorFill = std::function<void(uint8_t* dst)>;
    // Called after each tensor with (bytes written so far, total bytes of tensor data).
    using Progress = std::function<void(uint64_t done, uint64_t total)>;

    explicit GgufWriter(uint64_t alignment = 32);

    // Sets a key; an existing key keeps its position and gets the new value.
    void set(const std::string& key, GgufValue value);
    void remove(const std::string& key);

    // `data` must stay valid until write() returns.
    void add_tensor(const std::string& name, DType type, std::vector<uint64_t> ne, const void* data);
    // `fill` produces the bytes when write() reaches this tensor, so a converter keeps only
    // one tensor in memory at a time.
    void add_tensor(const std::string& name, DType type, std::vector<uint64_t> ne, TensorFill fill);

    // Writes to a temporary file beside `path` and renames it over `path` only when
    // everything was written; on any error the temporary file is removed and Error thrown.
    void write(const std::string& path, const Progress& progress = {}) const;

private:
    struct PendingTensor {
        std::string name;
        DType type;
        std::vector<uint64_t> ne;
        uint64_t n_bytes;
        const uint8_t* data;  // the caller's bytes, or nullptr when `fill` produces them
        TensorFill fill;
    };
    uint64_t alignment_;
    std::vector<std::pair<std::string, GgufValue>> metadata_;
    std::vector<PendingTensor> tensors_;
};

// Bytes needed for `ne` elements of `type`; throws invalid_file if the innermost dimension
// is not a multiple of the block size or the product overflows.
uint64_t tensor_bytes(DType type, const std::vector<uint64_t>& ne);

}  // namespace cwm
