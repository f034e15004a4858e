// A fixed set of worker threads owned by whoever needs parallel work (a context), so two
// contexts never share or fight over threads. parallel_for splits [0, n) into contiguous
// chunks, one per thread; the calling thread takes a chunk too and waits for the rest.
//
// A decoded token runs over a hundred short parallel_for calls (each 10-100 us), so waking
// sleeping threads through a condition variable each time would cost a large share of the
// token. Idle workers therefore spin for a short while (kSpinMicros) watching for the next
// job before they go to sleep, and the caller spins while it waits for the others.
#pragma once

#include <atomic>
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

    // Calls fn(begin, end, thread_index) on chunks of `grain` items covering [0, n), which the
    // threads take in order as each finishes its previous chunk (a pool of one thread makes one
    // call): for work whose items differ
    // in cost, or when the machine is shared and a thread may be descheduled mid-job. Which
    // thread gets which chunk varies from run to run, so fn's results must not depend on it.
    void parallel_for_dynamic(size_t n, size_t grain, const std::function<void(size_t, size_t, int)>& fn);

    // Number of physical cores (falls back to hardware_concurrency).
    static int default_threads();

private:
    void worker_loop(int index);
    void run(size_t n, size_t grain, const std::function<void(size_t, size_t, int)>& fn);
    // This thread's share of the current job.
    void run_share(int index);

    bool wait_for_job(uint64_t seen);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable work_ready_;
    const std::function<void(size_t, size_t, int)>* job_ = nullptr;  // published by generation_
    size_t job_size_ = 0;
    size_t job_grain_ = 0;             // 0: one static chunk per thread
    std::atomic<size_t> next_item_{0};  // the next chunk of a dynamic job
    std::atomic<uint64_t> generation_{0};
    std::atomic<int> pending_{0};
    std::atomic<bool> stopping_{false};
    int sleepers_ = 0;  // guarded by mutex_
};

}  // namespace cwm
