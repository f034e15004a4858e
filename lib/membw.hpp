// Memory read bandwidth, measured the way decoding uses memory: every thread of a pool streams
// its own contiguous slice of a buffer much larger than the caches, once per pass. Decode reads
// each weight once per token, so this read rate is the ceiling on tokens/s (the roofline).
#pragma once

#include <cstddef>
#include <cstdint>

#include "thread_pool.hpp"

namespace cwm::membw {

struct ReadBandwidth {
    // Fastest pass (1e9 bytes/s), not the median: a roofline is the achievable ceiling, and
    // on a shared machine slower passes measure the neighbours as much as the memory.
    double best_gb_per_s = 0;
    size_t bytes = 0;  // bytes read per pass
    int passes = 0;
};

// Reads a `bytes`-byte buffer (rounded down to a multiple of 64 bytes) `passes`
// times with all threads of `pool`. The buffer is allocated and first touched by the threads
// that read it (so its pages sit on their NUMA node) and freed before returning. Throws
// std::bad_alloc when the buffer cannot be allocated, std::logic_error if the sum read back is
// wrong (a kernel bug). bytes >= 64 * pool.n_threads(), passes >= 1.
ReadBandwidth measure_read(size_t bytes, int passes, ThreadPool& pool);

// Wrapping sum of the n 64-bit words at p (p 64-byte aligned, n a multiple of 8): what every
// thread computes over its slice, kept so the loads cannot be optimised away.
uint64_t sum_words(const uint64_t* p, size_t n);

namespace ref {
uint64_t sum_words(const uint64_t* p, size_t n);
}

namespace avx512 {
uint64_t sum_words(const uint64_t* p, size_t n);  // call only when the CPU has AVX-512F
}

}  // namespace cwm::membw
