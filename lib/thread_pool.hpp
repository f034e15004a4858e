// A fixed set of worker threads owned by whoever needs parallel work (a context), so two
// contexts never share or fight over threads. parallel_for splits [0, n) into contiguous
// chunks, one per thread; the calling thread takes a chunk too and waits for the rest.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cwm {

class ThreadPool {
public:
    // n_threads includes the calling thread; 1 means no worker threads at all.
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    int n_threads() const { return int(workers_.size()) + 1; }

    // Calls fn(begin, end, thread_index) on disjoint chunks covering [0, n). The chunking
    // depends only on n and n_threads, so results are deterministic for a given thread count.
    // Not reentrant: fn must not call parallel_for on the same pool.
    void parallel_for(size_t n, const std::function<void(size_t, size_t, int)>& fn);

    // Number of physical cores (falls back to hardware_concurrency).
    static int default_threads();

private:
    void worker_loop(int index);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable work_ready_;
    std::condition_variable work_done_;
    const std::function<void(size_t, size_t, int)>* job_ = nullptr;
    size_t job_size_ = 0;
    uint64_t generation_ = 0;
    int pending_ = 0;
    bool stopping_ = false;
};

}  // namespace cwm
