#include "gguf_convert.hpp"

#include <filesystem>
#include <vector>

#include "error.hpp"
#include "gguf.hpp"

namespace cwm {

namespace {

// Keys only the `cwm` architecture has (docs/gguf-format.md): a `llama` file cannot carry them.
bool cwm_only(const std::string& name) {
    return name == "attention.sliding_window" || name == "attention.sliding_window_pattern" ||
           name == "rope.pair_layout";
}

// The source's metadata in file order, with the architecture and every `<from>.` key renamed
// to `to` (llama.cpp's `<arch>.` keys mean the same under either architecture).
void copy_metadata(const GgufFile& source, const std::string& from, const std::string& to, GgufWriter& writer) {
    const std::string prefix = from + ".";
    for (const auto& [key, value] : source.metadata()) {
        if (key == "general.architecture") {
            writer.set(key, GgufValue::from_string(to));
        } else if (!key.starts_with(prefix)) {
            writer.set(key, value);
        } else if (const std::string name = key.substr(prefix.size()); to == "cwm" || !cwm_only(name)) {
            writer.set(to + "." + name, value);
        }
    }
}

// Every layout key written out, so the file says exactly what it means (no defaults to recall).
void write_cwm_layout(const ModelConfig& c, GgufWriter& writer) {
    std::vector<GgufValue> pattern;
    for (bool local : c.layer_is_local) pattern.push_back(GgufValue::from_bool(local));
    writer.set("cwm.attention.sliding_window", GgufValue::from_uint(GgufType::u32, c.window));
    writer.set("cwm.attention.sliding_window_pattern", GgufValue::from_array(GgufType::boolean, std::move(pattern)));
    // A llama input is interleaved (llama.cpp's converter permutes q/k into that layout).
    writer.set("cwm.rope.pair_layout",
               GgufValue::from_string(c.pair_layout == RopePairLayout::rotate_half ? "rotate_half" : "interleaved"));
}

// Refused although the rename would leave the mapped input intact: the input is often the only
// copy of a large download, and other programs would silently see a different model.
void refuse_same_file(const std::string& input, const std::string& output) {
    std::error_code ec;  // set (and the answer false) when the output does not exist yet
    if (input == output || std::filesystem::equivalent(input, output, ec))
        fail(Status::invalid_argument, "convert: the output " + output + " is the input file; write a new file");
}

}  // namespace

void convert_gguf(const std::string& input, const std::string& output, const ConvertOptions& options) {
    if (options.layout == AttentionLayout::from_file)
        fail(Status::invalid_argument, "convert: the layout to write must be cwm or global");
    const GgufFile source(input);
    refuse_same_file(input, output);
    ModelConfig config = ModelConfig::from_gguf(source);
    apply_attention_layout(config, options.layout, options.window);
    const bool to_cwm = options.layout == AttentionLayout::cwm;
    if (!to_cwm && config.pair_layout == RopePairLayout::rotate_half)
        fail(Status::unsupported, "convert: " + input +
                                      " rotates RoPE pairs rotate_half, which a llama file cannot state; it stays cwm");
    GgufWriter writer(source.alignment());
    copy_metadata(source, config.arch, to_cwm ? "cwm" : "llama", writer);
    if (to_cwm) write_cwm_layout(config, writer);
    for (const TensorView& t : source.tensors()) writer.add_tensor(t.name, t.type, t.ne, t.data);
    const auto& tensors = source.tensors();
    size_t done = 0;
    writer.write(output, [&](uint64_t bytes, uint64_t total) {
        source.release(tensors[done++]);  // written in order: its pages need not stay resident
        if (options.progress && !options.progress(done, tensors.size(), bytes, total))
            fail(Status::cancelled, "conversion cancelled");
    });
}

}  // namespace cwm
