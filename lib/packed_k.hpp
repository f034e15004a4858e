// Q4_K / Q6_K weights repacked for int8 dot products with Q8_K activations.
//
// The same idea as packed_quant.hpp: rows are interleaved in groups of 16 so that one 64-byte
// register holds 16 rows x 4 columns, one vpdpbusd against 4 broadcast activation bytes adds 64
// products into the 16 rows' int32 sums, and no horizontal reduction is ever needed. Each
// group stores, per 256-column super-block sb (quant_k.hpp has the formats):
//
//   Q4_K, 2304 bytes per super-block (exactly the source's 16 x 144; the 6-bit sub-block scales
//   and mins kept in a 4-bit and a 2-bit plane, like Q6_K's levels):
//     uint16 d[16], uint16 dmin[16]   the 16 rows' f16 super-block scales
//     uint8 scale_lo[4][16]           [m][i]: row i's low 4 bits of sub-block 2m's scale (low
//                                     nibble) and of sub-block 2m + 1's (high nibble)
//     uint8 scale_hi[2][16]           [h][i]: bit pair k = the top 2 bits of row i's scale of
//                                     sub-block 4h + k
//     uint8 min_lo[4][16], uint8 min_hi[2][16]   the mins, likewise
//     32 chunks (g = 0..3, c = 0..7) of 64 bytes: row i's 4 bytes are the row's own bytes
//       qs[32g + 4c .. 32g + 4c + 3], whose low nibbles are columns 64g + 4c .. +3 (sub-block
//       2g) and high nibbles columns 64g + 32 + 4c .. +3 (sub-block 2g + 1).
//   Q6_K: the group's f16 d[n_superblocks][16] first (read before the super-blocks, so decode
//   streams each group strictly in order), then 3328 bytes per super-block (in all exactly the
//   source's size; 6 bits per weight, kept in 4-bit and 2-bit planes):
//     16 sub-blocks j of 16 columns, each 3 chunks of 64 bytes:
//       ql0, ql1: row i's 4 bytes: low nibbles columns 16j + 4c .. +3 (chunk c), high nibbles
//                 columns 16j + 8 + 4c .. +3
//       qh:       row i's byte b: bit pair k = the top 2 bits of column 16j + 4k + b
//     int8 scale[8][16][2]: row i's scales of sub-blocks 2m and 2m + 1, side by side, so one
//       sign extension gives the int16 pairs vpdpwssd needs.
//   A register of 16 rows x 4 columns of 6-bit values is (nibble) | (qh shifted & 0x30).
//   Rows past the last full group (rows % 16) follow in ggml's plain row layout.
//
// Arithmetic, exactly that of quant::dot_q4_k_q8_k_ref / dot_q6_k_q8_k_ref so results are
// bit-identical to them: per sub-block an exact int32 dot of the unsigned levels with the int8
// activations, times the integer sub-block scale, summed per super-block in int32. Q4_K's min
// term sum_j min_j * (bsum[2j] + bsum[2j+1]) and Q6_K's -32 offset -32 * sum_j scale_j * bsum[j]
// come from the Q8_K block sums. Then per super-block one float step in the reference's order:
// Q4_K: acc += (d * d_a) * sumi - (dmin * d_a) * summ;  Q6_K: acc += (d * d_a) * sumi.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtype.hpp"

namespace cwm::kernels {

// Byte offsets of the layout above within one group super-block.
namespace kpack {
constexpr size_t kQ4SuperBlock = 2304, kQ4Dmin = 32, kQ4Scale = 64, kQ4Min = 160, kQ4Qs = 256;
constexpr size_t kQ4Hi = 64;  // offset of scale_hi within the scales (of min_hi within the mins)
constexpr size_t kQ6SuperBlock = 3328, kQ6SubBlock = 192, kQ6Qh = 128, kQ6Scale = 3072;
constexpr size_t kRowScales = 16 * sizeof(uint16_t);  // one f16 per row of the group
// Bytes of one packed group of `superblocks` 256-column super-blocks (Q6_K's d array included).
constexpr size_t group_bytes(DType type, size_t superblocks) {
    return superblocks * (type == DType::q4_k ? kQ4SuperBlock : kQ6SuperBlock + kRowScales);
}
}  // namespace kpack

// True for q4_k / q6_k on CPUs where the packed products beat the row dot products (AVX-512
// VNNI); elsewhere the matrices stay in ggml's layout.
bool is_packable_k(DType type);

// Bytes of a packed rows x cols q4_k / q6_k matrix (cols a multiple of 256).
size_t packed_k_bytes(DType type, size_t rows, size_t cols);

// Packs whole groups [group_begin, group_end) (group_count in packed_quant.hpp) of a matrix in
// ggml's row layout into `dst` (packed_k_bytes large) and, when group_end is the last group,
// copies the tail rows. Callers split the groups across threads.
void pack_k_groups(DType type, const void* src, size_t rows, size_t cols, void* dst, size_t group_begin,
                   size_t group_end);

// y[t * ldy + r] for every row r of work units [unit_begin, unit_end) (work_unit_count in
// packed_quant.hpp: one per group, then one for the tail rows) and every token t, from
// n_tokens Q8_K activation rows (quant::quantize_row_q8_k) stored one after another. Each
// output equals quant::dot_q4_k_q8_k_ref / dot_q6_k_q8_k_ref of its row and token, bit for bit.
void matmul_packed_k(DType type, const void* packed, size_t rows, size_t cols, const void* acts, size_t n_tokens,
                     float* y, size_t ldy, size_t unit_begin, size_t unit_end);

// Row r of a packed matrix as floats, with quant::dequantize_q4_k / q6_k's arithmetic (so
// equal to the source row's, packing being lossless).
void dequantize_packed_k_row(DType type, const void* packed, size_t rows, size_t cols, size_t r, float* out);

namespace ref {
// The scalar definition matmul_packed_k reproduces, reading the packed layout directly.
void matmul_packed_k(DType type, const void* packed, size_t rows, size_t cols, const void* acts, size_t n_tokens,
                     float* y, size_t ldy, size_t unit_begin, size_t unit_end);
}  // namespace ref

namespace avx512 {
// Whole groups [group_begin, group_end); call only when cpu_has_avx512_vnni().
void matmul_packed_k_groups(DType type, const uint8_t* packed, size_t cols, const void* acts, size_t n_tokens,
                            float* y, size_t ldy, size_t group_begin, size_t group_end);
}  // namespace avx512

}  // namespace cwm::kernels
