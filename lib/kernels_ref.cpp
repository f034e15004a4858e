// Scalar reference kernels: the definition every fast kernel is tested against.
#include <cmath>
#include <vector>

#include "kernels.hpp"

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

size_t element_bytes(DType type) { return type == DType::f32 ? 4 : 2; }

}  // namespace

bool is_supported_weight_type(DType type) {
    return type == DType::f32 || type == DType::f16 || type == DType::bf16;
}

namespace ref {

void row_to_f32(DType type, const void* row, size_t n, float* out) {
    for (size_t i = 0; i < n; ++i) out[i] = element(type, row, i);
}

float dot_row(DType type, const void* row, const float* x, size_t n) {
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += double(element(type, row, i)) * x[i];
    return float(sum);
}

void round_to_f16(const float* x, size_t n, float* out) {
    for (size_t i = 0; i < n; ++i) out[i] = f16_to_f32(f32_to_f16(x[i]));
}

void matmul(const WeightMatrix& w, const float* x, size_t n_tokens, float* y) {
    std::vector<float> rounded;
    if (w.type == DType::f16) {
        rounded.resize(n_tokens * w.cols);
        round_to_f16(x, rounded.size(), rounded.data());
        x = rounded.data();
    }
    const auto* base = static_cast<const uint8_t*>(w.data);
    for (size_t t = 0; t < n_tokens; ++t) {
        for (size_t r = 0; r < w.rows; ++r) {
            const void* row = base + r * w.cols * element_bytes(w.type);
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

float dot_f32_f16(const float* q, const uint16_t* k, size_t n) {
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += double(q[i]) * f16_to_f32(k[i]);
    return float(sum);
}

void axpy_f16(float a, const uint16_t* v, size_t n, float* out) {
    for (size_t i = 0; i < n; ++i) out[i] += a * f16_to_f32(v[i]);
}

}  // namespace ref
}  // namespace cwm::kernels
