// Scalar reference kernels: the definition every fast kernel is tested against.
#include <cmath>
#include <vector>

#include "kernels.hpp"
#include "packed_quant.hpp"
#include "quant.hpp"
#include "quant_k.hpp"

namespace cwm::kernels {

namespace {

float element(DType type, const void* row, size_t i) {
    switch (type) {
        case DType::f32: return static_cast<const float*>(row)[i];
        case DType::f16: return f16_to_f32(static_cast<const uint16_t*>(row)[i]);
        case DType::bf16: return bf16_to_f32(static_cast<const uint16_t*>(row)[i]);
        default: return NAN;
    }
}

bool is_block_quantized(DType type) { return type == DType::q8_0 || type == DType::q4_0; }

void dequantize(DType type, const void* row, size_t n, float* out) {
    switch (type) {
        case DType::q8_0: return quant::dequantize_q8_0(static_cast<const quant::BlockQ8_0*>(row), n, out);
        case DType::q4_0: return quant::dequantize_q4_0(static_cast<const quant::BlockQ4_0*>(row), n, out);
        case DType::q4_k: return quant::dequantize_q4_k(static_cast<const quant::BlockQ4_K*>(row), n, out);
        default: return quant::dequantize_q6_k(static_cast<const quant::BlockQ6_K*>(row), n, out);
    }
}

}  // namespace

bool is_k_quant(DType type) { return type == DType::q4_k || type == DType::q6_k; }

bool is_supported_weight_type(DType type) {
    return type == DType::f32 || type == DType::f16 || type == DType::bf16 || is_block_quantized(type) ||
           is_k_quant(type);
}

size_t row_bytes(DType type, size_t cols) {
    const DTypeInfo* info = dtype_info(uint32_t(type));
    return cols / info->block_elems * info->block_bytes;
}

namespace ref {

void row_to_f32(DType type, const void* row, size_t n, float* out) {
    if (is_block_quantized(type) || is_k_quant(type)) return dequantize(type, row, n, out);
    for (size_t i = 0; i < n; ++i) out[i] = element(type, row, i);
}

float dot_row(DType type, const void* row, const float* x, size_t n) {
    double sum = 0.0;
    if (is_block_quantized(type)) {
        const size_t block_bytes = row_bytes(type, quant::kBlock);
        float w[quant::kBlock];
        for (size_t b = 0; b < n / quant::kBlock; ++b) {
            dequantize(type, static_cast<const uint8_t*>(row) + b * block_bytes, quant::kBlock, w);
            for (size_t i = 0; i < quant::kBlock; ++i) sum += double(w[i]) * x[b * quant::kBlock + i];
        }
        return float(sum);
    }
    for (size_t i = 0; i < n; ++i) sum += double(element(type, row, i)) * x[i];
    return float(sum);
}

void round_to_f16(const float* x, size_t n, float* out) {
    for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32(f32_to_f16(x[i]));
}

void matmul(const WeightMatrix& w, const float* x, size_t n_tokens, float* y) {
    if (is_k_quant(w.type)) {
        const size_t act_size = w.cols / quant::kSuperBlock * sizeof(quant::BlockQ8_K);
        std::vector<uint8_t> act(act_size);
        const auto dot = w.type == DType::q4_k ? quant::dot_q4_k_q8_k_ref : quant::dot_q6_k_q8_k_ref;
        for (size_t t = 0; t < n_tokens; ++t) {
            quant::quantize_row_q8_k(x + t * w.cols, w.cols, act.data());
            for (size_t r = 0; r < w.rows; ++r)
                y[t * w.rows + r] = dot(static_cast<const uint8_t*>(w.data) + r * row_bytes(w.type, w.cols),
                                        act.data(), w.cols);
        }
        return;
    }
    if (w.packed) {
        const size_t act_size = activation_row_bytes(w.cols);
        std::vector<uint8_t> acts(n_tokens * act_size);
        for (size_t t = 0; t < n_tokens; ++t) quantize_activation_row(x + t * w.cols, w.cols, acts.data() + t * act_size);
        return matmul_packed(w.type, w.data, w.rows, w.cols, acts.data(), n_tokens, y, w.rows, 0,
                             work_unit_count(w.rows));
    }
    std::vector<float> rounded;
    if (w.type == DType::f16) {  // f16 products take f16-rounded inputs (kernels.hpp)
        rounded.resize(n_tokens * w.cols);
        round_to_f16(x, rounded.size(), rounded.data());
        x = rounded.data();
    }
    const auto* base = static_cast<const uint8_t*>(w.data);
    for (size_t t = 0; t < n_tokens; ++t) {
        for (size_t r = 0; r < w.rows; ++r) {
            const void* row = base + r * row_bytes(w.type, w.cols);
            y[t * w.rows + r] = dot_row(w.type, row, x + t * w.cols, w.cols);
        }
    }
}

void rms_norm(const float* x, const float* weight, size_t n, float eps, float* out) {
    double sum_sq = 0.0;
    for (size_t i = 0; i < n; ++i) sum_sq += double(x[i]) * x[i];
    const float scale = float(1.0 / std::sqrt(sum_sq / double(n) + eps));
    for (size_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void silu_mul(float* gate, const float* up, size_t n) {
    for (size_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace ref
}  // namespace cwm::kernels
