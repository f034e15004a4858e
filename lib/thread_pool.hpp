// A fixed set of worker threads owned by whoever needs parallel work (a context), so two
// contexts never share or fight over threads. parallel_for splits [0, n) into contiguous
// chunks, one per thread; the calling thread takes a chunk too and waits for the rest.
//
// A decoded token runs over a hundred short parallel_for calls (each 10-100 us), so waking
// sleeping threads through a condition variable each time would cost a large share of the
// token. Idle workers therefore spin for a short while (kSpinMicros) watching for the next
// job before they go to sleep. Work is handed out in chunks that any thread may take, and the
// caller waits only for workers that joined the job: when the machine is oversubscribed and a
// worker is not running, the caller does its chunks instead of waiting for the scheduler.
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

    // Calls fn(begin, end, thread_index) on disjoint chunks covering [0, n), one per thread.
    // The chunking depends only on n and n_threads, so results are deterministic for a given
    // thread count; which thread runs which chunk is not (thread_index is the running one).
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
    // A worker joins the job of `generation` unless the caller has closed it.
    bool enter(uint64_t generation);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable work_ready_;
    const std::function<void(size_t, size_t, int)>* job_ = nullptr;  // published by generation_
    size_t job_size_ = 0;
    size_t job_grain_ = 0;               // 0: one chunk per thread (chunk_of)
    // Each on a cache line of its own: every thread touches them on every job.
    alignas(64) std::atomic<size_t> next_chunk_{0};  // the next chunk to take
    alignas(64) std::atomic<uint64_t> generation_{0};
    // The current job's generation (high 32 bits), closed to late workers (bit 31), and the
    // number of workers inside it (low bits).
    alignas(64) std::atomic<uint64_t> job_state_{0};
    std::atomic<bool> stopping_{false};
    int sleepers_ = 0;  // guarded by mutex_
};

}  // namespace cwm
