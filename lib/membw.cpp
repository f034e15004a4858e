// Read-bandwidth test: dispatch, the scalar loop, and the timing driver (membw.hpp).
#include "membw.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <stdexcept>
#include <vector>

#include "cpu.hpp"

namespace cwm::membw {

namespace {

struct FreeDeleter {
    void operator()(uint64_t* p) const noexcept { std::free(p); }
};

// Word i holds i, so the total is known in closed form (0 + 1 + ... + (n-1) mod 2^64) and
// checks the kernel on every pass.
uint64_t expected_sum(size_t n) {
    const uint64_t a = n, b = n ? n - 1 : 0;
    return a % 2 == 0 ? (a / 2) * b : a * (b / 2);
}

// One 64-byte line per parallel_for item: the pool's contiguous chunks give each thread one
// contiguous slice, the access pattern of a row-parallel matrix-vector product.
double timed_pass(const uint64_t* data, size_t lines, ThreadPool& pool, std::vector<uint64_t>& sums) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.parallel_for(lines, [&](size_t begin, size_t end, int thread) {
        sums[size_t(thread) * 8] += sum_words(data + begin * 8, (end - begin) * 8);  // a thread may take two slices
    });
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

uint64_t ref::sum_words(const uint64_t* p, size_t n) {
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) a += p[i], b += p[i + 1], c += p[i + 2], d += p[i + 3];
    for (; i < n; ++i) a += p[i];
    return a + b + c + d;
}

uint64_t sum_words(const uint64_t* p, size_t n) { return kernels::cpu_has_avx512() ? avx512::sum_words(p, n) : ref::sum_words(p, n); }

ReadBandwidth measure_read(size_t bytes, int passes, ThreadPool& pool) {
    const size_t lines = bytes / 64;
    if (lines < size_t(pool.n_threads()) || passes < 1) throw std::invalid_argument("membw: buffer or passes too small");
    // Plain 4 KiB pages on purpose (no MADV_HUGEPAGE): the weights decode reads are mapped from
    // the page cache in 4 KiB pages, and the roofline should be the rate those reads can reach.
    std::unique_ptr<uint64_t, FreeDeleter> buffer(static_cast<uint64_t*>(std::aligned_alloc(64, lines * 64)));
    if (!buffer) throw std::bad_alloc();
    uint64_t* data = buffer.get();
    pool.parallel_for(lines, [&](size_t begin, size_t end, int) {
        for (size_t w = begin * 8; w < end * 8; ++w) data[w] = w;
    });
    std::vector<uint64_t> sums(size_t(pool.n_threads()) * 8);  // a cache line per thread
    double best = 0;
    for (int p = 0; p < passes; ++p) {
        std::fill(sums.begin(), sums.end(), 0);
        best = std::max(best, double(lines * 64) / timed_pass(data, lines, pool, sums) / 1e9);
        uint64_t total = 0;
        for (size_t t = 0; t < sums.size(); t += 8) total += sums[t];
        if (total != expected_sum(lines * 8)) throw std::logic_error("membw: wrong sum read back");
    }
    return {best, lines * 64, passes};
}

}  // namespace cwm::membw
