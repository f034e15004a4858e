#include "mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.hpp"
#include "output_file.hpp"

namespace cwm {

namespace {

// Closes a descriptor on every exit path of the constructor; the mapping outlives it.
struct FdCloser {
    int fd;
    ~FdCloser() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

MappedFile::MappedFile(const std::string& path) {
    const FdCloser fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (fd.fd < 0) fail_io(path, "cannot open");
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0) fail_io(path, "cannot stat");
    if (!S_ISREG(st.st_mode)) fail(Status::io_error, path + ": not a regular file");
    if (st.st_size == 0) return;  // nothing to map (mmap refuses length 0); the reader says what is wrong
    void* map = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd.fd, 0);
    if (map == MAP_FAILED) fail_io(path, "cannot map");
    data_ = static_cast<const uint8_t*>(map);
    size_ = uint64_t(st.st_size);
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void drop_resident_pages(const void* p, uint64_t n) {
    const auto page = uint64_t(::sysconf(_SC_PAGESIZE));
    const auto begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
    const auto end = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);  // advisory only
}

}  // namespace cwm
