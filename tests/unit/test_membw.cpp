// The bandwidth test's read loop against its scalar reference, and the driver's own check of
// the sum it reads back (membw.hpp).
#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>

#include "membw.hpp"

using namespace cwm;

TEST_CASE("membw: the AVX-512 sum equals the scalar sum, with tails") {
    if (!__builtin_cpu_supports("avx512f")) return;
    std::unique_ptr<uint64_t, decltype(&std::free)> p(static_cast<uint64_t*>(std::aligned_alloc(64, 4096 * 8)),
                                                      &std::free);
    for (size_t i = 0; i < 4096; ++i) p.get()[i] = i * 0x9e3779b97f4a7c15ull;  // wraps on purpose
    for (size_t n : {0, 8, 56, 64, 72, 4096})
        CHECK(membw::avx512::sum_words(p.get(), n) == membw::ref::sum_words(p.get(), n));
}

TEST_CASE("membw: measure_read reads every byte (its checksum holds) and rejects bad sizes") {
    ThreadPool pool(3);
    const membw::ReadBandwidth r = membw::measure_read((size_t(1) << 20) + 100, 2, pool);
    CHECK(r.best_gb_per_s > 0);
    CHECK(r.bytes == (size_t(1) << 20) + 64);
    CHECK(r.passes == 2);
    CHECK_THROWS(membw::measure_read(64, 1, pool));
    CHECK_THROWS(membw::measure_read(1 << 20, 0, pool));
}
