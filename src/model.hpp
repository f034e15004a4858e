// A loaded model: the mapped GGUF file, its configuration, tokenizer and views of the
// weights. Immutable after loading, so any number of contexts may share one model and use
// it from different threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gguf.hpp"
#include "kernels.hpp"
#include "model_config.hpp"
#include "tokenizer.hpp"

namespace cwm {

struct LayerWeights {
    std::vector<float> attn_norm;
    kernels::WeightMatrix wq, wk, wv, wo;
    std::vector<float> ffn_norm;
    kernels::WeightMatrix w_gate, w_up, w_down;
};

enum class LogLevel { debug = 0, info = 1, warn = 2 };
// Where the library reports what it did (it never prints).
using LogFn = std::function<void(LogLevel, const std::string&)>;

struct ModelLoadOptions {
    // Called with a fraction in [0, 1]; returning false cancels the load (Error cancelled).
    std::function<bool(float)> progress;
    // Repack q8_0 / q4_0 matrices into the int8 kernels' layout (kernels/packed_quant.hpp), and
    // q4_k / q6_k ones on CPUs with AVX-512 VNNI (kernels/packed_k.hpp).
    // The copies replace the file's pages in memory, so resident memory does not grow.
    bool repack = true;
    // Receives a summary of the load, and later of each context created on the model.
    LogFn log;
    // The local/global layout to run with instead of the file's, and the window of its local
    // layers (0: CWM's); see apply_attention_layout.
    AttentionLayout attention = AttentionLayout::from_file;
    uint32_t sliding_window = 0;
};

class Model {
public:
    // Throws Error: io_error, invalid_file (missing or misshapen tensor), unsupported, cancelled.
    static std::shared_ptr<const Model> load(const std::string& path, const ModelLoadOptions& options = {});

    const GgufFile& file() const { return *file_; }
    const ModelConfig& config() const { return config_; }
    const Tokenizer& tokenizer() const { return *tokenizer_; }

    const kernels::WeightMatrix& token_embedding() const { return token_embd_; }
    const std::vector<LayerWeights>& layers() const { return layers_; }
    const std::vector<float>& output_norm() const { return output_norm_; }
    const kernels::WeightMatrix& output() const { return output_; }
    const std::vector<double>& rope_inv_freqs() const { return rope_inv_freqs_; }

    uint64_t weight_bytes() const;  // bytes of all tensor data in the file
    // Identifies the weights: a hash of every tensor's name, type, shape and first and last
    // bytes, so that a saved context state is not restored onto another model.
    uint64_t fingerprint() const { return fingerprint_; }
    // Reports through the load options' log function, if any.
    void log(LogLevel level, const std::string& message) const {
        if (log_) log_(level, message);
    }

private:
    // Owns one repacked matrix (64-byte aligned, allocated with std::aligned_alloc).
    struct FreeDeleter {
        void operator()(uint8_t* p) const;
    };
    using PackedBuffer = std::unique_ptr<uint8_t, FreeDeleter>;

    Model() = default;
    void bind_weights(const ModelLoadOptions& options);
    std::vector<kernels::WeightMatrix*> matrices();
    void repack_weights();

    std::unique_ptr<GgufFile> file_;
    ModelConfig config_;
    std::unique_ptr<Tokenizer> tokenizer_;
    kernels::WeightMatrix token_embd_;
    std::vector<LayerWeights> layers_;
    std::vector<float> output_norm_;
    kernels::WeightMatrix output_;
    std::vector<double> rope_inv_freqs_;
    uint64_t fingerprint_ = 0;
    LogFn log_;
    std::vector<PackedBuffer> packed_;
};

}  // namespace cwm
