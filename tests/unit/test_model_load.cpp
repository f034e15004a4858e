// Model files that are well-formed GGUF but wrong as models: each gives an Error whose
// message names the key or tensor at fault. Mutated copies of the tiny test model are
// written with GgufWriter.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <unistd.h>
#include <string>

#include "error.hpp"
#include "gguf.hpp"
#include "model.hpp"

using namespace cwm;

namespace {

std::string tiny_model() {
    const char* dir = std::getenv("CWM_TEST_MODELS");
    REQUIRE_MESSAGE(dir != nullptr, "CWM_TEST_MODELS is not set (ctest sets it; see tests/CMakeLists.txt)");
    return std::string(dir) + "/tiny-cwm.gguf";
}

struct Mutation {
    std::function<void(GgufWriter&)> metadata;  // applied after copying the keys
    std::string drop_tensor;
    std::string reshape_tensor;
    std::vector<uint64_t> new_shape;
};

Mutation with_metadata(std::function<void(GgufWriter&)> f) { return {std::move(f), "", "", {}}; }
Mutation without_tensor(std::string name) { return {nullptr, std::move(name), "", {}}; }
Mutation with_shape(std::string name, std::vector<uint64_t> ne) { return {nullptr, "", std::move(name), std::move(ne)}; }

// Copies the tiny model with a mutation applied and returns the error loading it gives.
Error load_error(const Mutation& m) {
    const GgufFile source(tiny_model());
    GgufWriter writer;
    for (const auto& [key, value] : source.metadata()) writer.set(key, value);
    if (m.metadata) m.metadata(writer);
    for (const TensorView& t : source.tensors()) {
        if (t.name == m.drop_tensor) continue;
        if (t.name == m.reshape_tensor)
            writer.add_tensor(t.name, t.type, m.new_shape, [](uint8_t*) {});  // contents do not matter
        else
            writer.add_tensor(t.name, t.type, t.ne, t.data);
    }
    const auto path = std::filesystem::temp_directory_path() / ("cwm-mutated-" + std::to_string(::getpid()) + ".gguf");
    writer.write(path.string());
    try {
        Model::load(path.string());
    } catch (const Error& e) {
        std::filesystem::remove(path);
        return e;
    }
    std::filesystem::remove(path);
    FAIL("the mutated model loaded");
    return Error(Status::ok, "");
}

bool mentions(const Error& e, const std::string& what) {
    return std::string(e.what()).find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("the unmutated copy loads") {
    CHECK(Model::load(tiny_model())->config().n_layer == 5);
}

TEST_CASE("unknown architecture") {
    const Error e = load_error(with_metadata([](GgufWriter& w) {
        w.set("general.architecture", GgufValue::from_string("gpt-neox"));
    }));
    CHECK(e.status() == Status::unsupported);
    CHECK(mentions(e, "gpt-neox"));
}

TEST_CASE("a key of the wrong type names the key") {
    const Error e = load_error(with_metadata([](GgufWriter& w) {
        w.set("cwm.attention.head_count", GgufValue::from_string("six"));
    }));
    CHECK(e.status() == Status::invalid_file);
    CHECK(mentions(e, "cwm.attention.head_count"));
}

TEST_CASE("a missing required key") {
    const Error e = load_error(with_metadata([](GgufWriter& w) { w.remove("cwm.block_count"); }));
    CHECK(mentions(e, "cwm.block_count"));
}

TEST_CASE("head count not a multiple of the kv heads") {
    const Error e = load_error(with_metadata([](GgufWriter& w) {
        w.set("cwm.attention.head_count_kv", GgufValue::from_uint(GgufType::u32, 4));
    }));
    CHECK(mentions(e, "head_count_kv"));
}

TEST_CASE("a layer pattern of the wrong length") {
    const Error e = load_error(with_metadata([](GgufWriter& w) {
        w.set("cwm.attention.sliding_window_pattern",
              GgufValue::from_array(GgufType::boolean, {GgufValue::from_bool(true), GgufValue::from_bool(false)}));
    }));
    CHECK(mentions(e, "sliding_window_pattern has 2 entries for 5 layers"));
}

TEST_CASE("a missing tensor") {
    const Error e = load_error(without_tensor("blk.3.ffn_up.weight"));
    CHECK(e.status() == Status::invalid_file);
    CHECK(mentions(e, "blk.3.ffn_up.weight"));
}

TEST_CASE("a tensor of the wrong shape") {
    const Error e = load_error(with_shape("blk.1.attn_k.weight", {96, 32}));
    CHECK(mentions(e, "blk.1.attn_k.weight"));
    CHECK(mentions(e, "expected"));
}

TEST_CASE("an embedding that disagrees with the vocabulary") {
    const Error e = load_error(with_shape("token_embd.weight", {96, 100}));
    CHECK(mentions(e, "cwm.vocab_size disagrees with token_embd.weight"));
    const Mutation no_size_key{[](GgufWriter& w) { w.remove("cwm.vocab_size"); }, "", "token_embd.weight", {96, 100}};
    CHECK(mentions(load_error(no_size_key), "tokenizer has 600 tokens but the embedding only 100"));
}
