// Q8_0 / Q4_0 weights repacked for int8 dot products, and the int8 activations they multiply.
//
// Why repack: an AVX-512 VNNI instruction (vpdpbusd) multiplies 64 unsigned bytes by 64 signed
// bytes and adds each group of 4 products into one of 16 int32 lanes. If those 16 lanes are 16
// different weight rows and the 4 bytes per lane are 4 consecutive columns, then one load of
// weights, one broadcast of 4 activation bytes and one vpdpbusd do 64 useful multiply-adds and
// the 16 row sums never need a horizontal reduction. So rows are interleaved in groups of 16:
//
//   group g (rows 16g .. 16g+15), for each 32-column block b, kGroupRows * block_bytes bytes:
//     uint16 d[16]            the 16 rows' f16 block scales
//     Q8_0: 8 chunks c of 64 bytes: row i's 4 bytes = columns 4c..4c+3, stored as q + 128 (u8)
//     Q4_0: 4 chunks c of 64 bytes: row i's 4 bytes = the row's original bytes 4c..4c+3, whose
//           low nibbles are columns 4c..4c+3 and high nibbles columns 4c+16..4c+19
//   Rows past the last full group (rows % 16) follow in ggml's plain row layout.
//
// The packed matrix has exactly the size of the original, and packing is lossless. The stored
// u8 values are the weight plus an offset K (128 for Q8_0, 8 for Q4_0); the offset's
// contribution K * sum(activation block) is subtracted once per block, in integers, so every
// block's integer dot product is exact.
//
// Activations are quantized per 32-element block exactly as llama.cpp's x86 quantize_row_q8_0
// does (scale amax/127 stored as f16, values x * 127/amax rounded half to even), and each block
// contributes f32(d_w) * f32(d_a) * isum, accumulated over blocks in order with fused
// multiply-adds. The same file therefore gives llama.cpp's numbers up to summation order.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtype.hpp"

namespace cwm::kernels {

constexpr size_t kGroupRows = 16;

// True for the weight types that have a packed form (q8_0, q4_0).
bool is_packable(DType type);

// Packs whole groups [group_begin, group_end) of a rows x cols matrix stored in ggml's row
// layout (`src`) into `dst` (same total size as src), and, when group_end is the last group,
// copies the tail rows. Callers split the groups across threads.
void pack_groups(DType type, const void* src, size_t rows, size_t cols, void* dst, size_t group_begin,
                 size_t group_end);
size_t group_count(size_t rows);

// One token's quantized activations: q[cols] int8 values, then d[cols/32] f32 block scales
// (f16-rounded), then sum[cols/32] int32 block sums of q.
size_t activation_row_bytes(size_t cols);
struct ActivationRow {
    const int8_t* q;
    const float* d;
    const int32_t* sum;
};
ActivationRow activation_row(const void* row, size_t cols);

// Quantizes one token (cols a multiple of 32) into an activation row.
void quantize_activation_row(const float* x, size_t cols, void* out);

// y[t * ldy + r] for every row r of work units [unit_begin, unit_end) and every token t, from
// n_tokens activation rows stored one after another in `acts`. Work unit u < group_count(rows)
// is group u; the unit after the last group covers all tail rows. Results do not depend on how
// the units are split or on n_tokens: every output is the same function of its row and token.
void matmul_packed(DType type, const void* packed, size_t rows, size_t cols, const void* acts, size_t n_tokens,
                   float* y, size_t ldy, size_t unit_begin, size_t unit_end);
size_t work_unit_count(size_t rows);

namespace ref {
// One plain (ggml row layout) q8_0/q4_0 row times one activation row, with the same per-block
// arithmetic as matmul_packed: the definition the packed kernels reproduce exactly.
float dot_activation_row(DType type, const void* row, const ActivationRow& a, size_t cols);
void quantize_activation_row(const float* x, size_t cols, void* out);
void matmul_packed(DType type, const void* packed, size_t rows, size_t cols, const void* acts, size_t n_tokens,
                   float* y, size_t ldy, size_t unit_begin, size_t unit_end);
}  // namespace ref

}  // namespace cwm::kernels
