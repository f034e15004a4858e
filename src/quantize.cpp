#include "quantize.hpp"

#include <vector>

#include "error.hpp"
#include "gguf.hpp"
#include "kernels.hpp"
#include "quant.hpp"
#include "quant_k.hpp"
#include "thread_pool.hpp"

namespace cwm {

namespace {

// llama.cpp's `general.file_type` values: MOSTLY_Q8_0, MOSTLY_Q4_0, MOSTLY_Q4_K_M.
uint32_t file_type_of(DType type) { return type == DType::q8_0 ? 7 : type == DType::q4_0 ? 2 : 15; }

bool quantizable(const TensorView& t) {
    const bool matrix = t.ne.size() == 2 && t.name.size() > 7 && t.name.ends_with(".weight");
    const bool float_type = t.type == DType::f32 || t.type == DType::f16 || t.type == DType::bf16;
    return matrix && float_type && t.ne[0] % quant::kBlock == 0;
}

uint64_t metadata_uint(const GgufFile& f, const std::string& key, uint64_t fallback) {
    const GgufValue* v = f.find(key);
    return v ? v->as_uint() : fallback;
}

// llama.cpp's Q4_K_M tensor-type choice (llama_tensor_get_type in llama-quant.cpp) for dense
// models. Its counters advance in file order, as llama.cpp's do.
class KMix {
public:
    explicit KMix(const GgufFile& source) {
        for (const TensorView& t : source.tensors()) {
            if (t.name.find("attn_v.weight") != std::string::npos || t.name.find("attn_qkv.weight") != std::string::npos)
                ++n_attn_v_;
            if (t.name == "output.weight") tied_ = false;
        }
        const GgufValue* arch = source.find("general.architecture");
        const std::string prefix = arch ? arch->as_string() + "." : "";
        n_layer_ = int(metadata_uint(source, prefix + "block_count", 0));
        // llama.cpp's "70B" (80 layers with grouped-query attention) gives the other attn_v Q5_K.
        const uint64_t heads = metadata_uint(source, prefix + "attention.head_count", 0);
        llama_70b_ = arch && arch->as_string() == "llama" && n_layer_ == 80 &&
                     metadata_uint(source, prefix + "attention.head_count_kv", heads) != heads;
    }

    // The type for a quantizable tensor, before the row-length fallback.
    DType choose(const std::string& name) {
        if (name == "output.weight" || (tied_ && name == "token_embd.weight")) return DType::q6_k;
        if (name.find("attn_qkv.weight") != std::string::npos) return (++i_attn_v_, DType::q6_k);  // llama.cpp: Q5_K
        if (name.find("attn_v.weight") != std::string::npos) {
            const bool more = more_bits(i_attn_v_++, n_attn_v_);
            return more || llama_70b_ ? DType::q6_k : DType::q4_k;  // 70B: llama.cpp uses Q5_K
        }
        if (name.find("ffn_down") != std::string::npos) return more_bits(i_ffn_down_++, n_layer_) ? DType::q6_k : DType::q4_k;
        return DType::q4_k;
    }

private:
    // The first and last eighth of the layers and every third in between.
    static bool more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

    int n_attn_v_ = 0, i_attn_v_ = 0, n_layer_ = 0, i_ffn_down_ = 0;
    bool tied_ = true, llama_70b_ = false;
};

// Rows that are not a whole number of 256-value super-blocks: llama.cpp turns Q6_K into Q8_0
// and Q4_K into Q5_0, which this project does not implement: Q8_0 there too (larger, closer).
DType fallback(DType type, uint64_t cols) {
    return (type == DType::q4_k || type == DType::q6_k) && cols % quant::kSuperBlock != 0 ? DType::q8_0 : type;
}

void quantize_row(DType type, const float* x, size_t n, uint8_t* out) {
    switch (type) {
        case DType::q8_0: return quant::quantize_q8_0(x, n, reinterpret_cast<quant::BlockQ8_0*>(out));
        case DType::q4_0: return quant::quantize_q4_0(x, n, reinterpret_cast<quant::BlockQ4_0*>(out));
        case DType::q4_k: return quant::quantize_q4_k(x, n, reinterpret_cast<quant::BlockQ4_K*>(out));
        case DType::q6_k: return quant::quantize_q6_k(x, n, reinterpret_cast<quant::BlockQ6_K*>(out));
        default: fail(Status::internal, "quantize: no quantizer for this type");
    }
}

// Quantizes the rows of `t` into `dst` (ggml's block layout, rows one after another).
void quantize_rows(const TensorView& t, DType type, uint8_t* dst, ThreadPool& pool) {
    const size_t cols = t.ne[0], rows = t.ne[1];
    const size_t src_row = kernels::row_bytes(t.type, cols), dst_row = kernels::row_bytes(type, cols);
    pool.parallel_for(rows, [&](size_t begin, size_t end, int) {
        std::vector<float> row(cols);
        for (size_t r = begin; r < end; ++r) {
            kernels::row_to_f32(t.type, t.data + r * src_row, cols, row.data());
            quantize_row(type, row.data(), cols, dst + r * dst_row);
        }
    });
}

}  // namespace

void quantize_model(const std::string& input, const std::string& output, const QuantizeOptions& options) {
    if (options.type != DType::q8_0 && options.type != DType::q4_0 && options.type != DType::q4_k)
        fail(Status::invalid_argument, "quantize: the target type must be q8_0, q4_0 or q4_k (the Q4_K_M mix)");
    const GgufFile source(input);
    ThreadPool pool(options.n_threads > 0 ? options.n_threads : ThreadPool::default_threads());
    GgufWriter writer(source.alignment());
    for (const auto& [key, value] : source.metadata()) writer.set(key, value);
    writer.set("general.file_type", GgufValue::from_uint(GgufType::u32, file_type_of(options.type)));
    KMix mix(source);
    for (const TensorView& t : source.tensors()) {
        if (!quantizable(t)) {
            writer.add_tensor(t.name, t.type, t.ne, t.data);
            continue;
        }
        const DType type = options.type == DType::q4_k ? fallback(mix.choose(t.name), t.ne[0]) : options.type;
        writer.add_tensor(t.name, type, t.ne, [&t, type, &pool](uint8_t* dst) { quantize_rows(t, type, dst, pool); });
    }
    size_t done = 0;
    const size_t count = source.tensors().size();
    writer.write(output, [&](uint64_t bytes, uint64_t total) {
        if (options.progress && !options.progress(++done, count, bytes, total))
            fail(Status::cancelled, "quantization cancelled");
    });
}

}  // namespace cwm
