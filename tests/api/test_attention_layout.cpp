// The attention layout a caller chooses (cwm_model_params.attention) and the file rewrite that
// states it (cwm_convert_gguf). tiny-llama.gguf holds exactly tiny-cwm.gguf's tensors under the
// `llama` architecture, as a community GGUF file of CWM does; tiny-cwm has window 6 and CWM's rule.
#include <filesystem>
#include <unistd.h>

#include "api_helpers.hpp"

using namespace api_test;
namespace fs = std::filesystem;

namespace {

constexpr uint32_t kWindow = 6;

std::string layout_of(const cwm::model& m) {
    std::string s;
    for (uint32_t i = 0; i < m.info().n_layer; ++i) s += m.layer_is_local(i) ? 'L' : 'G';
    return s;
}

cwm::model load(const std::string& path, cwm_attention_layout attention, uint32_t window = 0) {
    return cwm::model(path, {.attention = attention, .sliding_window = window});
}

// Logits of every position of a prompt longer than the window, one batched prefill.
std::vector<std::vector<float>> all_logits(const cwm::model& m, size_t n) {
    cwm::context ctx(m);
    const auto tokens = some_tokens(n);
    ctx.decode(tokens, n);
    std::vector<std::vector<float>> rows;
    for (size_t i = 0; i < n; ++i) rows.emplace_back(ctx.logits(i).begin(), ctx.logits(i).end());
    return rows;
}

// A directory of its own, removed with everything in it at the end of the test.
struct TempDir {
    fs::path path = fs::temp_directory_path() / ("cwm-api-attention-" + std::to_string(::getpid()));
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
    std::string operator/(const char* name) const { return (path / name).string(); }
    size_t n_files() const { return size_t(std::distance(fs::directory_iterator(path), fs::directory_iterator())); }
};

cwm_status convert(const std::string& in, const std::string& out, cwm_attention_layout attention, uint32_t window = 0) {
    cwm_convert_gguf_params p;
    cwm_convert_gguf_default_params(&p);
    p.attention = attention;
    p.sliding_window = window;
    return cwm_convert_gguf(in.c_str(), out.c_str(), &p);
}

}  // namespace

TEST_CASE("a llama file loaded with CWM_ATTENTION_CWM runs CWM's pattern and window, and logs it") {
    const std::string llama = model_path("tiny-llama.gguf");
    const cwm::model plain(llama);
    CHECK(std::string(plain.info().arch) == "llama");
    CHECK(layout_of(plain) == "GGGGG");
    CHECK(plain.info().window == 0);

    std::vector<std::string> lines;
    const cwm::model cwm_layout(llama, {.log = [&](cwm_log_level, std::string_view l) { lines.emplace_back(l); },
                                        .attention = CWM_ATTENTION_CWM,
                                        .sliding_window = kWindow});
    CHECK(layout_of(cwm_layout) == "GLLLG");  // i % 4 == 0 and the last layer global
    CHECK(cwm_layout.info().n_local_layers == 3);
    CHECK(cwm_layout.info().window == kWindow);
    CHECK(cwm_layout.meta_value("general.architecture") == "llama");  // the metadata stays the file's
    CHECK(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
        return l.find("attention layout: cwm pattern applied by the caller (file says llama: all global)") == 0;
    }));

    CHECK(load(llama, CWM_ATTENTION_CWM).info().window == 8192);  // 0: CWM's window
    const cwm::model cwm_file_global = load(model_path("tiny-cwm.gguf"), CWM_ATTENTION_GLOBAL);
    CHECK(layout_of(cwm_file_global) == "GGGGG");
    CHECK(cwm_file_global.info().window == 0);
    // On a cwm file CWM_ATTENTION_CWM replaces the file's window too.
    CHECK(load(model_path("tiny-cwm.gguf"), CWM_ATTENTION_CWM, 4).info().window == 4);
}

TEST_CASE("the caller's layout gives the converted file's logits bit for bit, and differs from plain llama") {
    const TempDir dir;
    const std::string llama = model_path("tiny-llama.gguf"), converted = dir / "converted.gguf";
    REQUIRE(convert(llama, converted, CWM_ATTENTION_CWM, kWindow) == CWM_OK);
    const size_t n = 4 * kWindow;
    const auto applied = all_logits(load(llama, CWM_ATTENTION_CWM, kWindow), n);
    const auto from_file = all_logits(cwm::model(converted), n);
    const auto plain = all_logits(cwm::model(llama), n);
    CHECK(applied == from_file);  // std::vector<float> ==: exact equality of every logit
    CHECK(all_logits(cwm::model(model_path("tiny-cwm.gguf")), n) == applied);  // same tensors, same layout
    // A local layer's token sees the whole prefix until it is longer than the window.
    for (size_t i = 0; i < n; ++i) CHECK_MESSAGE((plain[i] == applied[i]) == (i < kWindow), "position " << i);
}

TEST_CASE("the converted file states CWM's layout in cwm.* keys and keeps every tensor") {
    const TempDir dir;
    const std::string llama = model_path("tiny-llama.gguf"), converted = dir / "converted.gguf";
    REQUIRE(convert(llama, converted, CWM_ATTENTION_CWM) == CWM_OK);
    const cwm::model source(llama), out(converted);
    CHECK(out.meta_value("general.architecture") == "cwm");
    CHECK(out.meta_value("cwm.attention.sliding_window") == "8192");
    CHECK(out.meta_value("cwm.attention.sliding_window_pattern") == "[false, true, true, true, false]");
    CHECK(out.meta_value("cwm.rope.pair_layout") == "interleaved");
    CHECK(layout_of(out) == "GLLLG");
    for (const std::string& key : source.meta_keys()) {
        if (!key.starts_with("llama.")) continue;
        CHECK(out.meta_value("cwm." + key.substr(6)) == source.meta_value(key));
    }
    for (const std::string& key : out.meta_keys()) CHECK_FALSE(key.starts_with("llama."));
    const auto a = source.tensors(), b = out.tensors();
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i)
        CHECK((a[i].name == b[i].name && a[i].type == b[i].type && a[i].ne == b[i].ne && a[i].n_bytes == b[i].n_bytes));
}

TEST_CASE("a state saved with the caller's layout restores into the converted file's context, not a plain one") {
    const TempDir dir;
    const std::string llama = model_path("tiny-llama.gguf"), converted = dir / "converted.gguf";
    REQUIRE(convert(llama, converted, CWM_ATTENTION_CWM, kWindow) == CWM_OK);
    const cwm::model applied = load(llama, CWM_ATTENTION_CWM, kWindow), from_file(converted), plain(llama);
    cwm::context saved(applied);
    saved.decode(some_tokens(2 * kWindow));
    const auto state = saved.save_state();  // names the tensors and the layout
    cwm::context same(from_file), other(plain);
    CHECK_NOTHROW(same.load_state(state));
    CHECK_THROWS_AS(other.load_state(state), cwm::error);
}

TEST_CASE("an older, shorter params struct loads the file's layout; invalid layouts and windows are refused") {
    const std::string llama = model_path("tiny-llama.gguf");
    cwm_model_params p;
    cwm_model_default_params(&p);
    p.size = offsetof(cwm_model_params, attention);  // a caller compiled before `attention` existed
    p.attention = static_cast<cwm_attention_layout>(99);
    p.sliding_window = 12345678;
    cwm_model* raw = nullptr;
    REQUIRE(cwm_model_load(llama.c_str(), &p, &raw) == CWM_OK);
    cwm_model_info info{};
    info.size = sizeof info;
    CHECK(cwm_model_get_info(raw, &info) == CWM_OK);
    CHECK(info.n_local_layers == 0);
    cwm_model_free(raw);

    auto refused = [&](int attention, uint32_t window, const char* message) {
        cwm_model_default_params(&p);
        p.attention = static_cast<cwm_attention_layout>(attention);
        p.sliding_window = window;
        cwm_model* none = nullptr;
        CHECK(cwm_model_load(llama.c_str(), &p, &none) == CWM_ERR_INVALID_ARGUMENT);
        CHECK(none == nullptr);
        CHECK_MESSAGE(std::string(cwm_last_error()).find(message) != std::string::npos, cwm_last_error());
    };
    refused(3, 0, "expected CWM_ATTENTION_FROM_FILE, CWM_ATTENTION_CWM or CWM_ATTENTION_GLOBAL");
    refused(-1, 0, "attention is -1");
    refused(CWM_ATTENTION_FROM_FILE, 6, "only be given with the cwm attention layout");
    refused(CWM_ATTENTION_GLOBAL, 6, "only be given with the cwm attention layout");
    refused(CWM_ATTENTION_CWM, 131073, "longer than the model's context (131072 tokens)");
}

TEST_CASE("convert-gguf errors and cancellation leave no file, and never touch the input") {
    const TempDir dir;
    const std::string llama = model_path("tiny-llama.gguf"), input = dir / "in.gguf", out = dir / "out.gguf";
    fs::copy_file(llama, input);
    const auto input_size = fs::file_size(input);
    auto no_output = [&](cwm_status got, cwm_status expected, const char* message) {
        CHECK(got == expected);
        CHECK_MESSAGE(std::string(cwm_last_error()).find(message) != std::string::npos, cwm_last_error());
        CHECK(dir.n_files() == 1);  // the input alone: no output, no temporary file
        CHECK(fs::file_size(input) == input_size);
    };
    no_output(convert(dir / "missing.gguf", out, CWM_ATTENTION_CWM), CWM_ERR_IO, "missing.gguf");
    no_output(convert(input, input, CWM_ATTENTION_CWM), CWM_ERR_INVALID_ARGUMENT, "is the input file");
    const std::string same_by_another_path = (dir.path / "." / "in.gguf").string();
    no_output(convert(input, same_by_another_path, CWM_ATTENTION_CWM), CWM_ERR_INVALID_ARGUMENT, "is the input file");
    no_output(convert(input, out, CWM_ATTENTION_CWM, 1u << 20), CWM_ERR_INVALID_ARGUMENT, "longer than the model's context");
    no_output(convert(input, out, CWM_ATTENTION_GLOBAL, 8), CWM_ERR_INVALID_ARGUMENT, "only be given with the cwm");
    no_output(convert(input, out, CWM_ATTENTION_FROM_FILE), CWM_ERR_INVALID_ARGUMENT, "must be cwm or global");
    no_output(convert(input, out, static_cast<cwm_attention_layout>(5)), CWM_ERR_INVALID_ARGUMENT, "attention is 5");
    no_output(cwm_convert_gguf(input.c_str(), nullptr, nullptr), CWM_ERR_INVALID_ARGUMENT, "NULL");

    size_t calls = 0;
    CHECK_THROWS_AS(cwm::convert_gguf(input, out, CWM_ATTENTION_CWM, 0,
                                      [&](size_t done, size_t, uint64_t, uint64_t) {
                                          ++calls;
                                          return done < 3;  // cancels after the third tensor
                                      }),
                    cwm::error);
    CHECK(calls == 3);
    CHECK(dir.n_files() == 1);
}

TEST_CASE("converting a cwm file to global writes llama back: the plain llama file's logits") {
    const TempDir dir;
    const std::string global = dir / "global.gguf";
    size_t last = 0, count = 0;
    cwm::convert_gguf(model_path("tiny-cwm.gguf"), global, CWM_ATTENTION_GLOBAL, 0,
                      [&](size_t done, size_t n, uint64_t bytes, uint64_t total) {
                          CHECK(done == last + 1);
                          CHECK(bytes <= total);
                          last = done, count = n;
                          return true;
                      });
    CHECK((last == count && count == 48));
    const cwm::model m(global);
    CHECK(m.meta_value("general.architecture") == "llama");
    for (const std::string& key : m.meta_keys()) CHECK_FALSE(key.starts_with("cwm."));
    CHECK(all_logits(m, 3 * kWindow) == all_logits(cwm::model(model_path("tiny-llama.gguf")), 3 * kWindow));
}
