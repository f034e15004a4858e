// Prefill throughput of oneDNN's matmul (the "prefill through oneDNN" option of the design) on
// the shapes of a Llama-3 1.5B layer, next to the packed int8 kernel's, to decide which one the
// engine uses (docs/design.md).
//
//   bench_onednn [--tokens N] [--reps N]      (threads: OMP_NUM_THREADS, as oneDNN reads it)
//
// For each weight shape rows x cols it times y = x W^T with x of N tokens:
//   bf16:  src bf16, weights bf16 in the layout oneDNN picks (reordered once, as a load-time
//          repack would), dst f32 — the path that gets AMX on CPUs with it;
//   u8s8:  src u8, weights s8, dst s32 — oneDNN's int8 matmul. One scale per output column is
//          all it can apply after the integer product, so GGUF's per-32-weight block scales
//          cannot be expressed: this is an upper bound on what an int8 oneDNN path could reach.
// and reports GOP/s (2 * rows * cols * N per product), best of --reps runs.
#include <dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>

namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

double time_matmul(dnnl::engine& eng, dnnl::stream& s, dt src_t, dt wei_t, dt dst_t, memory::dim n_tokens,
                   memory::dim rows, memory::dim cols, int reps) {
    const memory::desc src_md({n_tokens, cols}, src_t, tag::ab);
    const memory::desc wei_any({cols, rows}, wei_t, tag::any);
    const memory::desc dst_md({n_tokens, rows}, dst_t, tag::ab);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, wei_any, dst_md), eng);
    const dnnl::matmul prim(pd);
    // Contents do not change the speed of these kernels: zero-filled buffers of the right layout.
    memory src(src_md, eng), dst(dst_md, eng), plain({{cols, rows}, wei_t, tag::ba}, eng), wei(pd.weights_desc(), eng);
    for (memory* m : {&src, &plain})
        std::fill_n(static_cast<char*>(m->get_data_handle()), m->get_desc().get_size(), char(1));
    dnnl::reorder(plain, wei).execute(s, plain, wei);
    const std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
    prim.execute(s, args);  // warm-up
    s.wait();
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        prim.execute(s, args);
        s.wait();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return 2.0 * double(rows) * double(cols) * double(n_tokens) / best / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
    memory::dim n_tokens = 512;
    int reps = 5;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--tokens" && i + 1 < argc) {
            n_tokens = std::atol(argv[++i]);
        } else if (arg == "--reps" && i + 1 < argc) {
            reps = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: bench_onednn [--tokens N] [--reps N]\n");
            return 2;
        }
    }
    try {
        dnnl::engine eng(dnnl::engine::kind::cpu, 0);
        dnnl::stream s(eng);
        const memory::dim shapes[][2] = {{2048, 2048}, {512, 2048}, {8192, 2048}, {2048, 8192}};
        std::printf("shape (rows x cols), %ld tokens     bf16 GOP/s   u8s8s32 GOP/s\n", long(n_tokens));
        for (const auto& [rows, cols] : shapes) {
            const double bf16 = time_matmul(eng, s, dt::bf16, dt::bf16, dt::f32, n_tokens, rows, cols, reps);
            const double int8 = time_matmul(eng, s, dt::u8, dt::s8, dt::s32, n_tokens, rows, cols, reps);
            std::printf("%5ld x %-5ld                       %8.1f       %8.1f\n", long(rows), long(cols), bf16, int8);
        }
    } catch (const dnnl::error& e) {
        std::fprintf(stderr, "oneDNN error: %s (status %d)\n", e.what(), int(e.status));
        return 1;
    }
    return 0;
}
