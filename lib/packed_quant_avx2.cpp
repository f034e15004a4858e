// AVX2 bodies of the packed int8 products (layout in packed_quant.hpp), for CPUs without
// AVX-512 VNNI. AVX2 has no vpdpbusd: vpmaddubsw (u8 x s8 -> saturated pairwise s16 sums) and
// vpmaddwd (pairs of s16 -> s32) do its work. Prefill is bound by these integer multiplies
// (Q4_0, which needs half as many, runs ~1.7x faster than Q8_0), so everything is arranged to
// issue as few of them per product as possible:
//
// - A micro-tile is a whole 16-row group x T <= 3 tokens. Each 64-byte chunk of a group block
//   is rows 0..7 then rows 8..15, so the two 32-byte halves give two registers of 8 rows'
//   int32 lanes; both are consumed in the same pass, so the group's bytes are read once, in
//   order (decode streams them from memory at full bandwidth), and every activation
//   broadcast feeds two products. 3 tokens x 2 halves = 6 integer + 6 float accumulators,
//   plus weights and a broadcast, fit the 16 ymm registers.
// - Q4_0 nibbles are unsigned (0..15), so vpmaddubsw(nibbles, a) is exact: a 16-bit lane is
//   at most 2 * 15 * 127 = 3810, and all 8 products of a block (4 chunks x low/high nibbles)
//   sum to at most 8 * 3810 = 30480 < 32767 in int16. One widening per block (widen())
//   follows; the +8 offset comes off as 8 * sum(a) per (token, block), in int32.
// - Q8_0 weights are signed: vpmaddubsw(|w|, sign(a, w)) (|w| <= 128, |a| <= 127, so a pair is
//   at most 32512 and never saturates), but two such pairs can overflow int16, so each chunk
//   needs its own vpmaddwd. (Splitting the stored q + 128 into nibbles, to sum in int16 as
//   for Q4_0, needs twice the vpmaddubsw and measured ~25% slower.)
// - Prefill: the groups of one call are swept in panels of about kPanelBytes (kept in L2)
//   while a 3-token tile (in L1) runs over every group of the panel.
//
// Every block ends as fma(float(isum), f32(d_w) * d_a, acc) with the exact integer isum, in
// block order, exactly as the scalar reference: the results are bit-identical.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "packed_quant.hpp"
#include "packed_quant_simd.hpp"
#include "quant.hpp"

namespace cwm::kernels::avx2 {

namespace {

constexpr size_t kBlock = quant::kBlock;
constexpr size_t kPanelBytes = 256 << 10;  // packed weights one token tile sweeps (L2)

// GCC reassociates the int16/int32 accumulation chains into trees of temporaries that need
// far more than 16 registers and spill; pinning each partial sum to a register after every
// step keeps the intended one-accumulator-per-(token, half) shape.
#define CWM_PIN(v) asm("" : "+x"(v))

inline __m256i broadcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

inline __m256i load(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// The 16 rows' f32 scales of a group block, as two halves.
inline __m256 row_scales(const uint8_t* blk, int half) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16 * half)));
}

// Sums each pair of int16 lanes into an int32 lane, like vpmaddwd with ones, but with shifts:
// those run on pipes the multiplies leave idle (measured ~5-10% faster Q4_0 prefill). Q8_0
// widens once per chunk, so there the extra ALU work costs more than it saves (measured).
inline __m256i widen(__m256i p) {
    return _mm256_add_epi32(_mm256_srai_epi32(p, 16), _mm256_srai_epi32(_mm256_slli_epi32(p, 16), 16));
}

// Decode (one token) is memory-bound: the hardware prefetcher alone left Q4_0 at ~7-9 GB/s on
// one core; asking for the lines kPrefetchBytes ahead reached ~10-12 GB/s.
constexpr size_t kPrefetchBytes = 1024;
inline void prefetch_block(const uint8_t* blk, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64)
        _mm_prefetch(reinterpret_cast<const char*>(blk + kPrefetchBytes + o), _MM_HINT_T0);
}

// Tokens' activation rows of one tile.
template <int T>
struct Acts {
    const int8_t* q[T];
    const float* d[T];
    const int32_t* sum[T];
};

// The reference's per-block float step for both 8-row halves: acc += float(isum) * (d_w * d_a).
template <int T>
inline void accumulate_block(const uint8_t* blk, const Acts<T>& a, size_t b, const __m256i* isum0,
                             const __m256i* isum1, __m256* acc0, __m256* acc1) {
    const __m256 dw0 = row_scales(blk, 0), dw1 = row_scales(blk, 1);
    for (int t = 0; t < T; ++t) {
        const __m256 da = _mm256_set1_ps(a.d[t][b]);
        acc0[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum0[t]), _mm256_mul_ps(dw0, da), acc0[t]);
        acc1[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum1[t]), _mm256_mul_ps(dw1, da), acc1[t]);
    }
}

template <int T>
inline void store_tile(const __m256* acc0, const __m256* acc1, float* y, size_t ldy) {
    for (int t = 0; t < T; ++t) {
        _mm256_storeu_ps(y + t * ldy, acc0[t]);
        _mm256_storeu_ps(y + t * ldy + 8, acc1[t]);
    }
}

// One 16-row group times T tokens over all nb blocks; y[t * ldy + i] for row i of the group.
template <int T>
[[gnu::noinline]] void tile_q4(const uint8_t* group, size_t nb, const Acts<T>& a, float* y, size_t ldy) {
    constexpr size_t kBlockBytes = kGroupRows * sizeof(quant::BlockQ4_0);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256 acc0[T], acc1[T];
    for (int t = 0; t < T; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
    for (size_t b = 0; b < nb; ++b) {
        const uint8_t* blk = group + b * kBlockBytes;
        const uint8_t* qs = blk + kGroupRows * sizeof(uint16_t);
        if constexpr (T == 1) prefetch_block(blk, kBlockBytes);
        __m256i p0[T], p1[T];  // int16 sums of rows 0..7 / 8..15
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
            // Low nibbles: columns 4c..4c+3.
            __m256i w0 = _mm256_and_si256(load(qs + 64 * c), low);
            __m256i w1 = _mm256_and_si256(load(qs + 64 * c + 32), low);
            for (int t = 0; t < T; ++t) {
                const __m256i x = broadcast4(a.q[t] + b * kBlock + 4 * c);
                const __m256i m0 = _mm256_maddubs_epi16(w0, x), m1 = _mm256_maddubs_epi16(w1, x);
                p0[t] = c == 0 ? m0 : _mm256_add_epi16(p0[t], m0);
                p1[t] = c == 0 ? m1 : _mm256_add_epi16(p1[t], m1);
                CWM_PIN(p0[t]);
                CWM_PIN(p1[t]);
            }
            // High nibbles: columns 16 + 4c..4c+3.
            w0 = _mm256_and_si256(_mm256_srli_epi16(load(qs + 64 * c), 4), low);
            w1 = _mm256_and_si256(_mm256_srli_epi16(load(qs + 64 * c + 32), 4), low);
            for (int t = 0; t < T; ++t) {
                const __m256i x = broadcast4(a.q[t] + b * kBlock + 16 + 4 * c);
                p0[t] = _mm256_add_epi16(p0[t], _mm256_maddubs_epi16(w0, x));
                p1[t] = _mm256_add_epi16(p1[t], _mm256_maddubs_epi16(w1, x));
                CWM_PIN(p0[t]);
                CWM_PIN(p1[t]);
            }
        }
        for (int t = 0; t < T; ++t) {
            const __m256i offset = _mm256_set1_epi32(8 * a.sum[t][b]);
            p0[t] = _mm256_sub_epi32(widen(p0[t]), offset);
            p1[t] = _mm256_sub_epi32(widen(p1[t]), offset);
        }
        accumulate_block<T>(blk, a, b, p0, p1, acc0, acc1);
    }
    store_tile<T>(acc0, acc1, y, ldy);
}

template <int T>
[[gnu::noinline]] void tile_q8(const uint8_t* group, size_t nb, const Acts<T>& a, float* y, size_t ldy) {
    constexpr size_t kBlockBytes = kGroupRows * sizeof(quant::BlockQ8_0);
    const __m256i flip = _mm256_set1_epi8(char(0x80));
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc0[T], acc1[T];
    for (int t = 0; t < T; ++t) acc0[t] = acc1[t] = _mm256_setzero_ps();
    for (size_t b = 0; b < nb; ++b) {
        const uint8_t* blk = group + b * kBlockBytes;
        const uint8_t* qs = blk + kGroupRows * sizeof(uint16_t);
        if constexpr (T == 1) prefetch_block(blk, kBlockBytes);
        __m256i p0[T], p1[T];  // int32 sums of rows 0..7 / 8..15
#pragma GCC unroll 8
        for (int c = 0; c < 8; ++c) {
            for (int h = 0; h < 2; ++h) {
                const __m256i w = _mm256_xor_si256(load(qs + 64 * c + 32 * h), flip);  // the signed weight
                const __m256i w_abs = _mm256_abs_epi8(w);
                for (int t = 0; t < T; ++t) {
                    const __m256i x = _mm256_sign_epi8(broadcast4(a.q[t] + b * kBlock + 4 * c), w);
                    const __m256i m = _mm256_madd_epi16(_mm256_maddubs_epi16(w_abs, x), ones);
                    __m256i& p = h == 0 ? p0[t] : p1[t];
                    p = c == 0 ? m : _mm256_add_epi32(p, m);
                    CWM_PIN(p);
                }
            }
        }
        accumulate_block<T>(blk, a, b, p0, p1, acc0, acc1);
    }
    store_tile<T>(acc0, acc1, y, ldy);
}

template <bool Q4, int T>
void tile(const uint8_t* group, size_t nb, const uint8_t* acts, size_t act_size, size_t cols, float* y, size_t ldy) {
    Acts<T> a;
    for (int t = 0; t < T; ++t) {
        const ActivationRow row = activation_row(acts + t * act_size, cols);
        a.q[t] = row.q;
        a.d[t] = row.d;
        a.sum[t] = row.sum;
    }
    if constexpr (Q4)
        tile_q4<T>(group, nb, a, y, ldy);
    else
        tile_q8<T>(group, nb, a, y, ldy);
}

template <bool Q4>
void groups_all_tokens(const uint8_t* packed, size_t cols, const uint8_t* acts, size_t n_tokens, float* y,
                       size_t ldy, size_t group_begin, size_t group_end) {
    const size_t nb = cols / kBlock, act_size = activation_row_bytes(cols);
    const size_t group_size = nb * kGroupRows * (Q4 ? sizeof(quant::BlockQ4_0) : sizeof(quant::BlockQ8_0));
    const size_t panel_groups = std::max<size_t>(1, kPanelBytes / group_size);
    constexpr size_t kTile = 3;  // tokens per micro-tile (register budget above)
    for (size_t g0 = group_begin; g0 < group_end; g0 += panel_groups) {
        const size_t g1 = std::min(group_end, g0 + panel_groups);
        for (size_t t0 = 0; t0 < n_tokens; t0 += kTile) {
            const size_t n = std::min<size_t>(kTile, n_tokens - t0);
            const uint8_t* at = acts + t0 * act_size;
            for (size_t g = g0; g < g1; ++g) {
                const uint8_t* group = packed + g * group_size;
                float* yg = y + t0 * ldy + g * kGroupRows;
                if (n == 1)
                    tile<Q4, 1>(group, nb, at, act_size, cols, yg, ldy);
                else if (n == 2)
                    tile<Q4, 2>(group, nb, at, act_size, cols, yg, ldy);
                else
                    tile<Q4, 3>(group, nb, at, act_size, cols, yg, ldy);
            }
        }
    }
}

}  // namespace

void matmul_groups(DType type, const uint8_t* packed, size_t cols, const void* acts, size_t n_tokens, float* y,
                   size_t ldy, size_t group_begin, size_t group_end) {
    const auto* a = static_cast<const uint8_t*>(acts);
    if (type == DType::q4_0)
        groups_all_tokens<true>(packed, cols, a, n_tokens, y, ldy, group_begin, group_end);
    else
        groups_all_tokens<false>(packed, cols, a, n_tokens, y, ldy, group_begin, group_end);
}

}  // namespace cwm::kernels::avx2
