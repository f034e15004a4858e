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
    return uint64_t(_mm512_reduce_add_epi64(acc[0]));
}

}  // namespace cwm::membw::avx512
