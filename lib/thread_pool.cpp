#include "thread_pool.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace cwm {

namespace {

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
        stopping_ = true;
    }
    work_ready_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t, int)>& fn) {
    if (n == 0) return;
    const int parts = n_threads();
    if (parts == 1 || n == 1) {
        fn(0, n, 0);
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        job_ = &fn;
        job_size_ = n;
        pending_ = int(workers_.size());
        ++generation_;
    }
    work_ready_.notify_all();
    const auto [begin, end] = chunk_of(n, parts, 0);
    if (begin < end) fn(begin, end, 0);
    std::unique_lock<std::mutex> lock(mutex_);
    work_done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
}

void ThreadPool::worker_loop(int index) {
    uint64_t seen = 0;
    for (;;) {
        std::unique_lock<std::mutex> lock(mutex_);
        work_ready_.wait(lock, [&] { return stopping_ || generation_ != seen; });
        if (stopping_) return;
        seen = generation_;
        const auto* job = job_;
        const size_t n = job_size_;
        lock.unlock();
        const auto [begin, end] = chunk_of(n, n_threads(), index);
        if (begin < end) (*job)(begin, end, index);
        lock.lock();
        if (--pending_ == 0) work_done_.notify_one();
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
