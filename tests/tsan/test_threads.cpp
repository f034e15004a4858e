// One model used from several threads at once, as cwm.h's thread-safety rules allow: built
// with ThreadSanitizer (scripts/test.sh), so any data race in the library fails the test, and
// every result is compared with the same work done on one thread.
#include <doctest/doctest.h>

#include <atomic>
#include <cwm/cwm.hpp>
#include <string>
#include <thread>
#include <vector>

#include "../api/api_helpers.hpp"

using namespace api_test;

namespace {

constexpr int kThreads = 4;

std::vector<cwm::token> prompt_of(int i) {
    auto tokens = some_tokens(12 + 5 * i);
    tokens[0] = cwm::token(100 + i);
    return tokens;
}

// Greedy continuation of a prompt in a context of its own: tokens and streamed text.
std::pair<std::vector<cwm::token>, std::string> continuation(const cwm::model& m, int i) {
    auto params = cwm::context::default_params();
    params.n_ctx = 256;
    params.n_threads = 1 + i % 2;
    cwm::context ctx(m, params);
    std::vector<cwm::token> tokens;
    std::string text;
    ctx.generate(prompt_of(i), 10, nullptr, [&](std::string_view piece, cwm::token t) {
        text += piece;
        if (t >= 0) tokens.push_back(t);
        return true;
    });
    return {tokens, text};
}

template <class Fn>
void on_threads(Fn fn) {
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) threads.emplace_back(fn, i);
    for (auto& t : threads) t.join();
}

}  // namespace

TEST_CASE("contexts on one shared model generate at once exactly what they generate alone") {
    const cwm::model& m = tiny();
    std::vector<std::pair<std::vector<cwm::token>, std::string>> alone(kThreads), together(kThreads);
    for (int i = 0; i < kThreads; ++i) alone[i] = continuation(m, i);
    on_threads([&](int i) { together[i] = continuation(m, i); });
    for (int i = 0; i < kThreads; ++i) {
        CAPTURE(i);
        CHECK(together[i] == alone[i]);
    }
}

TEST_CASE("tokenizing, querying and state saving on one model from several threads") {
    const cwm::model& m = tiny();
    const std::string text = "def f(x):\n    return [x * i for i in range(10)]  # ünïcode";
    const auto expected = m.tokenize(text);
    std::atomic<int> agreed{0};
    on_threads([&](int i) {
        for (int k = 0; k < 5; ++k) {
            if (m.tokenize(text) == expected && m.detokenize(expected).find("ünïcode") != std::string::npos) ++agreed;
            (void)m.info();
            (void)m.meta_keys();
        }
        cwm::context ctx(m);
        ctx.decode(prompt_of(i));
        const auto state = ctx.save_state();
        cwm::context other(m);
        other.load_state(state);
        CHECK(other.tokens() == ctx.tokens());
    });
    CHECK(agreed == kThreads * 5);
}

TEST_CASE("each thread sees its own last error") {
    const cwm::model& m = tiny();
    std::atomic<int> own{0};
    on_threads([&](int i) {
        const std::string missing = "/nonexistent/model-" + std::to_string(i) + ".gguf";
        for (int k = 0; k < 20; ++k) {
            cwm_model* raw = nullptr;
            if (i % 2) {
                if (cwm_model_load(missing.c_str(), nullptr, &raw) == CWM_ERR_IO &&
                    std::string(cwm_last_error()).find(missing) != std::string::npos)
                    ++own;
            } else {
                const cwm_token bad = 1000000 + i;
                cwm::context ctx(m);
                if (cwm_decode(ctx.get(), &bad, 1, 1) == CWM_ERR_INVALID_ARGUMENT &&
                    std::string(cwm_last_error()).find(std::to_string(bad)) != std::string::npos)
                    ++own;
            }
        }
    });
    CHECK(own == kThreads * 20);
}

TEST_CASE("a generation is cancelled from another thread while others run on the same model") {
    const cwm::model& m = tiny();
    auto params = cwm::context::default_params();
    params.n_ctx = 4096;
    cwm::context victim(m, params);
    std::atomic<bool> started{false}, finished{false};
    cwm_status status = CWM_OK;
    std::thread generator([&] {
        const auto prompt = some_tokens(8);
        status = cwm_generate(victim.get(), nullptr, prompt.data(), prompt.size(), 3000,
                              [](const char*, size_t, cwm_token, void* user) {
                                  static_cast<std::atomic<bool>*>(user)->store(true);
                                  return 0;
                              },
                              &started);
        finished = true;
    });
    std::thread bystander([&] { continuation(m, 1); });
    while (!started.load()) std::this_thread::yield();
    while (!finished.load()) {
        victim.cancel();
        std::this_thread::yield();
    }
    generator.join();
    bystander.join();
    CHECK(status == CWM_ERR_CANCELLED);
    CHECK(victim.n_past() < 8 + 3000);
}
