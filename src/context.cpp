#include "context.hpp"

#include <algorithm>
#include <cmath>

#include "error.hpp"

namespace cwm {

Context::Context(std::shared_ptr<const Model> model, const ContextOptions& options)
    : model_(std::move(model)),
      pool_(options.n_threads > 0 ? options.n_threads : ThreadPool::default_threads()),
      cache_(model_->config(), options.n_ctx ? options.n_ctx : model_->config().n_ctx_train,
             std::max<uint32_t>(1, options.n_batch)),
      n_batch_(std::max<uint32_t>(1, options.n_batch)) {
    const ModelConfig& c = model_->config();
    const size_t n = n_batch_;
    const size_t q_dim = size_t(c.n_head) * c.head_dim, kv_dim = size_t(c.n_head_kv) * c.head_dim;
    x_.resize(n * c.n_embd);
    norm_.resize(n * c.n_embd);
    q_.resize(n * q_dim);
    attn_.resize(n * q_dim);
    k_.resize(n * kv_dim);
    v_.resize(n * kv_dim);
    k16_.resize(n * kv_dim);
    v16_.resize(n * kv_dim);
    gate_.resize(n * c.n_ff);
    up_.resize(n * c.n_ff);
    model_->log(LogLevel::info, "context: " + std::to_string(n_ctx()) + " tokens, KV cache " +
                                    std::to_string(cache_.bytes() >> 20) + " MiB reserved, " +
                                    std::to_string(n_threads()) + " threads, batches of " + std::to_string(n_batch_));
}

std::span<const float> Context::decode(std::span<const Token> tokens, size_t n_logits) {
    const ModelConfig& c = model_->config();
    logits_.clear();
    if (n_logits > tokens.size())
        fail(Status::invalid_argument, "asked for logits of " + std::to_string(n_logits) + " tokens out of " +
                                           std::to_string(tokens.size()));
    if (tokens.size() > size_t(n_ctx() - n_past()))
        fail(Status::context_full, "the context holds " + std::to_string(n_ctx()) + " tokens; " +
                                       std::to_string(n_past()) + " are used and " + std::to_string(tokens.size()) +
                                       " more do not fit");
    for (size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i] < 0 || uint32_t(tokens[i]) >= c.n_vocab)
            fail(Status::invalid_argument, "token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                                               " is outside the vocabulary (0.." + std::to_string(c.n_vocab - 1) + ")");
    logits_.resize(n_logits * c.n_vocab);
    try {
        for (size_t done = 0; done < tokens.size(); done += n_batch_) {
            const size_t n = std::min<size_t>(n_batch_, tokens.size() - done);
            const size_t first_logit = tokens.size() - n_logits;  // index of the first token with logits
            const size_t out_begin = std::max(first_logit, done);
            const size_t n_out = done + n > out_begin ? done + n - out_begin : 0;
            forward(tokens.subspan(done, n), n_out, logits_.data() + (out_begin - first_logit) * c.n_vocab);
        }
    } catch (const Error& e) {
        // A cancelled batch wrote at most n_batch positions, which the rings' slack absorbs.
        e.status() == Status::cancelled ? logits_.clear() : clear();
        throw;
    } catch (...) {
        // A failure mid-evaluation (out of memory) may have overwritten ring slots that
        // earlier positions still need, so the only consistent state left is an empty one.
        clear();
        throw;
    }
    return {logits_.data(), logits_.size()};
}

void Context::forward(std::span<const Token> tokens, size_t n_logits, float* logits) {
    const Model& m = *model_;
    const ModelConfig& c = m.config();
    const uint32_t n = uint32_t(tokens.size());
    pos0_ = n_past();
    const kernels::WeightMatrix& e = m.token_embedding();
    const size_t row_bytes = kernels::row_bytes(e.type, e.cols);
    for (uint32_t t = 0; t < n; ++t)
        kernels::row_to_f32(e.type, static_cast<const uint8_t*>(e.data) + size_t(tokens[t]) * row_bytes, e.cols,
                            x_.data() + size_t(t) * c.n_embd);
    prepare_rope(n);
    for (uint32_t layer = 0; layer < c.n_layer; ++layer) {
        check_cancel();
        attention_block(layer, n);
        ffn_block(layer, n);
    }
    tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
    if (n_logits == 0) return;
    normalize(m.output_norm(), uint32_t(n - n_logits), n);
    input_.reset(norm_.data(), n_logits, c.n_embd);
    kernels::matmul(m.output(), input_, logits, pool_);
}

void Context::check_cancel() {
    if (cancel_requested_.exchange(false, std::memory_order_relaxed))
        fail(Status::cancelled, "evaluation cancelled after " + std::to_string(n_past()) + " tokens");
}

void Context::truncate(uint32_t n) {
    if (n > n_past())
        fail(Status::invalid_argument, "cannot truncate to " + std::to_string(n) + " tokens: only " +
                                           std::to_string(n_past()) + " are evaluated");
    if (n_past() - n > max_rewind())
        fail(Status::invalid_argument,
             "cannot go back " + std::to_string(n_past() - n) + " tokens: the sliding-window layers keep " +
                 std::to_string(max_rewind()) + " (n_batch) beyond their window; save and restore the state instead");
    tokens_.resize(n);
    logits_.clear();
}

template <class Fn>
void Context::for_each_token(uint32_t n, Fn fn) {
    // A few chunks per thread, so that a thread held up by another process is not waited for.
    const size_t grain = n / (4 * size_t(pool_.n_threads())) + 1;
    pool_.parallel_for_dynamic(n, grain, [&](size_t begin, size_t end, int) {
        for (size_t t = begin; t < end; ++t) fn(uint32_t(t));
    });
}

void Context::normalize(const std::vector<float>& weight, uint32_t first, uint32_t end) {
    const ModelConfig& c = model_->config();
    for_each_token(end - first, [&](uint32_t i) {
        kernels::rms_norm(x_.data() + size_t(first + i) * c.n_embd, weight.data(), c.n_embd, c.rms_eps,
                          norm_.data() + size_t(i) * c.n_embd);
    });
}

void Context::add_residual(uint32_t n) {
    const size_t n_embd = model_->config().n_embd;
    for_each_token(n, [&](uint32_t t) {
        float* x = x_.data() + t * n_embd;
        const float* delta = norm_.data() + t * n_embd;
        for (size_t i = 0; i < n_embd; ++i) x[i] += delta[i];
    });
}

void Context::attention_block(uint32_t layer, uint32_t n) {
    const ModelConfig& c = model_->config();
    const LayerWeights& w = model_->layers()[layer];
    normalize(w.attn_norm, 0, n);
    input_.reset(norm_.data(), n, c.n_embd);
    const kernels::Product qkv[] = {{&w.wq, q_.data()}, {&w.wk, k_.data()}, {&w.wv, v_.data()}};
    kernels::matmul(qkv, input_, pool_);
    const size_t kv_dim = cache_.row_size();
    for_each_token(n, [&](uint32_t t) {
        apply_rope(q_.data() + size_t(t) * c.n_head * c.head_dim, t, c.n_head);
        apply_rope(k_.data() + t * kv_dim, t, c.n_head_kv);
        kernels::f32_to_f16_row(k_.data() + t * kv_dim, kv_dim, k16_.data() + t * kv_dim);
        kernels::f32_to_f16_row(v_.data() + t * kv_dim, kv_dim, v16_.data() + t * kv_dim);
    });

    const bool local = c.layer_is_local[layer];
    const AttentionBatch batch{q_.data(), k16_.data(), v16_.data(), cache_.key(layer, 0), cache_.value(layer, 0),
                               cache_.capacity(layer), n, pos0_, c.n_head, c.n_head_kv, c.head_dim,
                               local ? c.window : 0};
    attention(batch, attn_.data(), attention_scratch_, pool_);

    // Only the last `capacity` positions of the batch can still be needed later.
    const uint32_t keep = std::min(n, cache_.capacity(layer));
    for (uint32_t t = n - keep; t < n; ++t) {
        std::copy_n(k16_.data() + size_t(t) * kv_dim, kv_dim, cache_.key(layer, pos0_ + t));
        std::copy_n(v16_.data() + size_t(t) * kv_dim, kv_dim, cache_.value(layer, pos0_ + t));
    }
    input_.reset(attn_.data(), n, size_t(c.n_head) * c.head_dim);
    kernels::matmul(w.wo, input_, norm_.data(), pool_);
    add_residual(n);
}

void Context::ffn_block(uint32_t layer, uint32_t n) {
    const ModelConfig& c = model_->config();
    const LayerWeights& w = model_->layers()[layer];
    normalize(w.ffn_norm, 0, n);
    input_.reset(norm_.data(), n, c.n_embd);
    const kernels::Product gate_up[] = {{&w.w_gate, gate_.data()}, {&w.w_up, up_.data()}};
    kernels::matmul(gate_up, input_, pool_);
    for_each_token(n, [&](uint32_t t) {
        kernels::silu_mul(gate_.data() + size_t(t) * c.n_ff, up_.data() + size_t(t) * c.n_ff, c.n_ff);
    });
    input_.reset(gate_.data(), n, c.n_ff);
    kernels::matmul(w.w_down, input_, norm_.data(), pool_);
    add_residual(n);
}

void Context::prepare_rope(uint32_t n) {
    const std::vector<double>& inv = model_->rope_inv_freqs();
    rope_cos_.resize(size_t(n) * inv.size());
    rope_sin_.resize(size_t(n) * inv.size());
    for (uint32_t t = 0; t < n; ++t)
        for (size_t i = 0; i < inv.size(); ++i) {
            const double angle = double(pos0_ + t) * inv[i];
            rope_cos_[t * inv.size() + i] = float(std::cos(angle));
            rope_sin_[t * inv.size() + i] = float(std::sin(angle));
        }
}

void Context::apply_rope(float* x, uint32_t t, uint32_t n_heads) {
    const ModelConfig& c = model_->config();
    const size_t half = c.rope_dim / 2;
    // Interleaved rotates (2i, 2i+1); rotate-half rotates (i, i + rope_dim/2).
    const bool interleaved = c.pair_layout == RopePairLayout::interleaved;
    const float* cs = rope_cos_.data() + t * half;
    const float* sn = rope_sin_.data() + t * half;
    for (uint32_t h = 0; h < n_heads; ++h) {
        float* v = x + size_t(h) * c.head_dim;
        for (size_t i = 0; i < half; ++i) {
            float& a = v[interleaved ? 2 * i : i];
            float& b = v[interleaved ? 2 * i + 1 : i + half];
            const float a0 = a, b0 = b;
            a = a0 * cs[i] - b0 * sn[i];
            b = a0 * sn[i] + b0 * cs[i];
        }
    }
}

}  // namespace cwm
