// C ABI: measurements of the machine itself (memory bandwidth for the decode roofline).
#include "capi_internal.hpp"
#include "membw.hpp"
#include "thread_pool.hpp"

using cwm::capi::guard;
using cwm::capi::require;

extern "C" {

cwm_status cwm_measure_read_bandwidth(size_t bytes, int n_threads, int repeats, double* gb_per_s) {
    return guard([&] {
        require(gb_per_s != nullptr, "gb_per_s is NULL");
        if (bytes == 0) bytes = size_t(1) << 30;
        if (repeats == 0) repeats = 5;
        require(bytes >= (size_t(1) << 20), "bytes must be 0 (1 GiB) or at least 1 MiB");
        require(n_threads >= 0 && n_threads <= 1024, "n_threads must be in 0..1024");
        require(repeats >= 1 && repeats <= 1000, "repeats must be in 0..1000");
        cwm::ThreadPool pool(n_threads ? n_threads : cwm::ThreadPool::default_threads());
        *gb_per_s = cwm::membw::measure_read(bytes, repeats, pool).best_gb_per_s;
    });
}

}  // extern "C"
