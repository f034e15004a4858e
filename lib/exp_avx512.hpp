// A vector e^x shared by the AVX-512 kernels (include only from *_avx512.cpp files).
#pragma once

#include <immintrin.h>

#include <initializer_list>

namespace cwm::kernels::avx512 {

// e^x to within 2 ulp (0.91 ulp measured against double-precision exp over [-87, 88.7]):
// x = n ln2 + r with |r| <= ln2/2 (ln2 split in two so that r is exact), e^r by its Taylor polynomial of degree 7
// (truncation error < 6e-9), times 2^n by scalef, which also underflows to 0 and overflows to
// infinity correctly; the clamp keeps -inf and inf from turning r into NaN.
inline __m512 exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-104.0f)), _mm512_set1_ps(89.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145752f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860682e-6f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    for (float c : {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f}) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
    return _mm512_scalef_ps(p, n);
}

}  // namespace cwm::kernels::avx512
