// The attention layout a caller applies over the file's (apply_attention_layout) and how it is
// described in the log.
#include <doctest/doctest.h>

#include "error.hpp"
#include "model_config.hpp"

using namespace cwm;

namespace {

// A 9-layer llama file's configuration, as from_gguf leaves it.
ModelConfig llama_config() {
    ModelConfig c;
    c.arch = "llama";
    c.n_layer = 9;
    c.n_ctx_train = 1000;
    c.layer_is_local.assign(9, false);
    c.file_layout = "llama: all global";
    return c;
}

std::string layout(const ModelConfig& c) {
    std::string s;
    for (bool local : c.layer_is_local) s += local ? 'L' : 'G';
    return s;
}

}  // namespace

TEST_CASE("the cwm layout: global at i % 4 == 0 and the last layer, the window given or CWM's") {
    ModelConfig c = llama_config();
    apply_attention_layout(c, AttentionLayout::cwm, 10);
    CHECK(layout(c) == "GLLLGLLLG");
    CHECK(c.window == 10);
    CHECK(describe_attention_layout(c) ==
          "cwm pattern applied by the caller (file says llama: all global): 3 global, 6 local, window 10, "
          "layout GLLLGLLLG");
    apply_attention_layout(c, AttentionLayout::cwm, 0);
    CHECK(c.window == kCwmWindow);  // longer than the context is fine when it is CWM's own
}

TEST_CASE("from_file keeps the file's layout; global drops the local layers and the window") {
    ModelConfig c = llama_config();
    c.layer_is_local = cwm_default_local_layers(9);
    c.window = 7;
    c.file_layout = "cwm: CWM's default rule";
    apply_attention_layout(c, AttentionLayout::from_file, 0);
    CHECK((layout(c) == "GLLLGLLLG" && c.window == 7));
    CHECK(describe_attention_layout(c) == "from the file (cwm: CWM's default rule): 3 global, 6 local, window 7, "
                                          "layout GLLLGLLLG");
    apply_attention_layout(c, AttentionLayout::global, 0);
    CHECK((layout(c) == "GGGGGGGGG" && c.window == 0));
    CHECK(describe_attention_layout(c) ==
          "all global by the caller's choice (file says cwm: CWM's default rule): 9 global, 0 local, layout GGGGGGGGG");
}

TEST_CASE("a window without the cwm layout, or longer than the context, is refused and changes nothing") {
    for (const auto& [layout_kind, window] : {std::pair{AttentionLayout::from_file, 5u},
                                              std::pair{AttentionLayout::global, 5u},
                                              std::pair{AttentionLayout::cwm, 1001u}}) {
        ModelConfig c = llama_config();
        CHECK_THROWS_AS(apply_attention_layout(c, layout_kind, window), Error);
        CHECK((layout(c) == "GGGGGGGGG" && c.applied == AttentionLayout::from_file));
    }
}
