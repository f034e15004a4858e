// Throughput of the packed int8 products (lib/packed_quant.hpp) on random Q4_0 / Q8_0
// weights, plus an exactness check against the scalar reference.
//
//   bench_packed [--check-only] [--decode-only] [--shapes i,j,...] [--reps N]
//
// First it checks kernels::matmul_packed against kernels::ref::matmul_packed with exact float
// equality (the packed kernels promise bit-identical results) on small random matrices with
// tail rows, several groups and token counts 1..13 and 37 (odd tile remainders). Then, per
// shape and type, it times matmul_packed split over work units by a ThreadPool, as the engine
// calls it: n_tokens = 1 (decode; weight bytes streamed per second) and n_tokens = 512
// (prefill; 2 * rows * cols * n int ops per second), with 1 and 2 threads. Timings on a
// shared machine are noisy, so each figure is the best of several repetitions; 1-thread
// figures use the thread's CPU time (see now()).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "dtype.hpp"
#include "packed_quant.hpp"
#include "quant.hpp"
#include "thread_pool.hpp"

using namespace cwm;
using kernels::kGroupRows;

namespace {

size_t block_bytes(DType type) {
    return type == DType::q8_0 ? sizeof(quant::BlockQ8_0) : sizeof(quant::BlockQ4_0);
}

// Random blocks in ggml's row layout. Scales are modest f16 values of both signs; Q8_0 quants
// cover the full int8 range including -128 (ggml never writes it, but the layout allows it and
// it is the extreme case of the sign trick).
std::vector<uint8_t> random_weights(DType type, size_t rows, size_t cols, std::mt19937& rng) {
    const size_t nb = cols / quant::kBlock, bb = block_bytes(type);
    std::vector<uint8_t> w(rows * nb * bb);
    std::uniform_real_distribution<float> scale(-0.02f, 0.02f);
    std::uniform_int_distribution<int> byte(0, 255);
    for (size_t i = 0; i < rows * nb; ++i) {
        uint8_t* blk = w.data() + i * bb;
        const uint16_t d = f32_to_f16(scale(rng));
        std::memcpy(blk, &d, sizeof d);
        for (size_t j = sizeof d; j < bb; ++j) blk[j] = uint8_t(byte(rng));
    }
    return w;
}

std::vector<uint8_t> pack(DType type, const std::vector<uint8_t>& w, size_t rows, size_t cols) {
    std::vector<uint8_t> p(w.size());
    kernels::pack_groups(type, w.data(), rows, cols, p.data(), 0, kernels::group_count(rows));
    return p;
}

// n_tokens activation rows of random floats; every few blocks one is all zeros or has a single
// large value, so the scales and the block sums vary a lot.
std::vector<uint8_t> random_acts(size_t n_tokens, size_t cols, std::mt19937& rng) {
    const size_t row_bytes = kernels::activation_row_bytes(cols);
    std::vector<uint8_t> acts(n_tokens * row_bytes);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(cols);
    for (size_t t = 0; t < n_tokens; ++t) {
        for (size_t j = 0; j < cols; ++j) x[j] = normal(rng);
        for (size_t b = 0; b < cols / 32; b += 7) x[b * 32 + t % 32] = 100.0f;
        for (size_t j = 0; j < 32 && cols >= 96; ++j) x[64 + j] = 0.0f;
        kernels::quantize_activation_row(x.data(), cols, acts.data() + t * row_bytes);
    }
    return acts;
}

const char* name(DType type) { return type == DType::q8_0 ? "q8_0" : "q4_0"; }

// Exact comparison of the dispatched kernel against the scalar reference. Work units are
// split unevenly (the engine may split them any way) and y has a padded leading dimension.
bool check(std::mt19937& rng) {
    struct Case {
        size_t rows, cols;
    };
    const Case cases[] = {{16, 32}, {48, 64}, {37, 96}, {64, 256}, {80, 1024}};
    const size_t token_counts[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 37};
    bool ok = true;
    size_t compared = 0;
    for (DType type : {DType::q4_0, DType::q8_0})
        for (const Case& c : cases)
            for (size_t n : token_counts) {
                const auto w = random_weights(type, c.rows, c.cols, rng);
                const auto p = pack(type, w, c.rows, c.cols);
                const auto acts = random_acts(n, c.cols, rng);
                const size_t ldy = c.rows + 3, units = kernels::work_unit_count(c.rows);
                std::vector<float> got(n * ldy, -1.0f), want(n * ldy, -1.0f);
                const size_t split = units / 3;
                kernels::matmul_packed(type, p.data(), c.rows, c.cols, acts.data(), n, got.data(), ldy, 0, split);
                kernels::matmul_packed(type, p.data(), c.rows, c.cols, acts.data(), n, got.data(), ldy, split, units);
                kernels::ref::matmul_packed(type, p.data(), c.rows, c.cols, acts.data(), n, want.data(), ldy, 0, units);
                for (size_t t = 0; t < n; ++t)
                    for (size_t r = 0; r < c.rows; ++r) {
                        const float g = got[t * ldy + r], e = want[t * ldy + r];
                        ++compared;
                        if (std::memcmp(&g, &e, sizeof g) != 0) {
                            if (ok)
                                std::printf("MISMATCH %s %zux%zu n=%zu row %zu token %zu: %.9g vs ref %.9g\n",
                                            name(type), c.rows, c.cols, n, r, t, g, e);
                            ok = false;
                        }
                    }
            }
    std::printf("check: %s (%zu outputs compared exactly)\n", ok ? "ok" : "FAILED", compared);
    return ok;
}

// With one thread all the work runs on the calling thread, so its CPU time is the kernel's time
// even when other processes take turns on the core (the wall clock would count their turns).
// With two threads the wall clock is the only honest measure.
double now(bool thread_cpu_time) {
    if (!thread_cpu_time) return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Best time of `reps` runs of the whole matrix product on `pool` (after one warm-up run). Run i
// uses copy i % copies.size() of the packed weights: decode is timed over enough copies to
// exceed the last-level cache (32 MB on Zen 3), so it measures memory, as in a real model,
// where every matrix is evicted by the others before it is used again.
double best_time(ThreadPool& pool, DType type, const std::vector<std::vector<uint8_t>>& copies, size_t rows,
                 size_t cols, const std::vector<uint8_t>& acts, size_t n, std::vector<float>& y, int reps) {
    const auto run = [&](const std::vector<uint8_t>& p) {
        pool.parallel_for(kernels::work_unit_count(rows), [&](size_t begin, size_t end, int) {
            kernels::matmul_packed(type, p.data(), rows, cols, acts.data(), n, y.data(), rows, begin, end);
        });
    };
    for (const auto& p : copies) run(p);
    double best = 1e30;
    for (int i = 0; i < reps; ++i) {
        const bool cpu = pool.n_threads() == 1;
        const double t0 = now(cpu);
        run(copies[i % copies.size()]);
        best = std::min(best, now(cpu) - t0);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    bool check_only = false, decode_only = false;
    int reps = 5;
    std::vector<size_t> only;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--check-only") {
            check_only = true;
        } else if (arg == "--decode-only") {
            decode_only = true;
        } else if (arg == "--reps" && i + 1 < argc) {
            reps = std::atoi(argv[++i]);
        } else if (arg == "--shapes" && i + 1 < argc) {
            for (char* s = argv[++i]; *s;) {
                only.push_back(std::strtoul(s, &s, 10));
                if (*s == ',') ++s;
            }
        } else {
            std::fprintf(stderr, "usage: bench_packed [--check-only] [--decode-only] [--shapes i,j,...] [--reps N]\n");
            return 2;
        }
    }
    std::mt19937 rng(42);
    if (!check(rng)) return 1;
    if (check_only) return 0;

    struct Shape {
        size_t rows, cols;
    };
    const Shape shapes[] = {{2048, 2048}, {512, 2048}, {8192, 2048}, {2048, 8192}, {128256, 2048}};
    constexpr size_t kPrefill = 512;
    ThreadPool pools[2] = {ThreadPool(1), ThreadPool(2)};
    std::printf("%-4s %-14s %-7s %12s %12s %12s %12s\n", "type", "shape", "", "decode 1t", "decode 2t",
                "prefill 1t", "prefill 2t");
    for (size_t s = 0; s < std::size(shapes); ++s) {
        if (!only.empty() && std::find(only.begin(), only.end(), s) == only.end()) continue;
        const auto [rows, cols] = shapes[s];
        const auto acts = random_acts(kPrefill, cols, rng);
        std::vector<float> y(kPrefill * rows);
        for (DType type : {DType::q4_0, DType::q8_0}) {
            std::vector<std::vector<uint8_t>> copies{pack(type, random_weights(type, rows, cols, rng), rows, cols)};
            const size_t bytes = copies[0].size();
            while (copies.size() * bytes < (128u << 20)) copies.push_back(copies[0]);
            const std::vector<std::vector<uint8_t>> one(copies.begin(), copies.begin() + 1);
            double gbs[2], gops[2];
            // Decode runs are short: many repetitions. Prefill of the largest shape takes
            // seconds per run, so fewer.
            const int prefill_reps = std::max(1, rows * cols > (64u << 20) ? reps / 3 : reps);
            for (int i = 0; i < 2; ++i) {
                const int decode_reps = int(std::max<size_t>(reps * 20, 2 * copies.size()));
                gbs[i] = double(bytes) / best_time(pools[i], type, copies, rows, cols, acts, 1, y, decode_reps) / 1e9;
                gops[i] = decode_only ? 0.0
                                      : 2.0 * double(rows) * double(cols) * kPrefill /
                                            best_time(pools[i], type, one, rows, cols, acts, kPrefill, y, prefill_reps) /
                                            1e9;
            }
            char label[32];
            std::snprintf(label, sizeof label, "%zux%zu", rows, cols);
            std::printf("%-4s %-14s %-7s %7.2f GB/s %7.2f GB/s %6.1f GOP/s %6.1f GOP/s\n", name(type), label, "",
                        gbs[0], gbs[1], gops[0], gops[1]);
            std::fflush(stdout);
        }
    }
    return 0;
}
