// Hyper-parameters of a CWM-family model, read from GGUF metadata (docs/gguf-format.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cwm {

class GgufFile;

enum class RopePairLayout { interleaved, rotate_half };

// Which local/global attention layout a model runs with. Community GGUF files of CWM exist under
// the `llama` architecture, which cannot say that most layers use a sliding window, so the
// caller may state the layout instead of taking the file's.
enum class AttentionLayout {
    from_file,  // what the file says: its pattern key, CWM's rule for `cwm` without one, none for `llama`
    cwm,        // CWM's rule (cwm_default_local_layers) with the caller's window, whatever the file says
    global,     // every layer attends to the whole context
};

// CWM's sliding window (a token sees itself and the 8191 before it).
inline constexpr uint32_t kCwmWindow = 8192;

// RoPE frequency scaling: none, linear (all frequencies / factor) or Llama-3's banded rule.
struct RopeScaling {
    enum class Kind { none, linear, llama3 } kind = Kind::none;
    float factor = 1.0f;
    float low_freq_factor = 1.0f;
    float high_freq_factor = 4.0f;
    uint32_t original_context = 8192;
};

struct ModelConfig {
    std::string arch;  // "llama" or "cwm"
    uint32_t n_layer = 0;
    uint32_t n_ctx_train = 0;
    uint32_t n_embd = 0;
    uint32_t n_ff = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim = 0;
    uint32_t n_vocab = 0;  // from the embedding tensor
    uint32_t rope_dim = 0;
    float rms_eps = 1e-5f;
    float rope_theta = 10000.0f;
    RopeScaling rope_scaling;
    RopePairLayout pair_layout = RopePairLayout::interleaved;
    uint32_t window = 0;               // sliding window of local layers (0: no local layers)
    std::vector<bool> layer_is_local;  // one entry per layer
    // What the file itself says about the layout, e.g. "llama: all global", for reports that
    // must tell it apart from a layout the caller applied.
    std::string file_layout;
    AttentionLayout applied = AttentionLayout::from_file;  // set by apply_attention_layout

    // Reads and validates the keys; throws Error(invalid_file / unsupported) naming the key.
    static ModelConfig from_gguf(const GgufFile& file);

    uint32_t n_local_layers() const;
};

// CWM's documented layout: layer i is global when i % 4 == 0, and the last layer is global.
std::vector<bool> cwm_default_local_layers(uint32_t n_layer);

// Replaces the file's layout by `layout` (nothing for from_file). `window` is the local layers'
// window for AttentionLayout::cwm (0: kCwmWindow) and must be 0 otherwise; a window longer than
// the model's context is refused (Error invalid_argument) as a certain mistake.
void apply_attention_layout(ModelConfig& config, AttentionLayout layout, uint32_t window);

// One line for logs and reports, e.g. "cwm pattern applied by the caller (file says llama: all
// global): 2 global, 3 local, window 8192, layout GLLLG".
std::string describe_attention_layout(const ModelConfig& config);

// Per-frequency inverse wavelengths theta^(-2i/d), i < rope_dim/2, with Llama-3 scaling
// applied when enabled. `divisors` (from a rope_freqs.weight tensor) overrides the scaling.
std::vector<double> rope_inv_freqs(const ModelConfig& config, const std::vector<float>* divisors);

}  // namespace cwm
