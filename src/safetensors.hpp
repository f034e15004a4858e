// Hugging Face safetensors reader (mmap, zero-copy tensor views), and a model directory made
// of one such file or of shards named by model.safetensors.index.json.
//
// As with the GGUF reader, every length, offset and shape is checked against the file before
// it is used: a truncated, inconsistent or hostile file gives cwm::Error(Status::invalid_file)
// naming the file and the tensor, never an out-of-bounds read; a dtype this reader does not
// know gives Status::unsupported.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace cwm {

class MappedFile;

// The element types of the format. All are recognised so that a caller can say which one it
// found ("tensor X has dtype I64") instead of failing at open time.
enum class SafetensorsDType : uint8_t {
    boolean, u8, i8, f8_e5m2, f8_e4m3, f8_e8m0, i16, u16, f16, bf16, i32, u32, f32, c64, f64, i64, u64,
};

const char* safetensors_dtype_name(SafetensorsDType dtype);  // as the file spells it: "BF16"
uint32_t safetensors_dtype_size(SafetensorsDType dtype);     // bytes per element

// A tensor inside a mapped file. `shape` is in the file's order, row-major with the outermost
// dimension first (the reverse of ggml's `ne`); it is empty for a scalar. The format does not
// align tensors, so `data` may be misaligned for the dtype: read it with memcpy.
struct SafetensorsTensor {
    std::string name;
    SafetensorsDType dtype = SafetensorsDType::f32;
    std::vector<uint64_t> shape;
    uint64_t offset = 0;  // from the start of the data section
    uint64_t n_bytes = 0;
    const uint8_t* data = nullptr;

    uint64_t n_elements() const;
};

class SafetensorsFile {
public:
    // Maps and validates the file; throws Error(io_error) if it cannot be opened or mapped,
    // Error(invalid_file) for any structural problem, Error(unsupported) for an unknown dtype.
    explicit SafetensorsFile(const std::string& path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;

    const std::string& path() const { return path_; }
    uint64_t file_size() const;
    uint64_t data_offset() const { return data_offset_; }  // 8 + the header length

    const std::map<std::string, std::string>& metadata() const { return metadata_; }  // "__metadata__"

    // In data-offset order, so visiting them in turn reads the file front to back.
    const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
    const SafetensorsTensor* find_tensor(std::string_view name) const;  // nullptr if absent

    // Tells the kernel that a tensor's data will not be read again (it was converted): the
    // whole pages inside it leave this process's resident memory. Reading it afterwards still
    // works; the pages are read back from the file. Throws Error(invalid_argument) for a tensor
    // that does not lie inside this file's mapping.
    void release(const SafetensorsTensor& t) const;

private:
    std::string path_;
    std::unique_ptr<MappedFile> file_;
    uint64_t data_offset_ = 0;
    std::map<std::string, std::string> metadata_;
    std::vector<SafetensorsTensor> tensors_;
    std::map<std::string, size_t, std::less<>> by_name_;  // index into tensors_
};

// A Hugging Face model directory: the shards named by model.safetensors.index.json when it
// exists, else the single model.safetensors. The index and the shards must agree exactly:
// every "weight_map" entry is in the shard it names, every tensor of a shard is listed under
// that shard, so no tensor is in two shards. Shard names must be plain file names inside the
// directory. A missing file is Error(io_error); any disagreement is Error(invalid_file).
class SafetensorsCheckpoint {
public:
    struct Entry {
        const SafetensorsFile* file;
        const SafetensorsTensor* tensor;
    };

    explicit SafetensorsCheckpoint(const std::string& directory);

    const std::string& directory() const { return directory_; }

    // Shard by shard (sorted by file name), each in data-offset order: converting in this order
    // reads every file front to back.
    const std::vector<std::string>& tensor_names() const { return names_; }
    const Entry* find(std::string_view name) const;  // nullptr if absent
    // SafetensorsFile::release for a tensor by name; Error(not_found) if there is none.
    void release(std::string_view name) const;

private:
    void open_single();
    void open_sharded(const std::string& index_path);

    std::string directory_;
    std::vector<std::unique_ptr<SafetensorsFile>> files_;  // stable addresses for Entry
    std::map<std::string, Entry, std::less<>> entries_;
    std::vector<std::string> names_;
};

namespace detail {

// nlohmann::json::parse, refusing what it would silently accept in a file we must trust: an
// object key given twice (it keeps the last, so a tensor could be defined twice) and containers
// nested more than `max_depth` levels (which cost memory and never occur in a valid file).
// Throws Error(invalid_file) whose message starts with `what`.
nlohmann::json parse_json_strict(std::string_view text, const std::string& what, int max_depth);

}  // namespace detail

}  // namespace cwm
