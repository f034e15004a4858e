#include "output_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <system_error>

#include "error.hpp"

namespace cwm {

[[noreturn]] void fail_io(const std::string& path, const char* action, const std::string& detail) {
    // errno is read first: the arguments are existing strings and literals, so nothing
    // allocates between the failed call and here.
    const int err = errno;
    fail(Status::io_error, path + ": " + action + detail + ": " + std::system_category().message(err));
}

OutputFile::OutputFile(std::string final_path)
    : final_path_(std::move(final_path)), path_(final_path_ + ".tmp." + std::to_string(::getpid())) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail_io(path_, "cannot create");
    buf_.reserve(kBufferBytes);
}

OutputFile::~OutputFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
}

void OutputFile::write(const uint8_t* p, uint64_t n) {
    if (buf_.size() + n > kBufferBytes) flush();
    if (n >= kBufferBytes) return write_all(p, n);  // large blocks bypass the buffer
    buf_.insert(buf_.end(), p, p + n);
}

void OutputFile::zeros(uint64_t n) {
    static constexpr uint8_t kZeros[4096] = {};
    while (n > 0) {
        const uint64_t chunk = std::min<uint64_t>(n, sizeof kZeros);
        write(kZeros, chunk);
        n -= chunk;
    }
}

void OutputFile::commit() {
    flush();
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail_io(path_, "close failed");
    if (std::rename(path_.c_str(), final_path_.c_str()) != 0) fail_io(path_, "cannot rename to ", final_path_);
    committed_ = true;
}

void OutputFile::flush() {
    write_all(buf_.data(), buf_.size());
    buf_.clear();
}

void OutputFile::write_all(const uint8_t* p, uint64_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd_, p, size_t(std::min<uint64_t>(n, uint64_t(1) << 30)));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) fail_io(path_, "write failed");
        p += w;
        n -= uint64_t(w);
    }
}

}  // namespace cwm
