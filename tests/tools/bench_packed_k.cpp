// Throughput of the packed Q4_K / Q6_K products (lib/packed_k.hpp) against the row-at-a-time
// dot products they replace (kernels_k.hpp, as kernels.cpp's unpacked path calls them).
//
//   bench_packed_k [--decode-only] [--shapes i,j,...] [--reps N] [--types q4_k,q6_k]
//
// Per shape and type: decode (1 token; weight bytes streamed per second, over enough copies of
// the matrix to exceed the last-level cache) and prefill (512 tokens; 2 * rows * cols * n ops
// per second), 1 and 2 threads, best of several runs. 1-thread figures use the thread's CPU
// time, so other processes on the machine disturb them less.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "cpu.hpp"
#include "dtype.hpp"
#include "kernels_k.hpp"
#include "packed_k.hpp"
#include "packed_quant.hpp"
#include "quant_k.hpp"
#include "thread_pool.hpp"

using namespace cwm;

namespace {

constexpr size_t kQK = quant::kSuperBlock;

size_t block_bytes(DType type) { return type == DType::q4_k ? sizeof(quant::BlockQ4_K) : sizeof(quant::BlockQ6_K); }

std::vector<uint8_t> random_weights(DType type, size_t rows, size_t cols, std::mt19937& rng) {
    const size_t bb = block_bytes(type);
    std::vector<uint8_t> w(rows * cols / kQK * bb);
    for (auto& v : w) v = uint8_t(rng());
    for (size_t off = 0; off < w.size(); off += bb) {
        const uint16_t d = f32_to_f16(0.01f);
        std::memcpy(&w[off + (type == DType::q4_k ? 0 : offsetof(quant::BlockQ6_K, d))], &d, 2);
        if (type == DType::q4_k) std::memcpy(&w[off + 2], &d, 2);
    }
    return w;
}

std::vector<uint8_t> random_acts(size_t n_tokens, size_t cols, std::mt19937& rng) {
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(n_tokens * cols);
    for (auto& v : x) v = normal(rng);
    std::vector<uint8_t> acts(n_tokens * cols / kQK * sizeof(quant::BlockQ8_K));
    quant::quantize_row_q8_k(x.data(), x.size(), acts.data());
    return acts;
}

double now(bool thread_cpu_time) {
    if (!thread_cpu_time) return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// A whole matrix product on one copy of the weights.
using Product = std::function<void(ThreadPool&, const uint8_t* weights, size_t n_tokens)>;

double best_time(ThreadPool& pool, const Product& run, const std::vector<std::vector<uint8_t>>& copies,
                 size_t n_tokens, int reps) {
    for (const auto& c : copies) run(pool, c.data(), n_tokens);
    double best = 1e30;
    for (int i = 0; i < reps; ++i) {
        const bool cpu = pool.n_threads() == 1;
        const double t0 = now(cpu);
        run(pool, copies[size_t(i) % copies.size()].data(), n_tokens);
        best = std::min(best, now(cpu) - t0);
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    bool decode_only = false;
    int reps = 5;
    std::vector<size_t> only;
    std::vector<DType> types{DType::q4_k, DType::q6_k};
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--decode-only") {
            decode_only = true;
        } else if (arg == "--reps" && i + 1 < argc) {
            reps = std::atoi(argv[++i]);
        } else if (arg == "--types" && i + 1 < argc) {
            const std::string t = argv[++i];
            types.clear();
            if (t.find("q4_k") != std::string::npos) types.push_back(DType::q4_k);
            if (t.find("q6_k") != std::string::npos) types.push_back(DType::q6_k);
        } else if (arg == "--shapes" && i + 1 < argc) {
            for (char* s = argv[++i]; *s;) {
                only.push_back(std::strtoul(s, &s, 10));
                if (*s == ',') ++s;
            }
        } else {
            std::fprintf(stderr, "usage: bench_packed_k [--decode-only] [--shapes i,j,...] [--reps N] [--types q4_k,q6_k]\n");
            return 2;
        }
    }
    if (!kernels::cpu_has_avx512_vnni()) {
        std::fprintf(stderr, "bench_packed_k: this CPU lacks AVX-512 VNNI\n");
        return 1;
    }
    struct Shape {
        size_t rows, cols;
    };
    const Shape shapes[] = {{2048, 2048}, {512, 2048}, {8192, 2048}, {2048, 8192}, {128256, 2048}};
    constexpr size_t kPrefill = 512;
    std::mt19937 rng(42);
    ThreadPool pools[2] = {ThreadPool(1), ThreadPool(2)};
    std::printf("%-4s %-12s %-6s %12s %12s %12s %12s\n", "type", "shape", "path", "decode 1t", "decode 2t",
                "prefill 1t", "prefill 2t");
    for (size_t s = 0; s < std::size(shapes); ++s) {
        if (!only.empty() && std::find(only.begin(), only.end(), s) == only.end()) continue;
        const auto [rows, cols] = shapes[s];
        const auto acts = random_acts(kPrefill, cols, rng);
        const size_t act_size = cols / kQK * sizeof(quant::BlockQ8_K);
        std::vector<float> y(kPrefill * rows);
        for (DType type : types) {
            const auto plain = random_weights(type, rows, cols, rng);
            std::vector<uint8_t> packed(kernels::packed_k_bytes(type, rows, cols));
            kernels::pack_k_groups(type, plain.data(), rows, cols, packed.data(), 0, kernels::group_count(rows));
            const auto dot = type == DType::q4_k ? kernels::avx512::dot_q4_k_q8_k : kernels::avx512::dot_q6_k_q8_k;
            const size_t row_size = plain.size() / rows;
            const Product rows_path = [&](ThreadPool& pool, const uint8_t* w, size_t n) {
                pool.parallel_for(rows, [&](size_t begin, size_t end, int) {
                    for (size_t r = begin; r < end; ++r)
                        for (size_t t = 0; t < n; ++t) y[t * rows + r] = dot(w + r * row_size, &acts[t * act_size], cols);
                });
            };
            const Product packed_path = [&](ThreadPool& pool, const uint8_t* w, size_t n) {
                pool.parallel_for(kernels::work_unit_count(rows), [&](size_t begin, size_t end, int) {
                    kernels::matmul_packed_k(type, w, rows, cols, acts.data(), n, y.data(), rows, begin, end);
                });
            };
            struct Path {
                const char* label;
                const Product& run;
                const std::vector<uint8_t>* weights;
            };
            for (const auto& [label, run, weights] : {Path{"rows", rows_path, &plain}, Path{"packed", packed_path, &packed}}) {
                std::vector<std::vector<uint8_t>> copies{*weights};
                while (copies.size() * weights->size() < (128u << 20)) copies.push_back(*weights);
                const std::vector<std::vector<uint8_t>> one(copies.begin(), copies.begin() + 1);
                double gbs[2], gops[2];
                const int prefill_reps = std::max(1, rows * cols > (64u << 20) ? reps / 3 : reps);
                for (int i = 0; i < 2; ++i) {
                    const int decode_reps = int(std::max<size_t>(size_t(reps) * 20, 2 * copies.size()));
                    gbs[i] = double(weights->size()) / best_time(pools[i], run, copies, 1, decode_reps) / 1e9;
                    gops[i] = decode_only ? 0.0
                                          : 2.0 * double(rows) * double(cols) * kPrefill /
                                                best_time(pools[i], run, one, kPrefill, prefill_reps) / 1e9;
                }
                char shape[32];
                std::snprintf(shape, sizeof shape, "%zux%zu", rows, cols);
                std::printf("%-4s %-12s %-6s %7.2f GB/s %7.2f GB/s %6.1f GOP/s %6.1f GOP/s\n",
                            type == DType::q4_k ? "q4_k" : "q6_k", shape, label, gbs[0], gbs[1], gops[0], gops[1]);
                std::fflush(stdout);
            }
        }
    }
    return 0;
}
