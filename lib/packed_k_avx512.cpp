// AVX-512 VNNI bodies of the packed K-quant products (layout and arithmetic in packed_k.hpp).
//
// Per super-block and sub-block, the 16 rows' weight levels are rebuilt a register (16 rows x 4
// columns) at a time and shared by up to kTile tokens: each token's exact sub-block dot is one
// vpdpbusd per register against 4 broadcast activation bytes, then multiplied by the rows'
// integer scales (vpmulld) into the super-block's int32 sum. The block-sum terms (Q4_K mins,
// Q6_K's -32 offset) are int16 pair products (vpdpwssd) against the Q8_K bsums, and the float
// step follows quant::dot_*_q8_k_ref operation for operation, so results are bit-identical.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "packed_k.hpp"
#include "packed_quant.hpp"
#include "packed_tiles.hpp"
#include "quant_k.hpp"

namespace cwm::kernels::avx512 {

namespace {

using namespace kpack;
using quant::BlockQ8_K;


inline __m512i broadcast4(const void* p) {
    int32_t v;
    std::memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

inline __m512i load128_u8_to_i32(const uint8_t* p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline __m512 load_f16x16(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Decode (one token) is memory-bound. Requesting all of a super-block's cache lines before
// computing on it keeps more loads in flight: measured 23 -> 29 GB/s (Q4_K) and 19 -> 24 GB/s
// (Q6_K) on one Zen 4 core, where prefetching further ahead (512 bytes to 4 KiB) did worse.
inline void request_lines(const uint8_t* p, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64) _mm_prefetch(reinterpret_cast<const char*>(p + o), _MM_HINT_T0);
}

// A product rounded on its own, as in the scalar reference: GCC contracts _mm512_mul_ps
// followed by _mm512_add_ps / _mm512_sub_ps into a fused multiply-add, but not this variant.
inline __m512 mul(__m512 a, __m512 b) { return _mm512_mul_round_ps(a, b, _MM_FROUND_CUR_DIRECTION); }

// a | (b & c) in one vpternlogd (truth table 0xf8).
inline __m512i or_and(__m512i a, __m512i b, __m512i c) { return _mm512_ternarylogic_epi32(a, b, c, 0xf8); }

// sumi[t] += scale * (token t's exact dot with the n_regs weight registers of one sub-block,
// its activation bytes starting at q[t]), for T tokens.
template <int T>
inline void sub_block(const __m512i* w, int n_regs, const int8_t* const* q, __m512i scale, __m512i* sumi) {
    for (int t = 0; t < T; ++t) {
        __m512i dot = _mm512_setzero_si512();
        for (int k = 0; k < n_regs; ++k) dot = _mm512_dpbusd_epi32(dot, w[k], broadcast4(q[t] + 4 * k));
        sumi[t] = _mm512_add_epi32(sumi[t], _mm512_mullo_epi32(dot, scale));
    }
}

// The 16 bytes at p as int16 pairs: byte i in both halves of lane i (one vpshufb, where widening
// to int32 and then doubling would take three ops).
inline __m512i load128_u8_to_i16_pairs(const uint8_t* p) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i index = _mm512_or_si512(_mm512_or_si512(lane, _mm512_slli_epi32(lane, 16)),
                                          _mm512_set1_epi32(int(0x80008000)));  // 0x80: a zero byte
    return _mm512_shuffle_epi8(_mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), index);
}

// Q4_K's 6-bit values (the scales or the mins, planes at p) of sub-blocks 2g and 2g + 1 for the
// 16 rows, as int32 or int16 pairs (as Load widens the bytes): a nibble of lo[g] or'ed with
// hi[g / 2]'s bit pair 2g % 4 or 2g % 4 + 1 moved to bits 4-5 of each 16-bit half (16-bit shifts,
// so that neither half's bits reach the other).
template <__m512i (*Load)(const uint8_t*)>
inline void q4_six_bits(const uint8_t* p, int g, __m512i* out) {
    const __m512i top = _mm512_set1_epi32(0x00300030);
    const __m512i lo = Load(p + 16 * g), hi = Load(p + kQ4Hi + 16 * (g / 2));
    const __m512i pair = g % 2 ? hi : _mm512_slli_epi16(hi, 4);  // bit pair 2g % 4 at bits 4-5
    out[0] = or_and(_mm512_and_si512(lo, _mm512_set1_epi32(0x000f000f)), pair, top);
    out[1] = or_and(_mm512_srli_epi16(lo, 4), _mm512_srli_epi16(pair, 2), top);
}

// Q4_K: sub-block 2g + half is 8 registers, the low (half 0) or high nibbles of chunks (g, c).
template <int T>
void q4_k_superblock(const uint8_t* sb, const BlockQ8_K* const* a, __m512* acc) {
    const __m512i nibble = _mm512_set1_epi8(0x0f);
    __m512i sumi[T];
    for (int t = 0; t < T; ++t) sumi[t] = _mm512_setzero_si512();
    const int8_t* q[T];
    for (int g = 0; g < 4; ++g) {
        __m512i scales[2];
        q4_six_bits<load128_u8_to_i32>(sb + kQ4Scale, g, scales);
        for (int half = 0; half < 2; ++half) {
            __m512i w[8];
            for (int c = 0; c < 8; ++c) {
                const __m512i raw = _mm512_loadu_si512(sb + kQ4Qs + 64 * (8 * g + c));
                w[c] = _mm512_and_si512(half ? _mm512_srli_epi16(raw, 4) : raw, nibble);
            }
            for (int t = 0; t < T; ++t) q[t] = a[t]->qs + 64 * g + 32 * half;
            sub_block<T>(w, 8, q, scales[half], sumi);
        }
    }
    // summ = sum_j min_j * (bsum[2j] + bsum[2j+1]): int16 pairs (min_j, min_j) against the
    // bsum pair, one vpdpwssd per sub-block.
    __m512i mins[8];
    for (int g = 0; g < 4; ++g) q4_six_bits<load128_u8_to_i16_pairs>(sb + kQ4Min, g, mins + 2 * g);
    const __m512 d = load_f16x16(sb), dmin = load_f16x16(sb + kQ4Dmin);
    for (int t = 0; t < T; ++t) {
        __m512i summ = _mm512_setzero_si512();
        for (int j = 0; j < 8; ++j) summ = _mm512_dpwssd_epi32(summ, mins[j], broadcast4(a[t]->bsums + 2 * j));
        const __m512 da = _mm512_set1_ps(a[t]->d);
        const __m512 pos = mul(mul(d, da), _mm512_cvtepi32_ps(sumi[t]));
        const __m512 neg = mul(mul(dmin, da), _mm512_cvtepi32_ps(summ));
        acc[t] = _mm512_add_ps(acc[t], _mm512_sub_ps(pos, neg));
    }
}

// Q6_K: sub-block j's 4 registers of 6-bit levels from its two nibble chunks and one chunk of
// 2-bit pairs (pair k moved to bits 4-5).
inline void q6_k_levels(const uint8_t* sub, __m512i* w) {
    const __m512i nibble = _mm512_set1_epi8(0x0f), top = _mm512_set1_epi8(0x30);
    const __m512i ql0 = _mm512_loadu_si512(sub), ql1 = _mm512_loadu_si512(sub + 64);
    const __m512i qh = _mm512_loadu_si512(sub + kQ6Qh);
    w[0] = or_and(_mm512_and_si512(ql0, nibble), _mm512_slli_epi16(qh, 4), top);
    w[1] = or_and(_mm512_and_si512(ql1, nibble), _mm512_slli_epi16(qh, 2), top);
    w[2] = or_and(_mm512_and_si512(_mm512_srli_epi16(ql0, 4), nibble), qh, top);
    w[3] = or_and(_mm512_and_si512(_mm512_srli_epi16(ql1, 4), nibble), _mm512_srli_epi16(qh, 2), top);
}

template <int T>
void q6_k_superblock(const uint8_t* sb, const uint8_t* d_rows, const BlockQ8_K* const* a, __m512* acc) {
    __m512i sumi[T];
    for (int t = 0; t < T; ++t) sumi[t] = _mm512_setzero_si512();
    __m512i pairs[8];  // int16 (scale 2m, scale 2m+1) per row
    const int8_t* q[T];
    for (int m = 0; m < 8; ++m) {
        pairs[m] = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(sb + kQ6Scale + 32 * m)));
        for (int s = 0; s < 2; ++s) {
            const int j = 2 * m + s;
            const __m512i scale = _mm512_srai_epi32(s ? pairs[m] : _mm512_slli_epi32(pairs[m], 16), 16);
            __m512i w[4];
            q6_k_levels(sb + kQ6SubBlock * j, w);
            for (int t = 0; t < T; ++t) q[t] = a[t]->qs + 16 * j;
            sub_block<T>(w, 4, q, scale, sumi);
        }
    }
    // The levels were used unsigned: take away 32 * sum_j scale_j * bsum_j.
    const __m512 d = load_f16x16(d_rows);
    for (int t = 0; t < T; ++t) {
        __m512i offset = _mm512_setzero_si512();
        for (int m = 0; m < 8; ++m) offset = _mm512_dpwssd_epi32(offset, pairs[m], broadcast4(a[t]->bsums + 2 * m));
        const __m512i total = _mm512_sub_epi32(sumi[t], _mm512_slli_epi32(offset, 5));
        const __m512 da = _mm512_set1_ps(a[t]->d);
        acc[t] = _mm512_add_ps(acc[t], mul(mul(d, da), _mm512_cvtepi32_ps(total)));
    }
}

// One 16-row group times T tokens (a[t]: token t's Q8_K row); y points at the group's first
// output of the first token.
template <bool Q4, int T>
void group_tile(const uint8_t* group, size_t n_sb, const BlockQ8_K* const* a, float* y, size_t ldy) {
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    constexpr size_t sb_bytes = Q4 ? kQ4SuperBlock : kQ6SuperBlock;
    const uint8_t* q6_d = group;  // Q6_K: the d array, then the super-blocks
    if constexpr (!Q4) group += n_sb * kRowScales;
    if constexpr (T == 1 && !Q4) request_lines(q6_d, n_sb * kRowScales);
    const BlockQ8_K* blocks[T];
    for (size_t sb = 0; sb < n_sb; ++sb) {
        for (int t = 0; t < T; ++t) blocks[t] = a[t] + sb;
        if constexpr (T == 1) request_lines(group + sb * sb_bytes, sb_bytes);
        if constexpr (Q4)
            q4_k_superblock<T>(group + sb * sb_bytes, blocks, acc);
        else
            q6_k_superblock<T>(group + sb * sb_bytes, q6_d + sb * kRowScales, blocks, acc);
    }
    for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + t * ldy, acc[t]);
}

template <bool Q4>
void groups_all_tokens(const uint8_t* packed, size_t cols, const BlockQ8_K* acts, size_t n_tokens, float* y,
                       size_t ldy, size_t group_begin, size_t group_end) {
    const size_t n_sb = cols / quant::kSuperBlock;
    const size_t gbytes = group_bytes(Q4 ? DType::q4_k : DType::q6_k, n_sb);
    for_each_tile(n_tokens, group_begin, group_end, [&](size_t g, size_t t0, int n) {
        const BlockQ8_K* a[kTile];
        for (int t = 0; t < n; ++t) a[t] = acts + (t0 + t) * n_sb;
        with_tile_size<kTile>(n, [&](auto T) {
            group_tile<Q4, decltype(T)::value>(packed + g * gbytes, n_sb, a, y + t0 * ldy + g * kGroupRows, ldy);
        });
    });
}

}  // namespace

void matmul_packed_k_groups(DType type, const uint8_t* packed, size_t cols, const void* acts, size_t n_tokens,
                            float* y, size_t ldy, size_t group_begin, size_t group_end) {
    const auto* a = static_cast<const BlockQ8_K*>(acts);
    if (type == DType::q4_k)
        groups_all_tokens<true>(packed, cols, a, n_tokens, y, ldy, group_begin, group_end);
    else
        groups_all_tokens<false>(packed, cols, a, n_tokens, y, ldy, group_begin, group_end);
}

}  // namespace cwm::kernels::avx512
