// C ABI: contexts, sampling and streaming generation.
#include "capi_internal.hpp"

using cwm::capi::guard;
using cwm::capi::require;

extern "C" {

void cwm_context_default_params(cwm_context_params* params) {
    if (!params) return;
    *params = cwm_context_params{};
    params->size = sizeof(cwm_context_params);
    params->n_batch = 512;
}

cwm_status cwm_context_new(const cwm_model* model, const cwm_context_params* params, cwm_context** out_ctx) {
    return guard([&] {
        require(model != nullptr && out_ctx != nullptr, "model or out_ctx is NULL");
        cwm::ContextOptions options;
        if (params) {
            cwm::capi::require_struct(params, sizeof(cwm_context_params), "params");
            require(params->n_threads >= 0 && params->n_threads <= 1024, "n_threads must be in 0..1024");
            require(params->n_ctx <= model->model->config().n_ctx_train || params->n_ctx == 0,
                    "n_ctx is larger than the model's context length");
            options.n_ctx = params->n_ctx;
            options.n_threads = params->n_threads;
            options.n_batch = params->n_batch ? params->n_batch : 512;
        }
        auto handle = std::make_unique<cwm_context>();
        handle->context = std::make_unique<cwm::Context>(model->model, options);
        *out_ctx = handle.release();
    });
}

void cwm_context_free(cwm_context* ctx) { delete ctx; }

void cwm_context_clear(cwm_context* ctx) {
    if (!ctx) return;
    ctx->context->clear();
}

cwm_status cwm_context_truncate(cwm_context* ctx, uint32_t n_past) {
    return guard([&] {
        require(ctx != nullptr, "ctx is NULL");
        ctx->context->truncate(n_past);
    });
}

uint32_t cwm_context_max_rewind(const cwm_context* ctx) { return ctx ? ctx->context->max_rewind() : 0; }

cwm_status cwm_context_tokens(const cwm_context* ctx, cwm_token* tokens, size_t max_tokens, size_t* out_len) {
    return guard([&] {
        require(ctx != nullptr, "ctx is NULL");
        cwm::capi::copy_tokens_out(ctx->context->tokens(), tokens, max_tokens, out_len);
    });
}

void cwm_context_cancel(cwm_context* ctx) {
    if (ctx) ctx->context->request_cancel();
}

uint32_t cwm_context_n_past(const cwm_context* ctx) { return ctx ? ctx->context->n_past() : 0; }

uint32_t cwm_context_n_ctx(const cwm_context* ctx) { return ctx ? ctx->context->n_ctx() : 0; }

int32_t cwm_context_n_threads(const cwm_context* ctx) { return ctx ? ctx->context->n_threads() : 0; }

cwm_status cwm_decode(cwm_context* ctx, const cwm_token* tokens, size_t n_tokens, size_t n_logits) {
    return guard([&] {
        require(ctx != nullptr, "ctx is NULL");
        require(tokens != nullptr || n_tokens == 0, "tokens is NULL");
        ctx->context->begin_operation();
        ctx->context->decode({tokens, n_tokens}, n_logits);
    });
}

cwm_status cwm_get_logits(const cwm_context* ctx, size_t i, const float** out_logits) {
    return guard([&] {
        require(ctx != nullptr && out_logits != nullptr, "ctx or out_logits is NULL");
        const size_t n_vocab = ctx->context->model().config().n_vocab;
        const std::span<const float> logits = ctx->context->logits();
        require(i < logits.size() / n_vocab, "no logits row with that index from the last cwm_decode");
        *out_logits = logits.data() + i * n_vocab;
    });
}

void cwm_sampler_default_params(cwm_sampler_params* params) {
    if (!params) return;
    const cwm::SamplerParams d;
    *params = cwm_sampler_params{sizeof(cwm_sampler_params), d.temperature, d.top_k, d.top_p, d.min_p,
                                 d.repeat_penalty, d.repeat_last_n, d.seed};
}

cwm_status cwm_sampler_new(const cwm_sampler_params* params, cwm_sampler** out_sampler) {
    return guard([&] {
        cwm::capi::require_struct(params, sizeof(cwm_sampler_params), "params");
        require(out_sampler != nullptr, "out_sampler is NULL");
        cwm::SamplerParams p;
        p.temperature = params->temperature;
        p.top_k = params->top_k;
        p.top_p = params->top_p;
        p.min_p = params->min_p;
        p.repeat_penalty = params->repeat_penalty;
        p.repeat_last_n = params->repeat_last_n;
        p.seed = params->seed;
        *out_sampler = new cwm_sampler{cwm::Sampler(p)};
    });
}

void cwm_sampler_free(cwm_sampler* sampler) { delete sampler; }

cwm_status cwm_sampler_sample(cwm_sampler* sampler, const float* logits, size_t n_vocab, cwm_token* out_token) {
    return guard([&] {
        require(sampler != nullptr && logits != nullptr && out_token != nullptr, "a pointer argument is NULL");
        *out_token = sampler->sampler.sample({logits, n_vocab});
    });
}

cwm_status cwm_sampler_accept(cwm_sampler* sampler, cwm_token token) {
    return guard([&] {
        require(sampler != nullptr, "sampler is NULL");
        sampler->sampler.accept(token);
    });
}

cwm_status cwm_generate(cwm_context* ctx, cwm_sampler* sampler, const cwm_token* prompt, size_t n_prompt,
                        size_t max_tokens, cwm_stream_fn on_text, void* user_data) {
    return guard([&] {
        require(ctx != nullptr, "ctx is NULL");
        require(prompt != nullptr || n_prompt == 0, "prompt is NULL");
        cwm::Sampler greedy(cwm::SamplerParams{.temperature = 0.0f});
        cwm::TextSink sink;
        if (on_text)
            sink = [&](std::string_view text, cwm::Token token) {
                return on_text(text.data(), text.size(), token, user_data) == 0;
            };
        cwm::generate(*ctx->context, sampler ? sampler->sampler : greedy, {prompt, n_prompt}, max_tokens, sink);
    });
}

}  // extern "C"
