// Files written atomically: bytes go to a temporary file beside the destination, which is
// renamed into place only when everything was written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cwm {

// Throws Error(io_error) "PATH: ACTION DETAIL: strerror(errno)"; call right after the failed
// system call, before anything can change errno.
[[noreturn]] void fail_io(const std::string& path, const char* action, const std::string& detail = {});

// Buffered output to a temporary file that is renamed into place by commit(); destroyed
// without commit (any exception) it removes the temporary file.
class OutputFile {
public:
    // Creates PATH.tmp.PID beside `final_path`.
    explicit OutputFile(std::string final_path);
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    ~OutputFile();

    void write(const uint8_t* p, uint64_t n);
    void zeros(uint64_t n);
    void commit();

private:
    static constexpr uint64_t kBufferBytes = uint64_t(4) << 20;
    void flush();
    void write_all(const uint8_t* p, uint64_t n);

    std::string final_path_, path_;
    int fd_ = -1;
    bool committed_ = false;
    std::vector<uint8_t> buf_;
};

}  // namespace cwm
