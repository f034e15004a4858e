#include "thread_pool.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <tuple>
#include <utility>

namespace cwm {

namespace {

// How long an idle worker keeps watching for the next job before it sleeps.
constexpr int kSpinMicros = 2000;

constexpr uint64_t kGenerationMask = 0xffffffffu;
constexpr uint64_t kClosed = uint64_t(1) << 31;
constexpr uint64_t kInside = kClosed - 1;

inline void cpu_relax() { __builtin_ia32_pause(); }

std::pair<size_t, size_t> chunk_of(size_t n, int parts, int index) {
    const size_t base = n / size_t(parts), extra = n % size_t(parts);
    const size_t begin = size_t(index) * base + std::min(size_t(index), extra);
    return {begin, begin + base + (size_t(index) < extra ? 1 : 0)};
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
    for (int i = 1; i < std::max(1, n_threads); ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_.store(true);
    }
    work_ready_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t, int)>& fn) { run(n, 0, fn); }

void ThreadPool::parallel_for_dynamic(size_t n, size_t grain, const std::function<void(size_t, size_t, int)>& fn) {
    run(n, std::max<size_t>(1, grain), fn);
}

void ThreadPool::run_share(int index) {
    for (;;) {
        const size_t chunk = next_chunk_.fetch_add(1, std::memory_order_relaxed);
        size_t begin, end;
        if (job_grain_ == 0) {
            if (chunk >= size_t(n_threads())) return;
            std::tie(begin, end) = chunk_of(job_size_, n_threads(), int(chunk));
        } else {
            begin = chunk * job_grain_;
            if (begin >= job_size_) return;
            end = std::min(job_size_, begin + job_grain_);
        }
        if (begin < end) (*job_)(begin, end, index);
    }
}

bool ThreadPool::enter(uint64_t generation) {
    const uint64_t id = generation & kGenerationMask;
    uint64_t state = job_state_.load(std::memory_order_acquire);
    do {
        if ((state >> 32) != id || (state & kClosed)) return false;
    } while (!job_state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel,
                                               std::memory_order_acquire));
    return true;
}

void ThreadPool::run(size_t n, size_t grain, const std::function<void(size_t, size_t, int)>& fn) {
    if (n == 0) return;
    if (n_threads() == 1 || n == 1) {
        fn(0, n, 0);
        return;
    }
    job_ = &fn;
    job_size_ = n;
    job_grain_ = grain;
    next_chunk_.store(0, std::memory_order_relaxed);
    const uint64_t generation = generation_.load(std::memory_order_relaxed) + 1;
    job_state_.store((generation & kGenerationMask) << 32, std::memory_order_relaxed);
    generation_.store(generation, std::memory_order_release);
    {
        // Taking the lock orders this check after any worker's decision to sleep.
        std::lock_guard<std::mutex> lock(mutex_);
        if (sleepers_ > 0) work_ready_.notify_all();
    }
    run_share(0);
    // No chunk is left: close the job to workers not yet inside, and wait for those that are.
    job_state_.fetch_or(kClosed, std::memory_order_acq_rel);
    while ((job_state_.load(std::memory_order_acquire) & kInside) != 0) cpu_relax();
    job_ = nullptr;
}

// Spins for up to kSpinMicros, then sleeps; returns false when the pool is stopping.
bool ThreadPool::wait_for_job(uint64_t seen) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
    for (int i = 0;; ++i) {
        if (generation_.load(std::memory_order_acquire) != seen) return true;
        if (stopping_.load()) return false;
        cpu_relax();
        if ((i & 255) == 255 && std::chrono::steady_clock::now() > deadline) break;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    ++sleepers_;
    work_ready_.wait(lock, [&] { return stopping_.load() || generation_.load() != seen; });
    --sleepers_;
    return !stopping_.load();
}

void ThreadPool::worker_loop(int index) {
    uint64_t seen = 0;
    while (wait_for_job(seen)) {
        seen = generation_.load(std::memory_order_acquire);
        if (!enter(seen)) continue;
        run_share(index);
        job_state_.fetch_sub(1, std::memory_order_release);
    }
}

int ThreadPool::default_threads() {
    // Count distinct (physical id, core id) pairs: hyper-threads share a core's execution
    // units, and decode is bandwidth-bound, so one thread per core is the useful number.
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::set<std::pair<std::string, std::string>> cores;
    std::string line, physical;
    while (std::getline(cpuinfo, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
        if (line.rfind("physical id", 0) == 0) physical = value;
        if (line.rfind("core id", 0) == 0) cores.insert({physical, value});
    }
    if (!cores.empty()) return int(cores.size());
    const unsigned hw = std::thread::hardware_concurrency();
    return hw ? int(hw) : 1;
}

}  // namespace cwm
