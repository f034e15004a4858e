// SafetensorsCheckpoint: a Hugging Face model directory, one file or shards named by an index.
#include "safetensors.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "output_file.hpp"  // fail_io

namespace cwm {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr char kIndexName[] = "model.safetensors.index.json";
constexpr char kSingleName[] = "model.safetensors";
// The weight map is two levels deep; "metadata" is free-form but small. This only bounds the
// memory a hostile index can make the parser spend on nesting.
constexpr int kMaxIndexDepth = 16;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail_io(path, "cannot open");
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) fail_io(path, "cannot read");
    return text;
}

// A shard must be a plain file in the model directory: the index must not be able to make us
// open "/etc/..." or "../other-model/...". A NUL would cut the name short at open(); the name is
// quoted as JSON so that one cannot cut the message short too.
void check_shard_name(const std::string& index_path, const std::string& tensor, const std::string& shard) {
    const bool plain = !shard.empty() && shard != "." && shard.find('/') == std::string::npos &&
                       shard.find("..") == std::string::npos && shard.find('\0') == std::string::npos;
    if (!plain)
        fail(Status::invalid_file, index_path + ": tensor '" + tensor + "' is in shard " + json(shard).dump() +
                                       ", which is not a plain file name inside the model directory");
}

// Tensor name -> shard file name, from the index's "weight_map".
std::map<std::string, std::string> read_weight_map(const std::string& index_path) {
    const json root = detail::parse_json_strict(read_file(index_path), index_path, kMaxIndexDepth);
    const auto it = root.find("weight_map");  // end() too when the root is not an object
    if (it == root.end() || !it->is_object())
        fail(Status::invalid_file, index_path + ": no \"weight_map\" object");
    std::map<std::string, std::string> map;
    for (const auto& [name, shard] : it->items()) {
        if (!shard.is_string())
            fail(Status::invalid_file, index_path + ": weight_map entry of tensor '" + name +
                                           "' is not a string (found " + shard.type_name() + ")");
        check_shard_name(index_path, name, shard.get_ref<const std::string&>());
        map.emplace(name, shard.get<std::string>());
    }
    return map;
}

}  // namespace

SafetensorsCheckpoint::SafetensorsCheckpoint(const std::string& directory) : directory_(directory) {
    const std::string index_path = (fs::path(directory) / kIndexName).string();
    std::error_code ec;  // an unreadable index is reported when it fails to open
    if (fs::exists(index_path, ec) || ec)
        open_sharded(index_path);
    else
        open_single();
    for (const auto& file : files_)
        for (const SafetensorsTensor& t : file->tensors()) names_.push_back(t.name);
}

void SafetensorsCheckpoint::open_single() {
    const std::string path = (fs::path(directory_) / kSingleName).string();
    std::error_code ec;
    if (!fs::exists(path, ec) && !ec)
        fail(Status::io_error, directory_ + ": neither " + kIndexName + " nor " + kSingleName + " exists");
    files_.push_back(std::make_unique<SafetensorsFile>(path));
    for (const SafetensorsTensor& t : files_[0]->tensors()) entries_.emplace(t.name, Entry{files_[0].get(), &t});
}

void SafetensorsCheckpoint::open_sharded(const std::string& index_path) {
    const std::map<std::string, std::string> weight_map = read_weight_map(index_path);
    std::map<std::string, const SafetensorsFile*> shards;  // by file name: a deterministic order
    for (const auto& [name, shard] : weight_map) shards.emplace(shard, nullptr);
    for (auto& [shard, file] : shards) {
        files_.push_back(std::make_unique<SafetensorsFile>((fs::path(directory_) / shard).string()));
        file = files_.back().get();
    }
    for (const auto& [name, shard] : weight_map) {
        const SafetensorsFile* file = shards.at(shard);
        const SafetensorsTensor* t = file->find_tensor(name);
        if (t == nullptr)
            fail(Status::invalid_file, index_path + ": tensor '" + name + "' listed in the index for shard '" +
                                           shard + "' is not in it");
        entries_.emplace(name, Entry{file, t});
    }
    // Each index entry was just found in its shard, so a shard tensor listed under another
    // shard is in two shards; left alone, which copy is read would depend on the index.
    for (const auto& [shard, file] : shards) {
        for (const SafetensorsTensor& t : file->tensors()) {
            const auto it = weight_map.find(t.name);
            if (it == weight_map.end())
                fail(Status::invalid_file, index_path + ": tensor '" + t.name + "' of shard '" + shard +
                                               "' is not listed in the index");
            if (it->second != shard)
                fail(Status::invalid_file, index_path + ": tensor '" + t.name + "' is in two shards, '" +
                                               it->second + "' (where the index puts it) and '" + shard + "'");
        }
    }
}

const SafetensorsCheckpoint::Entry* SafetensorsCheckpoint::find(std::string_view name) const {
    const auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
}

void SafetensorsCheckpoint::release(std::string_view name) const {
    const Entry* e = find(name);
    if (e == nullptr) fail(Status::not_found, directory_ + ": no tensor '" + std::string(name) + "' to release");
    e->file->release(*e->tensor);
}

}  // namespace cwm
