// Token sampling: greedy, temperature, top-k, top-p, min-p and repetition penalty,
// driven by a seeded generator so that a given seed always reproduces the same tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "tokenizer.hpp"

namespace cwm {

struct SamplerParams {
    float temperature = 1.0f;        // <= 0 means greedy (argmax)
    int32_t top_k = 0;               // 0 = off
    float top_p = 1.0f;              // 1 = off
    float min_p = 0.0f;              // 0 = off; keep tokens with p >= min_p * p_max
    float repeat_penalty = 1.0f;     // 1 = off; as in llama.cpp / CTRL: logit/p if >0 else logit*p
    int32_t repeat_last_n = 64;      // how many recent tokens the penalty looks at
    uint64_t seed = 0;
};

struct SamplerScratch;  // reusable work buffers, defined in sampler.cpp

class Sampler {
public:
    // Throws Error(invalid_argument) naming the parameter when one is out of range.
    explicit Sampler(const SamplerParams& params);
    ~Sampler();
    Sampler(Sampler&&) noexcept;
    Sampler& operator=(Sampler&&) noexcept;

    // Chooses the next token from `logits` (one per vocabulary entry), taking the
    // tokens accepted so far into account for the repetition penalty.
    // Throws Error(invalid_argument) on empty logits, or a NaN or +inf logit (naming its index).
    Token sample(std::span<const float> logits);

    // Records a token that became part of the sequence (sampled or from the prompt).
    void accept(Token token);
    void reset();  // forgets history and re-seeds

    const SamplerParams& params() const { return params_; }

private:
    SamplerParams params_;
    std::mt19937_64 rng_;
    std::vector<Token> history_;
    // Kept across calls so that sampling a 128k vocabulary does not allocate every token.
    std::unique_ptr<SamplerScratch> scratch_;
};

}  // namespace cwm
