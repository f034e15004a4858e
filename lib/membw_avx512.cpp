// The AVX-512 read loop of the bandwidth test (membw.hpp). Eight independent accumulators, so
// the adds never wait on each other and only the loads set the pace.
#include <immintrin.h>

#include "membw.hpp"

namespace cwm::membw::avx512 {

uint64_t sum_words(const uint64_t* p, size_t n) {
    __m512i acc[8];
    for (auto& a : acc) a = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int k = 0; k < 8; ++k) acc[k] = _mm512_add_epi64(acc[k], _mm512_load_si512(p + i + 8 * k));
    for (; i + 8 <= n; i += 8) acc[0] = _mm512_add_epi64(acc[0], _mm512_load_si512(p + i));
    for (int k = 1; k < 8; ++k) acc[0] = _mm512_add_epi64(acc[0], acc[k]);
    // Summed as unsigned lanes: the sum wraps by design, and _mm512_reduce_add_epi64 adds
    // signed 64-bit values (undefined on overflow).
    alignas(64) uint64_t lanes[8];
    _mm512_store_si512(lanes, acc[0]);
    uint64_t total = 0;
    for (uint64_t lane : lanes) total += lane;
    return total;
}

}  // namespace cwm::membw::avx512
