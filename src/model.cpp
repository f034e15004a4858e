#include "model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "error.hpp"
#include "hash.hpp"
#include "packed_k.hpp"
#include "packed_quant.hpp"
#include "thread_pool.hpp"

namespace cwm {

namespace {

std::string shape_string(const std::vector<uint64_t>& ne) {
    std::string s = "{";
    for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "}";
}

const TensorView& tensor(const GgufFile& file, const std::string& name, const std::vector<uint64_t>& ne) {
    const TensorView* t = file.find_tensor(name);
    if (!t) fail(Status::invalid_file, file.path() + ": missing tensor '" + name + "'");
    if (t->ne != ne)
        fail(Status::invalid_file, file.path() + ": tensor '" + name + "' has shape " + shape_string(t->ne) +
                                       ", expected " + shape_string(ne));
    return *t;
}

kernels::WeightMatrix matrix(const GgufFile& file, const std::string& name, uint64_t cols, uint64_t rows) {
    const TensorView& t = tensor(file, name, {cols, rows});
    if (!kernels::is_supported_weight_type(t.type)) {
        const DTypeInfo* info = dtype_info(uint32_t(t.type));
        fail(Status::unsupported, file.path() + ": tensor '" + name + "' has type " +
                                      (info ? info->name : "?") + ", which this build cannot compute with yet");
    }
    return {t.type, t.data, size_t(rows), size_t(cols)};
}

// Small 1-D tensors (norms, RoPE divisors) are widened to f32 once, whatever they are stored as.
std::vector<float> vector_f32(const GgufFile& file, const std::string& name, uint64_t n) {
    const TensorView& t = tensor(file, name, {n});
    if (!kernels::is_supported_weight_type(t.type))
        fail(Status::unsupported, file.path() + ": tensor '" + name + "' must be f32, f16 or bf16");
    std::vector<float> out(n);
    kernels::row_to_f32(t.type, t.data, n, out.data());
    for (float v : out)
        if (!std::isfinite(v)) fail(Status::invalid_file, file.path() + ": tensor '" + name + "' has non-finite values");
    return out;
}

uint64_t fingerprint_of(const GgufFile& file) {
    Fnv1a h;
    for (const TensorView& t : file.tensors()) {
        h.add(t.name.data(), t.name.size());
        h.add_value(t.type);
        for (uint64_t n : t.ne) h.add_value(n);
        const size_t edge = size_t(std::min<uint64_t>(t.n_bytes, 64));
        h.add(t.data, edge);
        h.add(t.data + t.n_bytes - edge, edge);
    }
    return h.value();
}

}  // namespace

std::shared_ptr<const Model> Model::load(const std::string& path, const ModelLoadOptions& options) {
    std::shared_ptr<Model> model(new Model());
    model->file_ = std::make_unique<GgufFile>(path);
    model->config_ = ModelConfig::from_gguf(*model->file_);
    apply_attention_layout(model->config_, options.attention, options.sliding_window);
    model->tokenizer_ = load_tokenizer_gguf(*model->file_);
    model->fingerprint_ = fingerprint_of(*model->file_);
    model->log_ = options.log;
    model->bind_weights(options);
    const ModelConfig& c = model->config_;
    model->log(LogLevel::info, path + ": " + c.arch + ", " + std::to_string(c.n_layer) + " layers (" +
                                   std::to_string(c.n_local_layers()) + " local, window " + std::to_string(c.window) +
                                   "), n_embd " + std::to_string(c.n_embd) + ", vocabulary " +
                                   std::to_string(c.n_vocab) + ", " + std::to_string(model->weight_bytes() >> 20) +
                                   " MiB of weights");
    if (options.repack) model->repack_weights();
    model->log(LogLevel::info, "attention layout: " + describe_attention_layout(c));
    return model;
}

void Model::FreeDeleter::operator()(uint8_t* p) const { std::free(p); }

std::vector<kernels::WeightMatrix*> Model::matrices() {
    std::vector<kernels::WeightMatrix*> all{&output_};
    for (LayerWeights& l : layers_)
        for (kernels::WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) all.push_back(m);
    return all;
}

// The token embedding stays in the file's layout: it is read a row at a time, never multiplied.
void Model::repack_weights() {
    ThreadPool pool(ThreadPool::default_threads());
    std::unordered_map<const void*, const TensorView*> source;  // whose pages to release
    uint64_t packed_bytes = 0;
    for (const TensorView& t : file_->tensors()) source.emplace(t.data, &t);
    for (kernels::WeightMatrix* m : matrices()) {
        const bool k_quant = kernels::is_packable_k(m->type);
        if (!kernels::is_packable(m->type) && !k_quant) continue;
        const auto pack = k_quant ? kernels::pack_k_groups : kernels::pack_groups;
        const size_t bytes = k_quant ? kernels::packed_k_bytes(m->type, m->rows, m->cols)
                                     : kernels::row_bytes(m->type, m->cols) * m->rows;
        PackedBuffer buffer(static_cast<uint8_t*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64)));
        if (!buffer) fail(Status::out_of_memory, "cannot allocate " + std::to_string(bytes) + " bytes to repack weights");
        const size_t groups = kernels::group_count(m->rows);
        pool.parallel_for(std::max<size_t>(groups, 1), [&](size_t begin, size_t end, int) {
            pack(m->type, m->data, m->rows, m->cols, buffer.get(), std::min(begin, groups), std::min(end, groups));
        });
        file_->release(*source.at(m->data));
        m->data = buffer.get();
        m->packed = true;
        packed_.push_back(std::move(buffer));
        packed_bytes += bytes;
    }
    log(LogLevel::info, "kernels: " + std::string(kernels::active_isa()) + "; " + std::to_string(packed_.size()) +
                            " matrices repacked for them (" + std::to_string(packed_bytes >> 20) + " MiB)");
}

void Model::bind_weights(const ModelLoadOptions& options) {
    ModelConfig& c = config_;
    const GgufFile& f = *file_;
    const TensorView* embd = f.find_tensor("token_embd.weight");
    if (!embd || embd->ne.size() != 2)
        fail(Status::invalid_file, f.path() + ": missing 2-D tensor 'token_embd.weight'");
    c.n_vocab = uint32_t(embd->ne[1]);
    if (const GgufValue* v = f.find(c.arch + ".vocab_size"); v && v->as_uint() != c.n_vocab)
        fail(Status::invalid_file, f.path() + ": " + c.arch + ".vocab_size disagrees with token_embd.weight");
    if (tokenizer_->n_vocab() > c.n_vocab)
        fail(Status::invalid_file, f.path() + ": the tokenizer has " + std::to_string(tokenizer_->n_vocab()) +
                                       " tokens but the embedding only " + std::to_string(c.n_vocab));

    const uint64_t q_dim = uint64_t(c.n_head) * c.head_dim, kv_dim = uint64_t(c.n_head_kv) * c.head_dim;
    token_embd_ = matrix(f, "token_embd.weight", c.n_embd, c.n_vocab);
    output_ = matrix(f, "output.weight", c.n_embd, c.n_vocab);
    output_norm_ = vector_f32(f, "output_norm.weight", c.n_embd);
    layers_.resize(c.n_layer);
    for (uint32_t i = 0; i < c.n_layer; ++i) {
        const std::string p = "blk." + std::to_string(i) + ".";
        LayerWeights& l = layers_[i];
        l.attn_norm = vector_f32(f, p + "attn_norm.weight", c.n_embd);
        l.wq = matrix(f, p + "attn_q.weight", c.n_embd, q_dim);
        l.wk = matrix(f, p + "attn_k.weight", c.n_embd, kv_dim);
        l.wv = matrix(f, p + "attn_v.weight", c.n_embd, kv_dim);
        l.wo = matrix(f, p + "attn_output.weight", q_dim, c.n_embd);
        l.ffn_norm = vector_f32(f, p + "ffn_norm.weight", c.n_embd);
        l.w_gate = matrix(f, p + "ffn_gate.weight", c.n_embd, c.n_ff);
        l.w_up = matrix(f, p + "ffn_up.weight", c.n_embd, c.n_ff);
        l.w_down = matrix(f, p + "ffn_down.weight", c.n_ff, c.n_embd);
        if (options.progress && !options.progress(float(i + 1) / float(c.n_layer)))
            fail(Status::cancelled, "model loading cancelled");
    }
    std::vector<float> divisors;
    const bool has_divisors = f.find_tensor("rope_freqs.weight") != nullptr;
    if (has_divisors) divisors = vector_f32(f, "rope_freqs.weight", c.rope_dim / 2);
    rope_inv_freqs_ = cwm::rope_inv_freqs(c, has_divisors ? &divisors : nullptr);
}

uint64_t Model::weight_bytes() const {
    uint64_t total = 0;
    for (const TensorView& t : file_->tensors()) total += t.n_bytes;
    return total;
}

}  // namespace cwm
