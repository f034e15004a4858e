// An evaluation context: one sequence's KV cache, a thread pool and scratch buffers over a
// shared model. One context must be used by one thread at a time (except request_cancel);
// different contexts on the same model are independent.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "attention.hpp"
#include "kv_cache.hpp"
#include "model.hpp"
#include "thread_pool.hpp"

namespace cwm {

struct ContextOptions {
    uint32_t n_ctx = 0;      // 0: the model's training context
    int n_threads = 0;       // 0: one per physical core
    uint32_t n_batch = 512;  // tokens evaluated per forward pass; longer inputs are split
};

class Context {
public:
    Context(std::shared_ptr<const Model> model, const ContextOptions& options);

    // Appends `tokens` at positions n_past() .. and returns the logits of the last `n_logits`
    // of them, row-major [n_logits][n_vocab], valid until the next call. Throws
    // Error(context_full) if they do not fit and Error(invalid_argument) for an id outside
    // the vocabulary or n_logits > tokens.size(); those leave the context unchanged.
    // request_cancel() from another thread during the call makes it throw Error(cancelled)
    // after the layer being computed: the tokens of the batches already finished (n_batch
    // tokens each) stay evaluated, the rest are not. A failure during evaluation itself (out of
    // memory) leaves the context cleared.
    std::span<const float> decode(std::span<const Token> tokens, size_t n_logits);

    // Cancellation of one caller-visible operation (a decode, a whole generation):
    // begin_operation() forgets earlier requests; request_cancel(), safe from any thread, makes
    // the running decode (see above) or the next check_cancel() throw Error(cancelled).
    void begin_operation() { cancel_requested_.store(false, std::memory_order_relaxed); }
    void request_cancel() { cancel_requested_.store(true, std::memory_order_relaxed); }
    void check_cancel();

    void clear() {
        tokens_.clear();
        logits_.clear();
    }
    // Forgets the tokens after the first n (n <= n_past()). Throws Error(invalid_argument) when
    // a sliding-window layer no longer holds keys the shorter sequence needs: at least
    // n_batch tokens can always be taken back (max_rewind()).
    void truncate(uint32_t n);
    uint32_t max_rewind() const { return cache_.max_rewind(n_past()); }
    uint32_t n_past() const { return uint32_t(tokens_.size()); }
    // The logits rows of the last decode (empty after a failed one or a state change).
    std::span<const float> logits() const { return logits_; }
    // The evaluated tokens, in order.
    std::span<const Token> tokens() const { return tokens_; }
    uint32_t n_ctx() const { return cache_.n_ctx(); }
    int n_threads() const { return pool_.n_threads(); }
    const Model& model() const { return *model_; }
    const KvCache& cache() const { return cache_; }
    KvCache& cache() { return cache_; }
    // For restoring a saved state (context_state.hpp): the tokens its KV rows belong to.
    void set_tokens(std::vector<Token> tokens, std::vector<float> logits) {
        tokens_ = std::move(tokens);
        logits_ = std::move(logits);
    }

private:
    void forward(std::span<const Token> tokens, size_t n_logits, float* logits);
    // norm_[t - first] = RMSNorm(x_[t]) * weight for first <= t < end.
    void normalize(const std::vector<float>& weight, uint32_t first, uint32_t end);
    void attention_block(uint32_t layer, uint32_t n);
    void ffn_block(uint32_t layer, uint32_t n);
    // Rotates the n_heads heads at x, of batch token t.
    void apply_rope(float* x, uint32_t t, uint32_t n_heads);
    // x_ += norm_ for the first n tokens.
    void add_residual(uint32_t n);
    // fn(t) for t < n, tokens split across the pool's threads (element-wise work only).
    template <class Fn>
    void for_each_token(uint32_t n, Fn fn);
    void prepare_rope(uint32_t n);

    std::shared_ptr<const Model> model_;
    ThreadPool pool_;
    KvCache cache_;
    uint32_t n_batch_;
    std::vector<Token> tokens_;  // the evaluated sequence: n_past() == tokens_.size()
    uint32_t pos0_ = 0;          // position of the batch being evaluated
    std::atomic<bool> cancel_requested_{false};

    // Scratch sized for n_batch tokens.
    std::vector<float> x_, norm_, q_, k_, v_, attn_, gate_, up_;
    std::vector<uint16_t> k16_, v16_;
    kernels::MatmulInput input_;  // the input of the products being run, with its quantized forms
    std::vector<float> rope_cos_, rope_sin_;
    std::vector<AttentionScratch> attention_scratch_;
    std::vector<float> logits_;
};

}  // namespace cwm
