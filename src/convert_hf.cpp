#include "convert_hf.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>

#include "error.hpp"
#include "gguf.hpp"
#include "hf_config.hpp"
#include "kernels.hpp"
#include "mapped_file.hpp"
#include "quantize.hpp"
#include "safetensors.hpp"
#include "thread_pool.hpp"
#include "tokenizer.hpp"

namespace cwm {

namespace {

namespace fs = std::filesystem;

// One output tensor: where it comes from and how its rows are reordered.
struct TensorJob {
    std::string gguf_name, hf_name;
    std::vector<uint64_t> shape;  // Hugging Face order: {rows, cols} or {n}
    uint32_t rope_heads = 0;      // q/k: heads whose rows go from rotate-half to interleaved pairs
};

std::vector<TensorJob> tensor_jobs(const HfConfig& hf) {
    const ModelConfig& c = hf.model;
    const uint64_t q = uint64_t(c.n_head) * c.head_dim, kv = uint64_t(c.n_head_kv) * c.head_dim;
    std::vector<TensorJob> jobs{{"token_embd.weight", "model.embed_tokens.weight", {hf.vocab_size, c.n_embd}}};
    for (uint32_t i = 0; i < c.n_layer; ++i) {
        const std::string blk = "blk." + std::to_string(i) + ".", hf_layer = "model.layers." + std::to_string(i) + ".";
        jobs.push_back({blk + "attn_norm.weight", hf_layer + "input_layernorm.weight", {c.n_embd}});
        jobs.push_back({blk + "attn_q.weight", hf_layer + "self_attn.q_proj.weight", {q, c.n_embd}, c.n_head});
        jobs.push_back({blk + "attn_k.weight", hf_layer + "self_attn.k_proj.weight", {kv, c.n_embd}, c.n_head_kv});
        jobs.push_back({blk + "attn_v.weight", hf_layer + "self_attn.v_proj.weight", {kv, c.n_embd}});
        jobs.push_back({blk + "attn_output.weight", hf_layer + "self_attn.o_proj.weight", {c.n_embd, q}});
        jobs.push_back({blk + "ffn_norm.weight", hf_layer + "post_attention_layernorm.weight", {c.n_embd}});
        jobs.push_back({blk + "ffn_gate.weight", hf_layer + "mlp.gate_proj.weight", {c.n_ff, c.n_embd}});
        jobs.push_back({blk + "ffn_up.weight", hf_layer + "mlp.up_proj.weight", {c.n_ff, c.n_embd}});
        jobs.push_back({blk + "ffn_down.weight", hf_layer + "mlp.down_proj.weight", {c.n_embd, c.n_ff}});
    }
    jobs.push_back({"output_norm.weight", "model.norm.weight", {c.n_embd}});
    jobs.push_back({"output.weight", hf.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight",
                    {hf.vocab_size, c.n_embd}});
    return jobs;
}

std::string shape_text(const std::vector<uint64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

DType source_type(const SafetensorsTensor& t, const std::string& path) {
    switch (t.dtype) {
        case SafetensorsDType::bf16: return DType::bf16;
        case SafetensorsDType::f16: return DType::f16;
        case SafetensorsDType::f32: return DType::f32;
        default:
            fail(Status::unsupported, path + ": tensor '" + t.name + "' has dtype " + safetensors_dtype_name(t.dtype) +
                                          " (expected BF16, F16 or F32)");
    }
}

// Every tensor the model needs is present with the right shape and a float dtype, and the
// checkpoint holds nothing else (a tensor this converter would silently drop is an error).
void check_tensors(const SafetensorsCheckpoint& ckpt, const std::vector<TensorJob>& jobs,
                   const ConvertOptions& options) {
    std::set<std::string> wanted;
    for (const TensorJob& job : jobs) {
        const SafetensorsCheckpoint::Entry* entry = ckpt.find(job.hf_name);
        if (!entry) fail(Status::invalid_file, ckpt.directory() + ": the checkpoint has no tensor '" + job.hf_name + "'");
        const SafetensorsTensor* t = entry->tensor;
        if (t->shape != job.shape)
            fail(Status::invalid_file, ckpt.directory() + ": tensor '" + job.hf_name + "' has shape " + shape_text(t->shape) +
                                           ", config.json implies " + shape_text(job.shape));
        source_type(*t, ckpt.directory());
        wanted.insert(job.hf_name);
    }
    for (const std::string& name : ckpt.tensor_names()) {
        if (wanted.count(name)) continue;
        if (name.ends_with("rotary_emb.inv_freq")) {
            if (options.note) options.note("ignored '" + name + "' (RoPE frequencies are computed from config.json)");
            continue;
        }
        fail(Status::unsupported, ckpt.directory() + ": unexpected tensor '" + name + "' (not part of a CWM / Llama model)");
    }
}

void put_model_keys(GgufWriter& w, const HfConfig& hf, const std::string& name) {
    const ModelConfig& c = hf.model;
    const auto u32 = [&](const std::string& key, uint64_t v) { w.set("cwm." + key, GgufValue::from_uint(GgufType::u32, v)); };
    const auto f32 = [&](const std::string& key, double v) { w.set("cwm." + key, GgufValue::from_float(GgufType::f32, v)); };
    w.set("general.architecture", GgufValue::from_string("cwm"));
    w.set("general.name", GgufValue::from_string(name));
    u32("block_count", c.n_layer);
    u32("context_length", c.n_ctx_train);
    u32("embedding_length", c.n_embd);
    u32("feed_forward_length", c.n_ff);
    u32("attention.head_count", c.n_head);
    u32("attention.head_count_kv", c.n_head_kv);
    u32("attention.key_length", c.head_dim);
    u32("attention.value_length", c.head_dim);
    f32("attention.layer_norm_rms_epsilon", c.rms_eps);
    u32("vocab_size", hf.vocab_size);
    f32("rope.freq_base", c.rope_theta);
    u32("rope.dimension_count", c.rope_dim);
    const RopeScaling& s = c.rope_scaling;
    if (s.kind != RopeScaling::Kind::none) {
        w.set("cwm.rope.scaling.type", GgufValue::from_string(s.kind == RopeScaling::Kind::llama3 ? "llama3" : "linear"));
        f32("rope.scaling.factor", s.factor);
    }
    if (s.kind == RopeScaling::Kind::llama3) {
        f32("rope.scaling.low_freq_factor", s.low_freq_factor);
        f32("rope.scaling.high_freq_factor", s.high_freq_factor);
        u32("rope.scaling.original_context_length", s.original_context);
    }
    // q/k rows are permuted to interleaved pairs, so the tensors equal llama.cpp's conversion.
    w.set("cwm.rope.pair_layout", GgufValue::from_string("interleaved"));
    u32("attention.sliding_window", c.window);
    std::vector<GgufValue> pattern;
    for (bool local : c.layer_is_local) pattern.push_back(GgufValue::from_bool(local));
    w.set("cwm.attention.sliding_window_pattern", GgufValue::from_array(GgufType::boolean, std::move(pattern)));
}

// The source row of output row r: within each head, HF keeps the pairs (i, i + d/2) of
// rotate-half RoPE; interleaved RoPE wants them at (2i, 2i + 1), as llama.cpp's converter
// permutes them.
uint64_t source_row(uint64_t r, uint64_t head_dim) {
    const uint64_t head = r / head_dim, j = r % head_dim;
    return head * head_dim + (j % 2) * (head_dim / 2) + j / 2;
}

class Converter {
public:
    Converter(const ConvertOptions& options, uint64_t total)
        : options_(options), pool_(options.n_threads > 0 ? options.n_threads : ThreadPool::default_threads()),
          total_(total) {}

    // Fills dst with the job's tensor in `type`, a band of rows at a time: progress and
    // cancellation stay responsive and the source pages already used leave memory early.
    void fill(const SafetensorsTensor& t, const TensorJob& job, DType type, uint8_t* dst) {
        const DType from = source_type(t, "");
        const uint64_t rows = job.shape.size() == 2 ? job.shape[0] : 1, cols = job.shape.back();
        const uint64_t src_row = kernels::row_bytes(from, cols), dst_row = kernels::row_bytes(type, cols);
        const uint64_t head_dim = job.rope_heads ? rows / job.rope_heads : 1;
        // Bands are whole heads, so a band's rows come from the band's own source rows.
        const uint64_t band = std::max<uint64_t>(1, (uint64_t(16) << 20) / std::max<uint64_t>(src_row, 1) / head_dim) * head_dim;
        for (uint64_t begin = 0; begin < rows; begin += band) {
            const uint64_t n = std::min(band, rows - begin);
            encode_rows(type, n, cols, [&](size_t r, float* out) {
                const uint64_t row = begin + r, from_row = job.rope_heads ? source_row(row, head_dim) : row;
                // safetensors does not align tensors: the row is copied before it is read typed.
                thread_local std::vector<uint8_t> aligned;
                aligned.resize(src_row);
                std::memcpy(aligned.data(), t.data + from_row * src_row, src_row);
                kernels::row_to_f32(from, aligned.data(), cols, out);
            }, dst + begin * dst_row, pool_);
            drop_resident_pages(t.data + begin * src_row, n * src_row);
            report(n * dst_row);
        }
    }

private:
    void report(uint64_t bytes) {
        done_ += bytes;
        if (options_.progress && !options_.progress(done_, total_)) fail(Status::cancelled, "conversion cancelled");
    }

    const ConvertOptions& options_;
    ThreadPool pool_;
    uint64_t total_, done_ = 0;
};

}  // namespace

void convert_hf_checkpoint(const std::string& dir, const std::string& output, const ConvertOptions& options) {
    const HfConfig hf = read_hf_config((fs::path(dir) / "config.json").string());
    const auto note = [&](const std::string& line) { if (options.note) options.note(line); };
    for (const std::string& line : hf.defaults) note("config.json " + line);
    const SafetensorsCheckpoint ckpt(dir);
    const std::vector<TensorJob> jobs = tensor_jobs(hf);
    check_tensors(ckpt, jobs, options);
    if (hf.tie_word_embeddings) note("tie_word_embeddings: output.weight written as a copy of the embedding");

    GgufWriter writer;
    fs::path name = fs::path(dir).lexically_normal();
    if (name.filename().empty()) name = name.parent_path();  // "cwm-hf/" names "cwm-hf"
    put_model_keys(writer, hf, name.filename().string());
    for (const std::string& line : put_hf_tokenizer(writer, dir, hf.vocab_size)) note(line);

    QuantModelFacts facts{"cwm", hf.model.n_layer, hf.model.n_head, hf.model.n_head_kv, {}};
    for (const TensorJob& job : jobs) facts.tensor_names.push_back(job.gguf_name);
    QuantPlan plan(options.type, facts);
    uint64_t total = 0;
    std::vector<DType> types;
    for (const TensorJob& job : jobs) {
        const std::vector<uint64_t> ne(job.shape.rbegin(), job.shape.rend());
        const DType from = source_type(*ckpt.find(job.hf_name)->tensor, dir);
        types.push_back(ne.size() == 2 ? plan.type_for(job.gguf_name, from, ne) : DType::f32);
        total += tensor_bytes(types.back(), ne);
    }
    Converter converter(options, total);
    for (size_t i = 0; i < jobs.size(); ++i) {
        const TensorJob& job = jobs[i];
        const SafetensorsTensor& t = *ckpt.find(job.hf_name)->tensor;
        writer.add_tensor(job.gguf_name, types[i], {job.shape.rbegin(), job.shape.rend()},
                          [&converter, &t, &job, type = types[i]](uint8_t* dst) { converter.fill(t, job, type, dst); });
    }
    writer.write(output);
}

}  // namespace cwm
