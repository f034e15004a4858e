#include "quant_k.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "dtype.hpp"

// Bit-exactness with llama.cpp: every float expression below keeps ggml's operand order and
// types (float * int promotes the int), because the quantizers search over candidate scales
// and a one-ulp difference can flip which candidate wins. This file is compiled without FMA
// flags, so no multiply-add is contracted either (ggml-base is built the same way).

namespace cwm::quant {

namespace {

// ggml's nearest_int: adding 1.5 * 2^23 leaves round-to-nearest-even of f in the low mantissa
// bits. Kept (rather than lrintf) so that even out-of-range inputs give llama.cpp's bytes.
int nearest_int(float f) {
    const float v = f + 12582912.0f;
    int32_t i;
    std::memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

// Weighted squared error of x ~ scale * L + min.
float fit_error(const float* x, const float* w, const uint8_t* L, int n, float scale, float min) {
    float error = 0;
    for (int i = 0; i < n; ++i) {
        const float diff = scale * L[i] + min - x[i];
        error += w[i] * (diff * diff);
    }
    return error;
}

// ggml's make_qkx2_quants with Q4_K's settings (32 values, levels 0..15, 21 trial scales
// nmax - 1 .. nmax + 1 over the range): finds L, scale and min (<= 0) minimising the weighted
// error of x ~ scale * L + min, each trial refitting scale and min by weighted least squares.
// Returns the scale; *neg_min receives -min.
float fit_scale_min(const float* x, const float* w, uint8_t* L, float* neg_min) {
    constexpr int n = 32, nmax = 15, nstep = 20;
    constexpr float rmin = -1.0f, rdelta = 0.1f;
    float min = x[0], max = x[0], sum_w = w[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        std::fill(L, L + n, uint8_t(0));
        *neg_min = -min;
        return 0.0f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    for (int i = 0; i < n; ++i) L[i] = uint8_t(std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax));
    float best_error = fit_error(x, w, L, n, scale, min);
    uint8_t trial[n];
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            const int l = std::clamp(nearest_int(iscale * (x[i] - min)), 0, nmax);
            trial[i] = uint8_t(l);
            sum_l += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (!(D > 0)) continue;
        float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
        float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
        if (this_min > 0) {
            this_min = 0;
            this_scale = sum_xl / sum_l2;
        }
        const float error = fit_error(x, w, trial, n, this_scale, this_min);
        if (error < best_error) {
            std::copy(trial, trial + n, L);
            best_error = error;
            scale = this_scale;
            min = this_min;
        }
    }
    *neg_min = -min;
    return scale;
}

// Sums of x^2 * x * l and x^2 * l * l over 16 values quantized with `iscale` to -32..31: the
// x^2-weighted least-squares fit of x ~ scale * l is sumlx / suml2.
struct Fit {
    float sumlx = 0, suml2 = 0;
};
Fit fit_signed(const float* x, float iscale, int8_t* L) {
    constexpr int nmax = 32;
    Fit fit;
    for (int i = 0; i < 16; ++i) {
        const int l = std::clamp(nearest_int(iscale * x[i]), -nmax, nmax - 1);
        if (L) L[i] = int8_t(l + nmax);
        const float w = x[i] * x[i];
        fit.sumlx += w * x[i] * l;
        fit.suml2 += w * l * l;
    }
    return fit;
}

// ggml's make_qx_quants for Q6_K (16 values, levels -32..31, weights x^2): tries 19 scales
// around 32 / max|x| and keeps the one whose least-squares fit explains most of x.
// L receives l + 32. Returns the (signed) scale.
float fit_scale_q6(const float* x, int8_t* L) {
    constexpr int nmax = 32;
    float max = 0, amax = 0;
    for (int i = 0; i < 16; ++i)
        if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
    if (amax < 1e-15f) {  // ggml's GROUP_MAX_EPS
        std::fill(L, L + 16, int8_t(0));
        return 0.0f;
    }
    Fit fit = fit_signed(x, -nmax / max, L);
    float scale = fit.suml2 ? fit.sumlx / fit.suml2 : 0.0f;
    float best = scale * fit.sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        const float iscale = -(nmax + 0.1f * is) / max;
        fit = fit_signed(x, iscale, nullptr);
        if (fit.suml2 > 0 && fit.sumlx * fit.sumlx > best * fit.suml2) {
            fit_signed(x, iscale, L);
            scale = fit.sumlx / fit.suml2;
            best = scale * fit.sumlx;
        }
    }
    return scale;
}

// Stores sub-block j's 6-bit scale and min in Q4_K's packing (see scale_min_q4_k); sub-blocks
// 0-3 must be stored before 4-7, whose top bits are or-ed into bytes 0-7.
void pack_scale_min(uint8_t* scales, int j, uint8_t ls, uint8_t lm) {
    if (j < 4) {
        scales[j] = ls;
        scales[j + 4] = lm;
    } else {
        scales[j + 4] = uint8_t((ls & 0xf) | ((lm & 0xf) << 4));
        scales[j - 4] |= uint8_t((ls >> 4) << 6);
        scales[j] |= uint8_t((lm >> 4) << 6);
    }
}

void quantize_block_q4_k(const float* x, BlockQ4_K& y) {
    uint8_t L[kSuperBlock];
    float weights[32], mins[8], scales[8];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
        const float* v = x + 32 * j;
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += v[l] * v[l];
        // Weighting by rms + |x| favours the large weights without ignoring the small ones.
        const float av_x = std::sqrt(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(v[l]);
        scales[j] = fit_scale_min(v, weights, L + 32 * j, &mins[j]);
        max_scale = std::max(max_scale, scales[j]);
        max_min = std::max(max_min, mins[j]);
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < 8; ++j) {
        const auto ls = uint8_t(std::min(63, int(uint8_t(nearest_int(inv_scale * scales[j])))));
        const auto lm = uint8_t(std::min(63, int(uint8_t(nearest_int(inv_min * mins[j])))));
        pack_scale_min(y.scales, j, ls, lm);
    }
    y.d = f32_to_f16(max_scale / 63.f);
    y.dmin = f32_to_f16(max_min / 63.f);
    // Requantize against the rounded 6-bit scales actually stored.
    for (int j = 0; j < 8; ++j) {
        const ScaleMin sm = scale_min_q4_k(y.scales, j);
        const float d = f16_to_f32(y.d) * sm.scale;
        if (!d) continue;
        const float dm = f16_to_f32(y.dmin) * sm.min;
        for (int i = 0; i < 32; ++i) L[32 * j + i] = uint8_t(std::clamp(nearest_int((x[32 * j + i] + dm) / d), 0, 15));
    }
    for (int g = 0; g < 4; ++g)
        for (int l = 0; l < 32; ++l) y.qs[32 * g + l] = uint8_t(L[64 * g + l] | (L[64 * g + l + 32] << 4));
}

void quantize_block_q6_k(const float* x, BlockQ6_K& y) {
    int8_t L[kSuperBlock];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ++ib) {
        scales[ib] = fit_scale_q6(x + 16 * ib, L + 16 * ib);
        if (std::fabs(scales[ib]) > max_abs_scale) max_abs_scale = std::fabs(scales[ib]), max_scale = scales[ib];
    }
    if (max_abs_scale < 1e-15f) {
        std::memset(&y, 0, sizeof y);
        return;
    }
    const float iscale = -128.f / max_scale;
    y.d = f32_to_f16(1 / iscale);
    for (int ib = 0; ib < 16; ++ib) y.scales[ib] = int8_t(std::min(127, nearest_int(iscale * scales[ib])));
    for (int j = 0; j < 16; ++j) {
        const float d = f16_to_f32(y.d) * y.scales[j];
        if (!d) continue;
        for (int i = 0; i < 16; ++i) L[16 * j + i] = int8_t(std::clamp(nearest_int(x[16 * j + i] / d), -32, 31) + 32);
    }
    // Each 128 values: ql byte l holds values l (low nibble) and l + 64 (high), byte l + 32
    // values l + 32 and l + 96; qh byte l holds the top 2 bits of l, l + 32, l + 64, l + 96.
    for (int h = 0; h < 2; ++h) {
        const int8_t* q = L + 128 * h;
        for (int l = 0; l < 32; ++l) {
            y.ql[64 * h + l] = uint8_t((q[l] & 0xf) | ((q[l + 64] & 0xf) << 4));
            y.ql[64 * h + l + 32] = uint8_t((q[l + 32] & 0xf) | ((q[l + 96] & 0xf) << 4));
            y.qh[32 * h + l] = uint8_t((q[l] >> 4) | ((q[l + 32] >> 4) << 2) | ((q[l + 64] >> 4) << 4) | ((q[l + 96] >> 4) << 6));
        }
    }
}

// Value i (0..255) of a Q4_K block, 0..15.
int q4_level(const BlockQ4_K& b, int i) {
    const uint8_t byte = b.qs[32 * (i / 64) + i % 32];
    return (i % 64) < 32 ? (byte & 0xf) : (byte >> 4);
}

}  // namespace

int q6_level(const BlockQ6_K& b, int i) {
    const int h = i / 128, r = i % 128, l = r % 32, quarter = r / 32;
    const uint8_t low = b.ql[64 * h + l + 32 * (quarter & 1)];
    const int nibble = quarter < 2 ? (low & 0xf) : (low >> 4);
    return nibble | (((b.qh[32 * h + l] >> (2 * quarter)) & 3) << 4);
}

ScaleMin scale_min_q4_k(const uint8_t* q, int j) {
    if (j < 4) return {uint8_t(q[j] & 63), uint8_t(q[j + 4] & 63)};
    return {uint8_t((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4)), uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4))};
}

void dequantize_q4_k(const BlockQ4_K* blocks, size_t n, float* out) {
    for (size_t b = 0; b < n / kSuperBlock; ++b, out += kSuperBlock) {
        const float d = f16_to_f32(blocks[b].d), dmin = f16_to_f32(blocks[b].dmin);
        for (int j = 0; j < 8; ++j) {
            const ScaleMin sm = scale_min_q4_k(blocks[b].scales, j);
            const float dj = d * sm.scale, mj = dmin * sm.min;
            for (int i = 32 * j; i < 32 * j + 32; ++i) out[i] = dj * q4_level(blocks[b], i) - mj;
        }
    }
}

void dequantize_q6_k(const BlockQ6_K* blocks, size_t n, float* out) {
    for (size_t b = 0; b < n / kSuperBlock; ++b, out += kSuperBlock) {
        const float d = f16_to_f32(blocks[b].d);
        for (int i = 0; i < int(kSuperBlock); ++i) out[i] = d * blocks[b].scales[i / 16] * (q6_level(blocks[b], i) - 32);
    }
}

void quantize_q4_k(const float* x, size_t n, BlockQ4_K* out) {
    for (size_t b = 0; b < n / kSuperBlock; ++b) quantize_block_q4_k(x + b * kSuperBlock, out[b]);
}

void quantize_q6_k(const float* x, size_t n, BlockQ6_K* out) {
    for (size_t b = 0; b < n / kSuperBlock; ++b) quantize_block_q6_k(x + b * kSuperBlock, out[b]);
}

void quantize_q8_k(const float* x, size_t n, BlockQ8_K* out) {
    for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock) {
        BlockQ8_K& y = out[b];
        float max = 0, amax = 0;
        for (size_t i = 0; i < kSuperBlock; ++i)
            if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
        if (!amax) {
            std::memset(&y, 0, sizeof y);
            continue;
        }
        // -127, not -128: the extreme maps to -127 whatever its sign, so values fit int8
        // symmetrically (what llama.cpp's SIMD dot products assume).
        const float iscale = -127.f / max;
        for (size_t i = 0; i < kSuperBlock; ++i) y.qs[i] = int8_t(std::min(127, nearest_int(iscale * x[i])));
        for (size_t j = 0; j < kSuperBlock / 16; ++j) {
            int sum = 0;
            for (size_t i = 0; i < 16; ++i) sum += y.qs[16 * j + i];
            y.bsums[j] = int16_t(sum);
        }
        y.d = 1 / iscale;
    }
}

void quantize_row_q8_k(const float* x, size_t n, void* out) { quantize_q8_k(x, n, static_cast<BlockQ8_K*>(out)); }

float dot_q4_k_q8_k_ref(const void* w, const void* a, size_t n) {
    const auto* wb = static_cast<const BlockQ4_K*>(w);
    const auto* ab = static_cast<const BlockQ8_K*>(a);
    float sum = 0;
    for (size_t b = 0; b < n / kSuperBlock; ++b) {
        int32_t sumi = 0, summ = 0;
        for (int j = 0; j < 8; ++j) {
            const ScaleMin sm = scale_min_q4_k(wb[b].scales, j);
            int32_t s = 0;
            for (int i = 32 * j; i < 32 * j + 32; ++i) s += q4_level(wb[b], i) * ab[b].qs[i];
            sumi += sm.scale * s;
            summ += sm.min * (ab[b].bsums[2 * j] + ab[b].bsums[2 * j + 1]);
        }
        sum += f16_to_f32(wb[b].d) * ab[b].d * float(sumi) - f16_to_f32(wb[b].dmin) * ab[b].d * float(summ);
    }
    return sum;
}

float dot_q6_k_q8_k_ref(const void* w, const void* a, size_t n) {
    const auto* wb = static_cast<const BlockQ6_K*>(w);
    const auto* ab = static_cast<const BlockQ8_K*>(a);
    float sum = 0;
    for (size_t b = 0; b < n / kSuperBlock; ++b) {
        int32_t sumi = 0;
        for (int j = 0; j < 16; ++j) {
            int32_t s = 0;
            for (int i = 16 * j; i < 16 * j + 16; ++i) s += (q6_level(wb[b], i) - 32) * ab[b].qs[i];
            sumi += wb[b].scales[j] * s;
        }
        sum += f16_to_f32(wb[b].d) * ab[b].d * float(sumi);
    }
    return sum;
}

}  // namespace cwm::quant
