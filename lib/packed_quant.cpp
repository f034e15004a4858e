// Packing, the activation layout, the scalar reference and the runtime dispatch of the
// packed int8 products (layout and numerics in packed_quant.hpp).
#include "packed_quant.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu.hpp"
#include "packed_quant_simd.hpp"
#include "quant.hpp"

namespace cwm::kernels {

namespace {

constexpr size_t kBlock = quant::kBlock;

size_t block_bytes(DType type) { return type == DType::q8_0 ? sizeof(quant::BlockQ8_0) : sizeof(quant::BlockQ4_0); }

void pack_block_group(DType type, const uint8_t* const* rows, size_t b, uint8_t* out) {
    const size_t bb = block_bytes(type);
    auto* scales = reinterpret_cast<uint16_t*>(out);
    uint8_t* qs = out + kGroupRows * sizeof(uint16_t);
    const size_t payload = bb - sizeof(uint16_t), chunks = payload / 4;
    for (size_t i = 0; i < kGroupRows; ++i) {
        const uint8_t* block = rows[i] + b * bb;
        std::memcpy(&scales[i], block, sizeof(uint16_t));
        for (size_t c = 0; c < chunks; ++c)
            for (size_t k = 0; k < 4; ++k) {
                const uint8_t v = block[sizeof(uint16_t) + 4 * c + k];
                qs[64 * c + 4 * i + k] = type == DType::q8_0 ? uint8_t(v ^ 0x80) : v;
            }
    }
}

// The stored weight of row i, column j of block b (offset removed), from a packed group block.
int32_t packed_weight(DType type, const uint8_t* group_block, size_t i, size_t j) {
    const uint8_t* qs = group_block + kGroupRows * sizeof(uint16_t);
    if (type == DType::q8_0) return int32_t(qs[64 * (j / 4) + 4 * i + j % 4]) - 128;
    const size_t byte = j % 16;
    const uint8_t v = qs[64 * (byte / 4) + 4 * i + byte % 4];
    return int32_t(j < 16 ? v & 0x0f : v >> 4) - 8;
}

int32_t plain_weight(DType type, const uint8_t* block, size_t j) {
    const uint8_t* qs = block + sizeof(uint16_t);
    if (type == DType::q8_0) return int8_t(qs[j]);
    return int32_t(j < 16 ? qs[j] & 0x0f : qs[j - 16] >> 4) - 8;
}

float f16_at(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, sizeof h);
    return f16_to_f32(h);
}

void tail_rows(DType type, const uint8_t* packed, size_t rows, size_t cols, const uint8_t* acts, size_t n_tokens,
               float* y, size_t ldy) {
    const size_t row_size = cols / kBlock * block_bytes(type), act_size = activation_row_bytes(cols);
    const size_t first = group_count(rows) * kGroupRows;
    for (size_t r = first; r < rows; ++r)
        for (size_t t = 0; t < n_tokens; ++t)
            y[t * ldy + r] = ref::dot_activation_row(type, packed + r * row_size,
                                                     activation_row(acts + t * act_size, cols), cols);
}

}  // namespace

bool is_packable(DType type) { return type == DType::q8_0 || type == DType::q4_0; }

size_t group_count(size_t rows) { return rows / kGroupRows; }

size_t work_unit_count(size_t rows) { return group_count(rows) + (rows % kGroupRows ? 1 : 0); }

void pack_groups(DType type, const void* src, size_t rows, size_t cols, void* dst, size_t group_begin,
                 size_t group_end) {
    const size_t nb = cols / kBlock, bb = block_bytes(type), row_size = nb * bb;
    const auto* in = static_cast<const uint8_t*>(src);
    auto* out = static_cast<uint8_t*>(dst);
    for (size_t g = group_begin; g < group_end; ++g) {
        const uint8_t* group_rows[kGroupRows];
        for (size_t i = 0; i < kGroupRows; ++i) group_rows[i] = in + (g * kGroupRows + i) * row_size;
        for (size_t b = 0; b < nb; ++b) pack_block_group(type, group_rows, b, out + (g * nb + b) * kGroupRows * bb);
    }
    const size_t tail_start = group_count(rows) * kGroupRows * row_size;
    if (group_end == group_count(rows) && rows % kGroupRows)
        std::memcpy(out + tail_start, in + tail_start, (rows % kGroupRows) * row_size);
}

size_t activation_row_bytes(size_t cols) { return cols + cols / kBlock * (sizeof(float) + sizeof(int32_t)); }

ActivationRow activation_row(const void* row, size_t cols) {
    const auto* bytes = static_cast<const uint8_t*>(row);
    const size_t nb = cols / kBlock;
    return {reinterpret_cast<const int8_t*>(bytes), reinterpret_cast<const float*>(bytes + cols),
            reinterpret_cast<const int32_t*>(bytes + cols + nb * sizeof(float))};
}

void quantize_activation_row(const float* x, size_t cols, void* out) {
    if (cpu_has_avx512()) return avx512::quantize_activation_row(x, cols, out);
    ref::quantize_activation_row(x, cols, out);
}

void matmul_packed(DType type, const void* packed, size_t rows, size_t cols, const void* acts, size_t n_tokens,
                   float* y, size_t ldy, size_t unit_begin, size_t unit_end) {
    const size_t groups = group_count(rows), group_end = std::min(unit_end, groups);
    const auto* base = static_cast<const uint8_t*>(packed);
    if (unit_begin < group_end) {
        if (cpu_has_avx512_vnni())
            avx512::matmul_groups(type, base, cols, acts, n_tokens, y, ldy, unit_begin, group_end);
        else if (cpu_has_avx2())
            avx2::matmul_groups(type, base, cols, acts, n_tokens, y, ldy, unit_begin, group_end);
        else
            ref::matmul_packed(type, packed, groups * kGroupRows, cols, acts, n_tokens, y, ldy, unit_begin, group_end);
    }
    if (unit_end > groups) tail_rows(type, base, rows, cols, static_cast<const uint8_t*>(acts), n_tokens, y, ldy);
}

namespace ref {

void quantize_activation_row(const float* x, size_t cols, void* out) {
    auto* bytes = static_cast<uint8_t*>(out);
    const size_t nb = cols / kBlock;
    auto* q = reinterpret_cast<int8_t*>(bytes);
    auto* d = reinterpret_cast<float*>(bytes + cols);
    auto* sum = reinterpret_cast<int32_t*>(bytes + cols + nb * sizeof(float));
    for (size_t b = 0; b < nb; ++b) {
        const float* v = x + b * kBlock;
        float amax = 0.0f;
        for (size_t i = 0; i < kBlock; ++i) amax = std::max(amax, std::fabs(v[i]));
        d[b] = f16_to_f32(f32_to_f16(amax / 127.0f));
        // llama.cpp's x86 quantizer multiplies by 127/amax (not 1/d) and rounds half to even.
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int32_t s = 0;
        for (size_t i = 0; i < kBlock; ++i) {
            q[b * kBlock + i] = int8_t(std::nearbyint(v[i] * id));
            s += q[b * kBlock + i];
        }
        sum[b] = s;
    }
}

float dot_activation_row(DType type, const void* row, const ActivationRow& a, size_t cols) {
    const auto* blocks = static_cast<const uint8_t*>(row);
    float acc = 0.0f;
    for (size_t b = 0; b < cols / kBlock; ++b) {
        const uint8_t* block = blocks + b * block_bytes(type);
        int32_t isum = 0;
        for (size_t j = 0; j < kBlock; ++j) isum += plain_weight(type, block, j) * a.q[b * kBlock + j];
        acc = std::fma(f16_at(block) * a.d[b], float(isum), acc);
    }
    return acc;
}

void matmul_packed(DType type, const void* packed, size_t rows, size_t cols, const void* acts, size_t n_tokens,
                   float* y, size_t ldy, size_t unit_begin, size_t unit_end) {
    const size_t nb = cols / kBlock, group_size = nb * kGroupRows * block_bytes(type);
    const size_t act_size = activation_row_bytes(cols), groups = group_count(rows);
    const auto* base = static_cast<const uint8_t*>(packed);
    for (size_t g = unit_begin; g < std::min(unit_end, groups); ++g)
        for (size_t t = 0; t < n_tokens; ++t) {
            const ActivationRow a = activation_row(static_cast<const uint8_t*>(acts) + t * act_size, cols);
            for (size_t i = 0; i < kGroupRows; ++i) {
                float acc = 0.0f;
                for (size_t b = 0; b < nb; ++b) {
                    const uint8_t* gb = base + g * group_size + b * kGroupRows * block_bytes(type);
                    int32_t isum = 0;
                    for (size_t j = 0; j < kBlock; ++j) isum += packed_weight(type, gb, i, j) * a.q[b * kBlock + j];
                    acc = std::fma(f16_at(gb + i * sizeof(uint16_t)) * a.d[b], float(isum), acc);
                }
                y[t * ldy + g * kGroupRows + i] = acc;
            }
        }
    if (unit_end > groups) tail_rows(type, base, rows, cols, static_cast<const uint8_t*>(acts), n_tokens, y, ldy);
}

}  // namespace ref

}  // namespace cwm::kernels
