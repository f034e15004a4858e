// A progress line on stderr for long file work (quantize, convert): bytes, rate and ETA, a
// few updates a second at most; and Ctrl-C turned into a cancellation the library sees at its
// next progress call, so an interrupted run removes its temporary file instead of leaving it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace cwm_cli {

class ProgressLine {
public:
    explicit ProgressLine(std::string label);

    // Redraws the line (`detail` goes first, e.g. "tensor 3/10"); returns false once Ctrl-C was
    // pressed, which the library's progress callbacks pass on as "cancel".
    bool update(uint64_t done, uint64_t total, const std::string& detail = {});
    // Ends the line with a summary.
    void finish(const std::string& message);

private:
    std::string label_;
    std::chrono::steady_clock::time_point t0_;
    double last_shown_ = -1;
};

}  // namespace cwm_cli
