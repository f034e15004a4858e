#include "progress.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>

namespace cwm_cli {

namespace {

std::atomic<bool> g_interrupted{false};  // set only by the SIGINT handler
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void on_interrupt(int) { g_interrupted.store(true); }

}  // namespace

ProgressLine::ProgressLine(std::string label) : label_(std::move(label)), t0_(std::chrono::steady_clock::now()) {
    std::signal(SIGINT, on_interrupt);
}

bool ProgressLine::update(uint64_t done, uint64_t total, const std::string& detail) {
    if (g_interrupted.load()) return false;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    if (done < total && s - last_shown_ < 0.25) return true;
    last_shown_ = s;
    const double rate = s > 0 ? double(done) / s : 0;
    const double eta = rate > 0 ? double(total - done) / rate : 0;
    std::fprintf(stderr, "\r%s: %s%s%.1f/%.1f MiB (%.0f%%), %.1f MiB/s, ETA %.0f s   ", label_.c_str(), detail.c_str(),
                 detail.empty() ? "" : ", ", double(done) / 1048576, double(total) / 1048576,
                 total ? 100.0 * double(done) / double(total) : 100.0, rate / 1048576, eta);
    return true;
}

void ProgressLine::finish(const std::string& message) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    std::fprintf(stderr, "\n%s: %s in %.1f s\n", label_.c_str(), message.c_str(), s);
}

}  // namespace cwm_cli
