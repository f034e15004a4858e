// Every function of cwm.h on its error paths: NULL handles and outputs, structs whose size does
// not match, indices out of range. Each must return its documented status (or neutral value)
// with a message, never dereference what it was given, and leave outputs untouched.
#include <doctest/doctest.h>

#include <string>

#include "api_helpers.hpp"

using namespace api_test;

namespace {

// Checks a status-returning call failed with `status` and set a non-empty message.
void expect(cwm_status got, cwm_status status = CWM_ERR_INVALID_ARGUMENT) {
    CHECK(got == status);
    CHECK(std::string(cwm_last_error()).size() > 0);
}

}  // namespace

TEST_CASE("every status has a name, and unknown ones are named as such") {
    const cwm_status all[] = {CWM_OK, CWM_ERR_INVALID_ARGUMENT, CWM_ERR_IO, CWM_ERR_INVALID_FILE,
                              CWM_ERR_UNSUPPORTED, CWM_ERR_OUT_OF_MEMORY, CWM_ERR_CONTEXT_FULL,
                              CWM_ERR_CANCELLED, CWM_ERR_INTERNAL, CWM_ERR_BUFFER_TOO_SMALL, CWM_ERR_NOT_FOUND};
    for (cwm_status s : all) CHECK(std::string(cwm_status_name(s)).rfind("CWM_", 0) == 0);
    CHECK(std::string(cwm_status_name(static_cast<cwm_status>(77))) == "CWM_ERR_UNKNOWN");
}

TEST_CASE("model functions with a NULL model, bad indices and mis-sized structs") {
    const cwm_model* m = tiny().get();
    size_t len = 0;
    char buf[16];
    int local = -1;
    const char* key = nullptr;
    cwm_model_info info{};
    info.size = sizeof info;
    cwm_tensor_info tensor{};
    tensor.size = sizeof tensor;

    expect(cwm_model_load(nullptr, nullptr, nullptr));
    cwm_model_params params;
    cwm_model_default_params(&params);
    params.size = 1;
    cwm_model* out = nullptr;
    expect(cwm_model_load(model_path("tiny-cwm.gguf").c_str(), &params, &out));
    CHECK(out == nullptr);
    cwm_model_default_params(nullptr);

    expect(cwm_model_get_info(nullptr, &info));
    info.size = 4;
    expect(cwm_model_get_info(m, &info));
    expect(cwm_model_layer_is_local(nullptr, 0, &local));
    expect(cwm_model_layer_is_local(m, 5, &local));  // 5 layers: 0..4
    expect(cwm_model_layer_is_local(m, 0, nullptr));
    CHECK(local == -1);
    CHECK(cwm_model_meta_count(nullptr) == 0);
    expect(cwm_model_meta_key(nullptr, 0, &key));
    expect(cwm_model_meta_key(m, cwm_model_meta_count(m), &key));
    CHECK(key == nullptr);
    expect(cwm_model_meta_value(nullptr, "general.architecture", 0, buf, sizeof buf, &len));
    expect(cwm_model_meta_value(m, "no.such.key", 0, buf, sizeof buf, &len), CWM_ERR_NOT_FOUND);
    expect(cwm_model_meta_value(m, nullptr, 0, buf, sizeof buf, &len));
    CHECK(cwm_model_tensor_count(nullptr) == 0);
    expect(cwm_model_tensor_info(nullptr, 0, &tensor));
    expect(cwm_model_tensor_info(m, cwm_model_tensor_count(m), &tensor));
    tensor.size = 0;
    expect(cwm_model_tensor_info(m, 0, &tensor));
    expect(cwm_model_chat_template(m, buf, sizeof buf, nullptr));
}

TEST_CASE("token functions with NULL models, NULL outputs and ids outside the vocabulary") {
    const cwm_model* m = tiny().get();
    size_t len = 0;
    char buf[16];
    cwm_token ids[4];
    expect(cwm_tokenize(nullptr, "x", 1, 0, 0, ids, 4, &len));
    expect(cwm_tokenize(m, "x", 1, 0, 0, ids, 4, nullptr));
    expect(cwm_tokenize(m, nullptr, 3, 0, 0, ids, 4, &len));
    expect(cwm_token_to_bytes(nullptr, 1, 0, buf, sizeof buf, &len));
    expect(cwm_token_to_bytes(m, 600, 0, buf, sizeof buf, &len));
    expect(cwm_token_to_bytes(m, -1, 0, buf, sizeof buf, &len));
    expect(cwm_detokenize(nullptr, ids, 1, 0, buf, sizeof buf, &len));
    expect(cwm_detokenize(m, nullptr, 2, 0, buf, sizeof buf, &len));
    const cwm_token bad = 600;
    expect(cwm_detokenize(m, &bad, 1, 0, buf, sizeof buf, &len));
    CHECK(cwm_token_is_stop(nullptr, 0) == 0);
    CHECK(cwm_tokenizer_is_stop(nullptr, 0) == 0);
    CHECK(cwm_tokenizer_eos(nullptr) == -1);
    cwm_token found = 0;
    expect(cwm_tokenizer_find(nullptr, "x", &found));
    expect(cwm_tokenizer_find(cwm_model_get_tokenizer(m), nullptr, &found));
    cwm_tokenizer_free(nullptr);
}

TEST_CASE("context and sampler functions with NULL handles return neutral values or INVALID_ARGUMENT") {
    CHECK(cwm_context_n_past(nullptr) == 0);
    CHECK(cwm_context_n_ctx(nullptr) == 0);
    CHECK(cwm_context_n_threads(nullptr) == 0);
    CHECK(cwm_context_max_rewind(nullptr) == 0);
    cwm_context_clear(nullptr);
    cwm_context_cancel(nullptr);
    cwm_context_default_params(nullptr);
    size_t len = 0;
    const float* row = nullptr;
    expect(cwm_context_tokens(nullptr, nullptr, 0, &len));
    expect(cwm_get_logits(nullptr, 0, &row));
    expect(cwm_generate(nullptr, nullptr, nullptr, 0, 1, nullptr, nullptr));
    expect(cwm_context_state_save_file(nullptr, "/tmp/x"));
    expect(cwm_context_state_load_file(nullptr, "/tmp/x"));

    cwm::context ctx(tiny());
    expect(cwm_get_logits(ctx.get(), 0, nullptr));
    expect(cwm_context_tokens(ctx.get(), nullptr, 0, nullptr));
    expect(cwm_generate(ctx.get(), nullptr, nullptr, 0, 4, nullptr, nullptr));  // nothing to continue from
    const auto prompt = some_tokens(3);
    expect(cwm_generate(ctx.get(), nullptr, nullptr, 3, 4, nullptr, nullptr));
    ctx.decode(prompt);
    cwm_token small[1];
    CHECK(cwm_context_tokens(ctx.get(), small, 1, &len) == CWM_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 3);

    cwm_sampler_params sp;
    cwm_sampler_default_params(&sp);
    cwm_sampler_default_params(nullptr);
    cwm_sampler* s = nullptr;
    expect(cwm_sampler_new(nullptr, &s));
    expect(cwm_sampler_new(&sp, nullptr));
    sp.size = 0;
    expect(cwm_sampler_new(&sp, &s));
    sp.size = sizeof sp;
    sp.top_p = 2.0f;
    expect(cwm_sampler_new(&sp, &s));
    CHECK(s == nullptr);
    cwm_token t = -5;
    const float logits[3] = {0.0f, 1.0f, 2.0f};
    expect(cwm_sampler_sample(nullptr, logits, 3, &t));
    expect(cwm_sampler_accept(nullptr, 1));
    CHECK(t == -5);
}

TEST_CASE("quantize, bandwidth and chat with bad arguments") {
    cwm_quantize_params qp;
    cwm_quantize_default_params(&qp);
    cwm_quantize_default_params(nullptr);
    expect(cwm_quantize(nullptr, "/tmp/out.gguf", &qp));
    expect(cwm_quantize(model_path("tiny-cwm.gguf").c_str(), nullptr, &qp));
    qp.size = 2;
    expect(cwm_quantize(model_path("tiny-cwm.gguf").c_str(), "/tmp/never.gguf", &qp));
    cwm_quantize_default_params(&qp);
    qp.type = static_cast<cwm_weight_type>(99);
    expect(cwm_quantize(model_path("tiny-cwm.gguf").c_str(), "/tmp/never.gguf", &qp));
    CHECK_FALSE(std::ifstream("/tmp/never.gguf").good());
    double gbs = -1;
    expect(cwm_measure_read_bandwidth(1, 1, 1, &gbs));
    CHECK(gbs == -1);
    cwm_chat_default_params(nullptr);
    expect(cwm_chat_render(nullptr, 0, nullptr, nullptr, 0, nullptr));
}
