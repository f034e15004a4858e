// C ABI: tokenizers, standalone or borrowed from a model, and the model-level shorthands.
#include <algorithm>

#include "capi_internal.hpp"

using cwm::capi::copy_out;
using cwm::capi::guard;
using cwm::capi::require;

namespace {

const cwm::Tokenizer& of(const cwm_tokenizer* t) {
    require(t != nullptr, "tokenizer is NULL");
    return *t->tokenizer;
}

}  // namespace

extern "C" {

cwm_status cwm_tokenizer_load(const char* path, cwm_tokenizer** out_tokenizer) {
    return guard([&] {
        require(path != nullptr && out_tokenizer != nullptr, "path or out_tokenizer is NULL");
        auto handle = std::make_unique<cwm_tokenizer>();
        handle->owned = cwm::load_tokenizer_file(path);
        handle->tokenizer = handle->owned.get();
        *out_tokenizer = handle.release();
    });
}

void cwm_tokenizer_free(cwm_tokenizer* tokenizer) {
    if (tokenizer && tokenizer->owned) delete tokenizer;  // a model's own is freed with the model
}

const cwm_tokenizer* cwm_model_get_tokenizer(const cwm_model* model) { return model ? &model->tokenizer : nullptr; }

size_t cwm_tokenizer_n_vocab(const cwm_tokenizer* tokenizer) { return tokenizer ? tokenizer->tokenizer->n_vocab() : 0; }

cwm_token cwm_tokenizer_bos(const cwm_tokenizer* tokenizer) { return tokenizer ? tokenizer->tokenizer->bos : -1; }

cwm_token cwm_tokenizer_eos(const cwm_tokenizer* tokenizer) { return tokenizer ? tokenizer->tokenizer->eos : -1; }

cwm_status cwm_tokenizer_find(const cwm_tokenizer* tokenizer, const char* text, cwm_token* out_token) {
    return guard([&] {
        require(text != nullptr && out_token != nullptr, "text or out_token is NULL");
        const auto id = of(tokenizer).find(text);
        if (!id) cwm::fail(cwm::Status::not_found, std::string("no token '") + text + "' in the vocabulary");
        *out_token = *id;
    });
}

cwm_status cwm_tokenizer_encode(const cwm_tokenizer* tokenizer, const char* text, size_t len, int add_bos,
                                int parse_special, cwm_token* tokens, size_t max_tokens, size_t* out_len) {
    return guard([&] {
        const cwm::Tokenizer& tok = of(tokenizer);
        require(out_len != nullptr, "out_len is NULL");
        require(text != nullptr || len == 0, "text is NULL");
        std::vector<cwm::Token> ids;
        if (add_bos && tok.add_bos && tok.bos >= 0) ids.push_back(tok.bos);
        const auto body = tok.encode(std::string_view(text ? text : "", len), parse_special != 0);
        ids.insert(ids.end(), body.begin(), body.end());
        cwm::capi::copy_tokens_out(ids, tokens, max_tokens, out_len);
    });
}

cwm_status cwm_tokenizer_token_to_bytes(const cwm_tokenizer* tokenizer, cwm_token token, int render_special, char* buf,
                                        size_t buf_size, size_t* out_len) {
    return guard([&] { copy_out(of(tokenizer).token_bytes(token, render_special != 0), buf, buf_size, out_len); });
}

cwm_status cwm_tokenizer_decode(const cwm_tokenizer* tokenizer, const cwm_token* tokens, size_t n_tokens,
                                int render_special, char* buf, size_t buf_size, size_t* out_len) {
    return guard([&] {
        const cwm::Tokenizer& tok = of(tokenizer);
        require(tokens != nullptr || n_tokens == 0, "tokens is NULL");
        cwm::Utf8Stream stream;
        std::string text = stream.push(tok.decode(std::vector<cwm::Token>(tokens, tokens + n_tokens), render_special != 0));
        text += stream.finish();
        copy_out(text, buf, buf_size, out_len);
    });
}

int cwm_tokenizer_is_stop(const cwm_tokenizer* tokenizer, cwm_token token) {
    if (!tokenizer) return 0;
    const auto& stops = tokenizer->tokenizer->stop_tokens;
    return std::find(stops.begin(), stops.end(), token) != stops.end() ? 1 : 0;
}

cwm_status cwm_tokenize(const cwm_model* model, const char* text, size_t len, int add_bos, int parse_special,
                        cwm_token* tokens, size_t max_tokens, size_t* out_len) {
    return cwm_tokenizer_encode(model ? &model->tokenizer : nullptr, text, len, add_bos, parse_special, tokens,
                                max_tokens, out_len);
}

cwm_status cwm_token_to_bytes(const cwm_model* model, cwm_token token, int render_special, char* buf, size_t buf_size,
                              size_t* out_len) {
    return cwm_tokenizer_token_to_bytes(model ? &model->tokenizer : nullptr, token, render_special, buf, buf_size,
                                        out_len);
}

cwm_status cwm_detokenize(const cwm_model* model, const cwm_token* tokens, size_t n_tokens, int render_special,
                          char* buf, size_t buf_size, size_t* out_len) {
    return cwm_tokenizer_decode(model ? &model->tokenizer : nullptr, tokens, n_tokens, render_special, buf, buf_size,
                                out_len);
}

int cwm_token_is_stop(const cwm_model* model, cwm_token token) {
    return cwm_tokenizer_is_stop(model ? &model->tokenizer : nullptr, token);
}

}  // extern "C"
