// Hugging Face config.json -> ModelConfig: both RoPE forms, layer_types, CWM's documented
// defaults for what is absent (each reported), and clear errors for what cannot be converted.
// The expected values are CWM's published ones (shared/docs/cwm-model.md).
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "hf_config.hpp"

using namespace cwm;
using json = nlohmann::json;

namespace {

// CWM's config.json as released (model type cwm, rope_scaling form), 4 layers for brevity.
json cwm_config() {
    return json::parse(R"({
        "architectures": ["CwmForCausalLM"], "model_type": "cwm",
        "hidden_size": 6144, "intermediate_size": 21504, "num_hidden_layers": 4,
        "num_attention_heads": 48, "num_key_value_heads": 8, "head_dim": 128,
        "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "vocab_size": 128256,
        "rope_theta": 1000000.0,
        "rope_scaling": {"rope_type": "llama3", "factor": 16.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
        "sliding_window": 8192,
        "layer_types": ["full_attention", "sliding_attention", "sliding_attention", "full_attention"],
        "tie_word_embeddings": false, "attention_bias": false, "mlp_bias": false, "hidden_act": "silu"
    })");
}

std::string write_config(const json& config) {
    const auto path = std::filesystem::temp_directory_path() / ("cwm-hf-config-" + std::to_string(::getpid()) + ".json");
    std::ofstream(path) << config.dump();
    return path.string();
}

HfConfig read(const json& config) {
    const std::string path = write_config(config);
    HfConfig hf = read_hf_config(path);
    std::filesystem::remove(path);
    return hf;
}

Error read_error(const json& config) {
    const std::string path = write_config(config);
    try {
        read_hf_config(path);
    } catch (const Error& e) {
        std::filesystem::remove(path);
        return e;
    }
    std::filesystem::remove(path);
    FAIL("config accepted");
    return Error(Status::ok, "");
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
    for (const std::string& line : lines)
        if (line.find(text) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("CWM's released config.json gives CWM's architecture, with nothing assumed") {
    const HfConfig hf = read(cwm_config());
    const ModelConfig& c = hf.model;
    CHECK(c.arch == "cwm");
    CHECK(c.n_layer == 4);
    CHECK(c.n_embd == 6144);
    CHECK(c.n_ff == 21504);
    CHECK(c.n_head == 48);
    CHECK(c.n_head_kv == 8);
    CHECK(c.head_dim == 128);
    CHECK(c.n_ctx_train == 131072);
    CHECK(hf.vocab_size == 128256);
    CHECK(c.rope_theta == doctest::Approx(1e6));
    CHECK(c.rope_scaling.kind == RopeScaling::Kind::llama3);
    CHECK(c.rope_scaling.factor == 16.0f);
    CHECK(c.rope_scaling.original_context == 8192);
    CHECK(c.window == 8192);
    CHECK(c.layer_is_local == std::vector<bool>{false, true, true, false});
    CHECK(c.pair_layout == RopePairLayout::rotate_half);
    CHECK(hf.defaults.empty());
}

TEST_CASE("rope_parameters (newer transformers) equals rope_scaling + rope_theta") {
    json config = cwm_config();
    json params = config["rope_scaling"];
    params["rope_theta"] = 1e6;
    config.erase("rope_scaling");
    config.erase("rope_theta");
    config["rope_parameters"] = params;
    const HfConfig hf = read(config);
    CHECK(hf.model.rope_theta == doctest::Approx(1e6));
    CHECK(hf.model.rope_scaling.kind == RopeScaling::Kind::llama3);
    CHECK(hf.model.rope_scaling.high_freq_factor == 4.0f);
    CHECK(hf.defaults.empty());

    SUBCASE("keyed by layer type, the same for both") {
        config["rope_parameters"] = {{"full_attention", params}, {"sliding_attention", params}};
        CHECK(read(config).model.rope_scaling.factor == 16.0f);
    }
    SUBCASE("keyed by layer type, different: refused") {
        json other = params;
        other["factor"] = 8.0;
        config["rope_parameters"] = {{"full_attention", params}, {"sliding_attention", other}};
        CHECK(read_error(config).status() == Status::unsupported);
    }
}

TEST_CASE("an early llama-typed CWM config without layer_types takes CWM's pattern and says so") {
    json config = cwm_config();
    config["model_type"] = "llama";
    config.erase("layer_types");
    config.erase("sliding_window");
    config.erase("num_key_value_heads");
    config.erase("head_dim");
    config.erase("rope_scaling");
    const HfConfig hf = read(config);
    CHECK(hf.model.layer_is_local == std::vector<bool>{false, true, true, false});  // last layer global
    CHECK(hf.model.window == 8192);
    CHECK(hf.model.n_head_kv == 48);
    CHECK(hf.model.head_dim == 128);  // 6144 / 48
    CHECK(hf.model.rope_scaling.kind == RopeScaling::Kind::llama3);
    CHECK(mentions(hf.defaults, "layer_types"));
    CHECK(mentions(hf.defaults, "sliding_window"));
    CHECK(mentions(hf.defaults, "num_key_value_heads"));
    CHECK(mentions(hf.defaults, "rope_scaling"));
}

TEST_CASE("what cannot be converted is refused, naming the key") {
    json config = cwm_config();
    SUBCASE("another architecture") {
        config["model_type"] = "mistral";
        const Error e = read_error(config);
        CHECK(e.status() == Status::unsupported);
        CHECK(std::string(e.what()).find("model_type") != std::string::npos);
    }
    SUBCASE("missing size") {
        config.erase("hidden_size");
        CHECK(std::string(read_error(config).what()).find("'hidden_size' is missing") != std::string::npos);
    }
    SUBCASE("layer_types of the wrong length") {
        config["layer_types"] = {"full_attention"};
        CHECK(std::string(read_error(config).what()).find("layer_types") != std::string::npos);
    }
    SUBCASE("unknown layer type") {
        config["layer_types"][1] = "chunked_attention";
        CHECK(std::string(read_error(config).what()).find("entry 1") != std::string::npos);
    }
    SUBCASE("heads not divisible by kv heads") {
        config["num_key_value_heads"] = 7;
        CHECK(read_error(config).status() == Status::invalid_file);
    }
    SUBCASE("biases") {
        config["attention_bias"] = true;
        CHECK(read_error(config).status() == Status::unsupported);
    }
    SUBCASE("unknown RoPE type") {
        config["rope_scaling"]["rope_type"] = "yarn";
        CHECK(std::string(read_error(config).what()).find("yarn") != std::string::npos);
    }
    SUBCASE("a string where a number belongs") {
        config["rms_norm_eps"] = "small";
        CHECK(std::string(read_error(config).what()).find("rms_norm_eps") != std::string::npos);
    }
}

TEST_CASE("a config.json that is not JSON, or absent") {
    const std::string path = write_config(json::object());
    std::ofstream(path) << "{\"model_type\": ";
    CHECK_THROWS_WITH_AS(read_hf_config(path), doctest::Contains("not valid JSON"), Error);
    std::filesystem::remove(path);
    try {
        read_hf_config(path);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.status() == Status::io_error);
    }
}

TEST_CASE("rope_scaling null means no scaling; only an absent block takes CWM's") {
    json config = cwm_config();
    config["rope_scaling"] = nullptr;
    const HfConfig hf = read(config);
    CHECK(hf.model.rope_scaling.kind == RopeScaling::Kind::none);
    CHECK(hf.defaults.empty());
}
