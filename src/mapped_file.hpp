// A whole file mapped read-only: the model-format readers (GGUF, safetensors) are zero-copy
// views into it.
#pragma once

#include <cstdint>
#include <string>

namespace cwm {

class MappedFile {
public:
    // Throws Error(io_error) naming the path if it cannot be opened, is not a regular file or
    // cannot be mapped. An empty file gives data() == nullptr and size() == 0.
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    uint64_t size() const { return size_; }

private:
    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
};

// Tells the kernel that the whole pages inside [p, p + n) of a read-only file mapping will not
// be read again soon: they leave this process's resident memory, and reading them later faults
// them back in from the file. Advisory: nothing happens if the kernel declines.
void drop_resident_pages(const void* p, uint64_t n);

}  // namespace cwm
