// Packing, the scalar reference and the dispatch of the packed K-quant products (layout and
// arithmetic in packed_k.hpp).
#include "packed_k.hpp"

#include <algorithm>
#include <cstring>

#include "cpu.hpp"
#include "packed_quant.hpp"
#include "quant_k.hpp"

namespace cwm::kernels {

namespace {

using namespace kpack;
using quant::BlockQ4_K;
using quant::BlockQ6_K;
using quant::BlockQ8_K;
using quant::kSuperBlock;

static_assert(kQ4SuperBlock == kGroupRows * sizeof(BlockQ4_K) && kQ4Qs + 32 * 64 == kQ4SuperBlock,
              "packed Q4_K keeps exactly the source's size");

size_t source_block_bytes(DType type) { return type == DType::q4_k ? sizeof(BlockQ4_K) : sizeof(BlockQ6_K); }

size_t superblocks(size_t cols) { return cols / kSuperBlock; }

float f16_at(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof h);
    return f16_to_f32(h);
}

// Offsets in a group of super-block sb (16 rows x 256 columns) and of its rows' d values.
struct SuperBlock {
    size_t p, d;
};

SuperBlock super_block(DType type, size_t n_sb, size_t sb) {
    if (type == DType::q4_k) return {sb * kQ4SuperBlock, sb * kQ4SuperBlock};
    return {n_sb * kRowScales + sb * kQ6SuperBlock, sb * kRowScales};
}

// Level (Q4_K 0..15, Q6_K 0..63) of row i, column col of a packed super-block.
int packed_level(DType type, const uint8_t* sb, size_t i, size_t col) {
    if (type == DType::q4_k) {
        const size_t g = col / 64, half = col % 64 / 32, c = col % 32 / 4;
        const uint8_t byte = sb[kQ4Qs + (8 * g + c) * 64 + 4 * i + col % 4];
        return half ? byte >> 4 : byte & 0xf;
    }
    const size_t j = col / 16, k = col % 16 / 4, b = col % 4;
    const uint8_t* sub = sb + j * kQ6SubBlock;
    const uint8_t low = sub[64 * (k % 2) + 4 * i + b];
    const int nibble = k < 2 ? low & 0xf : low >> 4;
    return nibble | ((sub[kQ6Qh + 4 * i + b] >> (2 * k)) & 3) << 4;
}

// Row i's 6-bit value of sub-block j from Q4_K's planes at `planes` (the scales or the mins).
int q4_six_bits(const uint8_t* planes, size_t i, size_t j) {
    const int lo = planes[16 * (j / 2) + i] >> (4 * (j % 2)) & 0xf;
    const int hi = planes[kQ4Hi + 16 * (j / 4) + i] >> (2 * (j % 4)) & 3;
    return lo | hi << 4;
}

// Sub-block j's scale of row i (Q4_K 0..63, Q6_K int8), and Q4_K's min.
int packed_scale(DType type, const uint8_t* sb, size_t i, size_t j) {
    if (type == DType::q4_k) return q4_six_bits(sb + kQ4Scale, i, j);
    return int8_t(sb[kQ6Scale + 32 * (j / 2) + 2 * i + j % 2]);
}
int packed_min(const uint8_t* sb, size_t i, size_t j) { return q4_six_bits(sb + kQ4Min, i, j); }

// Row i's 8 six-bit values v (scales or mins) into Q4_K's planes at `planes`.
void put_six_bits(const uint8_t* v, size_t i, uint8_t* planes) {
    for (size_t m = 0; m < 4; ++m) planes[16 * m + i] = uint8_t((v[2 * m] & 0xf) | (v[2 * m + 1] & 0xf) << 4);
    for (size_t h = 0; h < 2; ++h) {
        uint8_t top = 0;
        for (size_t k = 0; k < 4; ++k) top |= uint8_t(v[4 * h + k] >> 4 << (2 * k));
        planes[kQ4Hi + 16 * h + i] = top;
    }
}

void pack_q4_k(const BlockQ4_K* const* rows, size_t sb, uint8_t* out) {
    for (size_t i = 0; i < kGroupRows; ++i) {
        const BlockQ4_K& b = rows[i][sb];
        std::memcpy(out + 2 * i, &b.d, 2);
        std::memcpy(out + kQ4Dmin + 2 * i, &b.dmin, 2);
        uint8_t sm[16];
        quant::unpack_scales_mins_q4_k(b.scales, sm);
        put_six_bits(sm, i, out + kQ4Scale);
        put_six_bits(sm + 8, i, out + kQ4Min);
        for (size_t chunk = 0; chunk < 32; ++chunk) std::memcpy(out + kQ4Qs + 64 * chunk + 4 * i, b.qs + 4 * chunk, 4);
    }
}

void pack_q6_k(const BlockQ6_K* const* rows, size_t sb, uint8_t* out, uint8_t* d_out) {
    for (size_t i = 0; i < kGroupRows; ++i) {
        const BlockQ6_K& b = rows[i][sb];
        std::memcpy(d_out + 2 * i, &b.d, 2);
        for (size_t j = 0; j < 16; ++j) out[kQ6Scale + 32 * (j / 2) + 2 * i + j % 2] = uint8_t(b.scales[j]);
        uint8_t q[kSuperBlock];
        for (size_t col = 0; col < kSuperBlock; ++col) q[col] = uint8_t(quant::q6_level(b, int(col)));
        for (size_t j = 0; j < 16; ++j) {
            const uint8_t* v = q + 16 * j;  // v[4k + c]: column 4k + c of sub-block j
            uint8_t* sub = out + j * kQ6SubBlock + 4 * i;
            for (size_t c = 0; c < 4; ++c) {
                sub[c] = uint8_t((v[c] & 0xf) | (v[8 + c] & 0xf) << 4);
                sub[64 + c] = uint8_t((v[4 + c] & 0xf) | (v[12 + c] & 0xf) << 4);
                sub[kQ6Qh + c] = uint8_t(v[c] >> 4 | (v[4 + c] >> 4) << 2 | (v[8 + c] >> 4) << 4 | (v[12 + c] >> 4) << 6);
            }
        }
    }
}

// Tail rows stay in ggml's layout; the scalar definitions keep every output the same function
// of its row and token whichever path computes it.
void tail_rows(DType type, const uint8_t* packed, size_t rows, size_t cols, const uint8_t* acts, size_t n_tokens,
               float* y, size_t ldy) {
    const size_t groups = group_count(rows), row_size = superblocks(cols) * source_block_bytes(type);
    const size_t act_size = superblocks(cols) * sizeof(BlockQ8_K);
    const uint8_t* tail = packed + groups * group_bytes(type, superblocks(cols));
    const auto dot = type == DType::q4_k ? quant::dot_q4_k_q8_k_ref : quant::dot_q6_k_q8_k_ref;
    for (size_t r = groups * kGroupRows; r < rows; ++r)
        for (size_t t = 0; t < n_tokens; ++t)
            y[t * ldy + r] = dot(tail + (r - groups * kGroupRows) * row_size, acts + t * act_size, cols);
}

// Row i of a packed group times one Q8_K activation row: quant::dot_*_q8_k_ref's arithmetic.
float packed_row_dot(DType type, const uint8_t* group, size_t n_sb, size_t i, const BlockQ8_K* a) {
    float sum = 0;
    for (size_t sb = 0; sb < n_sb; ++sb) {
        const SuperBlock s = super_block(type, n_sb, sb);
        const uint8_t *p = group + s.p, *d = group + s.d;
        const size_t sub = type == DType::q4_k ? 32 : 16;
        const int offset = type == DType::q4_k ? 0 : 32;
        int32_t sumi = 0, summ = 0;
        for (size_t j = 0; j < kSuperBlock / sub; ++j) {
            int32_t dot = 0;
            for (size_t col = sub * j; col < sub * (j + 1); ++col)
                dot += (packed_level(type, p, i, col) - offset) * a[sb].qs[col];
            sumi += packed_scale(type, p, i, j) * dot;
            if (type == DType::q4_k) summ += packed_min(p, i, j) * (a[sb].bsums[2 * j] + a[sb].bsums[2 * j + 1]);
        }
        if (type == DType::q4_k)
            sum += f16_at(d + 2 * i) * a[sb].d * float(sumi) - f16_at(d + kQ4Dmin + 2 * i) * a[sb].d * float(summ);
        else
            sum += f16_at(d + 2 * i) * a[sb].d * float(sumi);
    }
    return sum;
}

}  // namespace

bool is_packable_k(DType type) { return (type == DType::q4_k || type == DType::q6_k) && cpu_has_avx512_vnni(); }

size_t packed_k_bytes(DType type, size_t rows, size_t cols) {
    const size_t n_sb = superblocks(cols);
    return group_count(rows) * group_bytes(type, n_sb) + rows % kGroupRows * n_sb * source_block_bytes(type);
}

void pack_k_groups(DType type, const void* src, size_t rows, size_t cols, void* dst, size_t group_begin,
                   size_t group_end) {
    const size_t n_sb = superblocks(cols), row_size = n_sb * source_block_bytes(type);
    const size_t gbytes = group_bytes(type, n_sb);
    const auto* in = static_cast<const uint8_t*>(src);
    auto* out = static_cast<uint8_t*>(dst);
    for (size_t g = group_begin; g < group_end; ++g) {
        const uint8_t* group_rows[kGroupRows];
        for (size_t i = 0; i < kGroupRows; ++i) group_rows[i] = in + (g * kGroupRows + i) * row_size;
        uint8_t* group = out + g * gbytes;
        for (size_t sb = 0; sb < n_sb; ++sb) {
            const SuperBlock s = super_block(type, n_sb, sb);
            if (type == DType::q4_k)
                pack_q4_k(reinterpret_cast<const BlockQ4_K* const*>(group_rows), sb, group + s.p);
            else
                pack_q6_k(reinterpret_cast<const BlockQ6_K* const*>(group_rows), sb, group + s.p, group + s.d);
        }
    }
    const size_t groups = group_count(rows);
    if (group_end == groups && rows % kGroupRows)
        std::memcpy(out + groups * gbytes, in + groups * kGroupRows * row_size, rows % kGroupRows * row_size);
}

void dequantize_packed_k_row(DType type, const void* packed, size_t rows, size_t cols, size_t r, float* out) {
    const size_t n_sb = superblocks(cols), g = r / kGroupRows, i = r % kGroupRows;
    const auto* base = static_cast<const uint8_t*>(packed);
    if (g >= group_count(rows)) {
        const uint8_t* row = base + group_count(rows) * group_bytes(type, n_sb) +
                             (r - group_count(rows) * kGroupRows) * n_sb * source_block_bytes(type);
        if (type == DType::q4_k) return quant::dequantize_q4_k(reinterpret_cast<const BlockQ4_K*>(row), cols, out);
        return quant::dequantize_q6_k(reinterpret_cast<const BlockQ6_K*>(row), cols, out);
    }
    const uint8_t* group = base + g * group_bytes(type, n_sb);
    for (size_t sb = 0; sb < n_sb; ++sb, out += kSuperBlock) {
        const SuperBlock s = super_block(type, n_sb, sb);
        const uint8_t *p = group + s.p, *ds = group + s.d;
        const float d = f16_at(ds + 2 * i);
        for (size_t col = 0; col < kSuperBlock; ++col) {
            const int q = packed_level(type, p, i, col);
            if (type == DType::q6_k) {
                out[col] = d * packed_scale(type, p, i, col / 16) * (q - 32);
                continue;
            }
            const float dj = d * packed_scale(type, p, i, col / 32);
            const float mj = f16_at(ds + kQ4Dmin + 2 * i) * packed_min(p, i, col / 32);
            out[col] = dj * q - mj;
        }
    }
}

void matmul_packed_k(DType type, const void* packed, size_t rows, size_t cols, const void* acts, size_t n_tokens,
                     float* y, size_t ldy, size_t unit_begin, size_t unit_end) {
    const size_t groups = group_count(rows), group_end = std::min(unit_end, groups);
    if (!cpu_has_avx512_vnni())
        return ref::matmul_packed_k(type, packed, rows, cols, acts, n_tokens, y, ldy, unit_begin, unit_end);
    const auto* base = static_cast<const uint8_t*>(packed);
    if (unit_begin < group_end)
        avx512::matmul_packed_k_groups(type, base, cols, acts, n_tokens, y, ldy, unit_begin, group_end);
    if (unit_end > groups) tail_rows(type, base, rows, cols, static_cast<const uint8_t*>(acts), n_tokens, y, ldy);
}

namespace ref {

void matmul_packed_k(DType type, const void* packed, size_t rows, size_t cols, const void* acts, size_t n_tokens,
                     float* y, size_t ldy, size_t unit_begin, size_t unit_end) {
    const size_t n_sb = superblocks(cols), groups = group_count(rows);
    const auto* base = static_cast<const uint8_t*>(packed);
    const auto* a = static_cast<const BlockQ8_K*>(acts);
    for (size_t g = unit_begin; g < std::min(unit_end, groups); ++g)
        for (size_t t = 0; t < n_tokens; ++t)
            for (size_t i = 0; i < kGroupRows; ++i)
                y[t * ldy + g * kGroupRows + i] =
                    packed_row_dot(type, base + g * group_bytes(type, n_sb), n_sb, i, a + t * n_sb);
    if (unit_end > groups) tail_rows(type, base, rows, cols, static_cast<const uint8_t*>(acts), n_tokens, y, ldy);
}

}  // namespace ref

}  // namespace cwm::kernels
