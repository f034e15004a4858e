// Saving and restoring context states, truncation and cancellation through the C ABI: a
// restored or rewound context must continue exactly (bit for bit) as one that never stopped.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

#include "api_helpers.hpp"

using namespace api_test;

namespace {

std::vector<float> copy_logits(const cwm::context& ctx) {
    const auto l = ctx.logits(0);
    return {l.begin(), l.end()};
}

// The logits after evaluating `prefix` and then `suffix` in a fresh context: the reference.
// Batches of 8 or more tokens multiply through sgemm and smaller ones row by row, which differ
// in their last bits, so exact comparisons use the same n_batch as the context compared.
std::vector<float> reference_logits(std::span<const cwm::token> prefix, std::span<const cwm::token> suffix,
                                    const cwm_context_params& params = cwm::context::default_params()) {
    cwm::context ctx(tiny(), params);
    if (!prefix.empty()) ctx.decode(prefix);
    ctx.decode(suffix);
    return copy_logits(ctx);
}

cwm_context_params params_with(uint32_t n_ctx, uint32_t n_batch, int n_threads) {
    auto p = cwm::context::default_params();
    p.n_ctx = n_ctx;
    p.n_batch = n_batch;
    p.n_threads = n_threads;
    return p;
}

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

}  // namespace

// Window 6: the 20-token prefix has wrapped the local layers' rings.
TEST_CASE("a restored state continues exactly like the context it was saved from") {
    const auto tokens = some_tokens(26);
    const std::span prefix(tokens.data(), 20), suffix(tokens.data() + 20, 6);
    const auto expected = reference_logits(prefix, suffix);

    cwm::context saver(tiny());
    saver.decode(prefix);
    const auto state = saver.save_state();
    saver.decode(suffix);
    CHECK(copy_logits(saver) == expected);

    // Another n_ctx, n_batch and thread count, and a context that held something else.
    cwm::context restored(tiny(), params_with(64, 7, 1));
    restored.decode(some_tokens(3));
    restored.load_state(state);
    CHECK(restored.n_past() == 20);
    CHECK(restored.tokens() == std::vector<cwm::token>(prefix.begin(), prefix.end()));
    restored.decode(suffix);
    CHECK(copy_logits(restored) == expected);

    // The saved logits row continues a generation without re-evaluating anything.
    cwm::context from_logits(tiny());
    from_logits.load_state(state);
    std::vector<cwm::token> a, b;
    from_logits.generate({}, 4, nullptr, [&](std::string_view, cwm::token t) { return a.push_back(t), true; });
    saver.load_state(state);
    saver.generate({}, 4, nullptr, [&](std::string_view, cwm::token t) { return b.push_back(t), true; });
    CHECK(a.size() == 4);
    CHECK(a == b);
}

TEST_CASE("state files: written atomically, read back, and I/O errors named") {
    const auto tokens = some_tokens(12);
    cwm::context ctx(tiny());
    ctx.decode(std::span(tokens).first(9));
    const std::string path = temp_file("state.bin", "");
    ctx.save_state_file(path);
    cwm::context other(tiny());
    other.load_state_file(path);
    ctx.decode(std::span(tokens).subspan(9));
    other.decode(std::span(tokens).subspan(9));
    CHECK(copy_logits(other) == copy_logits(ctx));
    std::remove(path.c_str());

    CHECK(cwm_context_state_load_file(ctx.get(), "/nonexistent/state.bin") == CWM_ERR_IO);
    CHECK(std::string(cwm_last_error()).find("/nonexistent/state.bin") != std::string::npos);
    CHECK(cwm_context_state_save_file(ctx.get(), "/nonexistent/dir/state.bin") == CWM_ERR_IO);
    CHECK_FALSE(file_exists("/nonexistent/dir/state.bin"));
}

TEST_CASE("damaged, foreign and oversized states are refused and leave the context unchanged") {
    cwm::context ctx(tiny());
    ctx.decode(some_tokens(10));
    const auto state = ctx.save_state();
    const auto before = ctx.tokens();
    auto expect_refused = [&](const std::vector<uint8_t>& bytes, cwm_status status, const char* words) {
        CHECK(cwm_context_state_load(ctx.get(), bytes.data(), bytes.size()) == status);
        CHECK(std::string(cwm_last_error()).find(words) != std::string::npos);
        CHECK(ctx.tokens() == before);
    };
    auto flipped = state;
    flipped[flipped.size() / 2] ^= 0x10;
    expect_refused(flipped, CWM_ERR_INVALID_FILE, "checksum");
    expect_refused(std::vector<uint8_t>(state.begin(), state.end() - 100), CWM_ERR_INVALID_FILE, "damaged");
    expect_refused(std::vector<uint8_t>(state.begin(), state.begin() + 5), CWM_ERR_INVALID_FILE, "damaged");
    auto magic = state;
    magic[0] = 'X';
    expect_refused(magic, CWM_ERR_INVALID_FILE, "magic");

    // Another model (the same weights quantized to q8_0), and a context too short.
    const std::string q8 = temp_file("state-q8.gguf", "");
    cwm::quantize(model_path("tiny-cwm.gguf"), q8, CWM_WEIGHT_Q8_0);
    const cwm::model other(q8);
    std::remove(q8.c_str());
    cwm::context foreign(other);
    CHECK(cwm_context_state_load(foreign.get(), state.data(), state.size()) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(std::string(cwm_last_error()).find("another model") != std::string::npos);
    cwm::context small(tiny(), params_with(8, 512, 0));
    CHECK(cwm_context_state_load(small.get(), state.data(), state.size()) == CWM_ERR_CONTEXT_FULL);
    CHECK(small.n_past() == 0);

    // The buffer contract.
    size_t needed = 0;
    std::vector<uint8_t> tiny_buffer(16);
    CHECK(cwm_context_state_save(ctx.get(), tiny_buffer.data(), tiny_buffer.size(), &needed) == CWM_ERR_BUFFER_TOO_SMALL);
    CHECK(needed == state.size());
    CHECK(cwm_context_state_save(ctx.get(), nullptr, 0, nullptr) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_context_state_load(nullptr, state.data(), state.size()) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_context_state_size(ctx.get(), nullptr) == CWM_ERR_INVALID_ARGUMENT);
}

TEST_CASE("truncating within the rings' slack continues exactly; further back is refused") {
    const auto tokens = some_tokens(30);
    auto params = params_with(0, 8, 0);
    cwm::context ctx(tiny(), params);
    ctx.decode(tokens);
    CHECK(ctx.max_rewind() == 8 + 1);  // window 6 + slack 8 slots: 8 + 1 - 0 positions spare
    ctx.truncate(25);
    CHECK(ctx.n_past() == 25);
    const float* none = nullptr;
    CHECK(cwm_get_logits(ctx.get(), 0, &none) == CWM_ERR_INVALID_ARGUMENT);
    const auto other = some_tokens(40);
    ctx.decode(std::span(other).subspan(30, 5));
    CHECK(copy_logits(ctx) == reference_logits(std::span(tokens).first(25), std::span(other).subspan(30, 5), params));

    CHECK(cwm_context_truncate(ctx.get(), 10) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(std::string(cwm_last_error()).find("save and restore") != std::string::npos);
    CHECK(cwm_context_truncate(ctx.get(), 31) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(cwm_context_truncate(nullptr, 0) == CWM_ERR_INVALID_ARGUMENT);
    CHECK(ctx.n_past() == 30);
}

TEST_CASE("cancelling from another thread stops a decode between layers and keeps whole batches") {
    const auto tokens = some_tokens(4000);
    const auto params = params_with(8192, 64, 1);
    cwm::context ctx(tiny(), params);
    cwm_context_cancel(ctx.get());  // nothing runs: no effect on the next call
    ctx.decode(std::span(tokens).first(3));
    CHECK(ctx.n_past() == 3);
    ctx.clear();

    std::atomic<bool> done{false};
    std::thread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // usually lets some batches finish
        while (!done.load()) {
            ctx.cancel();
            std::this_thread::yield();
        }
    });
    const cwm_status status = cwm_decode(ctx.get(), tokens.data(), tokens.size(), 1);
    done = true;
    canceller.join();
    REQUIRE(status == CWM_ERR_CANCELLED);
    const uint32_t kept = ctx.n_past();
    MESSAGE("cancelled after " << kept << " of " << tokens.size() << " tokens");
    CHECK(kept % 64 == 0);
    CHECK(kept < tokens.size());
    CHECK(ctx.tokens() == std::vector<cwm::token>(tokens.begin(), tokens.begin() + kept));
    // The kept batches are intact: finishing gives the uncancelled result.
    ctx.decode(std::span(tokens).subspan(kept, 70));
    CHECK(copy_logits(ctx) == reference_logits(std::span(tokens).first(kept), std::span(tokens).subspan(kept, 70), params));
    cwm_context_cancel(nullptr);
}

TEST_CASE("a generation cancelled from its own stream callback stops with CWM_ERR_CANCELLED") {
    cwm::context ctx(tiny());
    size_t streamed = 0;
    auto on_text = [](const char*, size_t, cwm_token, void* user) {
        auto* c = static_cast<std::pair<cwm_context*, size_t*>*>(user);
        if (++*c->second == 3) cwm_context_cancel(c->first);
        return 0;
    };
    std::pair<cwm_context*, size_t*> user{ctx.get(), &streamed};
    const auto prompt = some_tokens(4);
    CHECK(cwm_generate(ctx.get(), nullptr, prompt.data(), prompt.size(), 50, on_text, &user) == CWM_ERR_CANCELLED);
    CHECK(streamed == 3);
    CHECK(ctx.n_past() == 4 + 2);  // the third streamed token was not evaluated
}
