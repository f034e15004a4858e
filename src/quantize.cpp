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

bool is_float(DType type) { return type == DType::f32 || type == DType::f16 || type == DType::bf16; }

bool is_weight_matrix(const std::string& name, const std::vector<uint64_t>& ne) {
    return ne.size() == 2 && name.size() > 7 && name.ends_with(".weight");
}

uint64_t metadata_uint(const GgufFile& f, const std::string& key, uint64_t fallback) {
    const GgufValue* v = f.find(key);
    return v ? v->as_uint() : fallback;
}

// Rows that are not a whole number of 256-value super-blocks: llama.cpp turns Q6_K into Q8_0
// and Q4_K into Q5_0, which this project does not implement: Q8_0 there too (larger, closer).
DType fallback(DType type, uint64_t cols) {
    return (type == DType::q4_k || type == DType::q6_k) && cols % quant::kSuperBlock != 0 ? DType::q8_0 : type;
}

void encode_row(DType type, const float* x, size_t n, uint8_t* out) {
    switch (type) {
        case DType::f32: return void(std::memcpy(out, x, n * sizeof(float)));
        case DType::f16:
            for (size_t i = 0; i < n; ++i) reinterpret_cast<uint16_t*>(out)[i] = f32_to_f16(x[i]);
            return;
        case DType::bf16:
            for (size_t i = 0; i < n; ++i) reinterpret_cast<uint16_t*>(out)[i] = f32_to_bf16(x[i]);
            return;
        case DType::q8_0: return quant::quantize_q8_0(x, n, reinterpret_cast<quant::BlockQ8_0*>(out));
        case DType::q4_0: return quant::quantize_q4_0(x, n, reinterpret_cast<quant::BlockQ4_0*>(out));
        case DType::q4_k: return quant::quantize_q4_k(x, n, reinterpret_cast<quant::BlockQ4_K*>(out));
        case DType::q6_k: return quant::quantize_q6_k(x, n, reinterpret_cast<quant::BlockQ6_K*>(out));
        default: fail(Status::internal, "encode_row: no encoder for this type");
    }
}

QuantModelFacts facts_of(const GgufFile& source) {
    QuantModelFacts facts;
    const GgufValue* arch = source.find("general.architecture");
    facts.arch = arch ? arch->as_string() : "";
    const std::string prefix = facts.arch.empty() ? "" : facts.arch + ".";
    facts.n_layer = uint32_t(metadata_uint(source, prefix + "block_count", 0));
    facts.n_head = uint32_t(metadata_uint(source, prefix + "attention.head_count", 0));
    facts.n_head_kv = uint32_t(metadata_uint(source, prefix + "attention.head_count_kv", facts.n_head));
    for (const TensorView& t : source.tensors()) facts.tensor_names.push_back(t.name);
    return facts;
}

}  // namespace

// llama.cpp's Q4_K_M tensor-type choice (llama_tensor_get_type in llama-quant.cpp) for dense
// models. Its counters advance in file order, as llama.cpp's do.
class QuantPlan::KMix {
public:
    explicit KMix(const QuantModelFacts& facts) : n_layer_(int(facts.n_layer)) {
        for (const std::string& name : facts.tensor_names) {
            if (name.find("attn_v.weight") != std::string::npos || name.find("attn_qkv.weight") != std::string::npos)
                ++n_attn_v_;
            if (name == "output.weight") tied_ = false;
        }
        // llama.cpp's "70B" (80 layers with grouped-query attention) gives the other attn_v Q5_K.
        llama_70b_ = facts.arch == "llama" && n_layer_ == 80 && facts.n_head_kv != facts.n_head;
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

QuantPlan::QuantPlan(DType target, const QuantModelFacts& facts) : target_(target) {
    const bool block_type = target == DType::q8_0 || target == DType::q4_0 || target == DType::q4_k;
    if (!block_type && !is_float(target))
        fail(Status::invalid_argument, "the target type must be f32, f16, bf16, q8_0, q4_0 or q4_k (the Q4_K_M mix)");
    if (target == DType::q4_k) mix_ = std::make_unique<KMix>(facts);
}

QuantPlan::~QuantPlan() = default;

DType QuantPlan::type_for(const std::string& name, DType source, const std::vector<uint64_t>& ne) {
    if (!is_weight_matrix(name, ne) || !is_float(source)) return source;
    if (is_float(target_)) return target_;
    if (ne[0] % quant::kBlock != 0) return source;
    return mix_ ? fallback(mix_->choose(name), ne[0]) : target_;
}

void encode_rows(DType type, size_t rows, size_t cols, const RowSource& row, uint8_t* dst, ThreadPool& pool) {
    const size_t dst_row = kernels::row_bytes(type, cols);
    pool.parallel_for(rows, [&](size_t begin, size_t end, int) {
        std::vector<float> values(cols);
        for (size_t r = begin; r < end; ++r) {
            row(r, values.data());
            encode_row(type, values.data(), cols, dst + r * dst_row);
        }
    });
}

void quantize_model(const std::string& input, const std::string& output, const QuantizeOptions& options) {
    if (options.type != DType::q8_0 && options.type != DType::q4_0 && options.type != DType::q4_k)
        fail(Status::invalid_argument, "quantize: the target type must be q8_0, q4_0 or q4_k (the Q4_K_M mix)");
    const GgufFile source(input);
    ThreadPool pool(options.n_threads > 0 ? options.n_threads : ThreadPool::default_threads());
    GgufWriter writer(source.alignment());
    for (const auto& [key, value] : source.metadata()) writer.set(key, value);
    writer.set("general.file_type", GgufValue::from_uint(GgufType::u32, file_type_of(options.type)));
    QuantPlan plan(options.type, facts_of(source));
    for (const TensorView& t : source.tensors()) {
        const DType type = plan.type_for(t.name, t.type, t.ne);
        if (type == t.type) {
            writer.add_tensor(t.name, t.type, t.ne, t.data);
            continue;
        }
        writer.add_tensor(t.name, type, t.ne, [&t, type, &pool](uint8_t* dst) {
            const size_t cols = t.ne[0], src_row = kernels::row_bytes(t.type, cols);
            encode_rows(type, t.ne[1], cols,
                        [&](size_t r, float* out) { kernels::row_to_f32(t.type, t.data + r * src_row, cols, out); },
                        dst, pool);
        });
    }
    size_t done = 0;
    const size_t count = source.tensors().size();
    writer.write(output, [&](uint64_t bytes, uint64_t total) {
        if (options.progress && !options.progress(++done, count, bytes, total))
            fail(Status::cancelled, "quantization cancelled");
    });
}

}  // namespace cwm
