// Token sampling.
//
// Order of operations in Sampler::sample (the same as llama.cpp's default common sampler
// chain: penalties -> top_k -> top_p -> min_p -> temp -> dist):
//
//   1. Repetition penalty over the last `repeat_last_n` accepted tokens. Each distinct token
//      in that window is penalised once: logit > 0 ? logit / penalty : logit * penalty.
//   2. temperature <= 0: return the argmax of the penalised logits (ties -> lowest id).
//      top-k / top-p / min-p are skipped: none of them can remove the argmax.
//   3. top-k (0 = off): keep the k highest logits.
//   4. top-p (1 = off): with p = softmax(logits) over what top-k kept, at temperature 1,
//      keep the smallest set of most probable tokens whose cumulative probability is
//      >= top_p (always at least one token).
//   5. min-p (0 = off): keep tokens with p >= min_p * p_max, again at temperature 1
//      (computed as exp(logit - max_logit) >= min_p, which does not depend on normalisation).
//   6. Temperature is applied LAST: the token is drawn from softmax(logit / temperature)
//      restricted to what steps 3-5 kept. Temperature therefore never changes which tokens
//      the filters keep, only how the kept ones are weighted.
//
// Ties: whenever tokens are ranked (top-k, top-p, argmax) the order is "higher logit first,
// then lower token id", a strict total order, so the kept set never depends on the standard
// library's sort/selection algorithms. The candidates a filter keeps are therefore always a
// prefix of the vocabulary in that order.
//
// Logits: NaN and +inf are rejected (Error naming the index); -inf marks an impossible token.
// If no finite logit remains (all -inf), sample() throws.
//
// Randomness: exactly one 64-bit draw of std::mt19937_64 per sample with temperature > 0
// (none for greedy), even when only one candidate is left, turned into
// u = (rng() >> 11) * 2^-53 in [0, 1) and mapped to a token by walking the cumulative
// weights in a fixed order. No std::*_distribution is used (their outputs are
// implementation-defined), so a seed gives the same tokens with any standard library
// (up to last-ulp differences between libm exp() implementations).
//
// Cost: one O(n) validation pass; top-k is a single pass with a size-k heap (O(n) on typical
// logits, never a sort of the vocabulary); top-p without top-k selects and sorts the most
// probable tokens in growing chunks (nth_element + sort of the chunk) until the nucleus is
// complete, so only the nucleus (plus at most as much again) is ever sorted.
#include "sampler.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <sstream>
#include <string>

#include "error.hpp"

namespace cwm {

namespace {

struct Candidate {
    float logit;
    Token id;
};

// Strict total order: higher logit first, then lower id.
inline bool better(const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

std::string fmt(double v) {
    std::ostringstream os;
    os.precision(9);
    os << v;
    return os.str();
}

[[noreturn]] void invalid(const std::string& message) { fail(Status::invalid_argument, "sampler: " + message); }

void validate(const SamplerParams& p) {
    if (!std::isfinite(p.temperature))
        invalid("temperature must be finite, got " + fmt(p.temperature));
    if (p.top_k < 0)
        invalid("top_k must be >= 0 (0 = off), got " + std::to_string(p.top_k));
    if (!(p.top_p > 0.0f && p.top_p <= 1.0f))  // also rejects NaN
        invalid("top_p must be in (0, 1] (1 = off), got " + fmt(p.top_p));
    if (!(p.min_p >= 0.0f && p.min_p <= 1.0f))
        invalid("min_p must be in [0, 1] (0 = off), got " + fmt(p.min_p));
    if (!(p.repeat_penalty > 0.0f) || !std::isfinite(p.repeat_penalty))
        invalid("repeat_penalty must be finite and > 0 (1 = off), got " + fmt(p.repeat_penalty));
    if (p.repeat_last_n < 0)
        invalid("repeat_last_n must be >= 0 (0 = off), got " + std::to_string(p.repeat_last_n));
}

// Uniform double in [0, 1) from the top 53 bits of one 64-bit draw.
inline double uniform01(std::mt19937_64& rng) {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Keeps the k best candidates (by `better`) of the finite logits, sorted best first.
void select_top_k(std::span<const float> logits, size_t k, std::vector<Candidate>& out) {
    out.clear();
    out.reserve(k);
    // Max-heap under `better` puts the WORST kept candidate at the front.
    size_t i = 0;
    const size_t n = logits.size();
    for (; i < n && out.size() < k; ++i) {
        const float l = logits[i];
        if (l == -std::numeric_limits<float>::infinity()) continue;
        out.push_back({l, static_cast<Token>(i)});
        std::push_heap(out.begin(), out.end(), better);
    }
    if (out.size() == k) {
        // Ids increase along the scan, so a later token only enters with a strictly higher logit.
        float threshold = out.front().logit;
        for (; i < n; ++i) {
            const float l = logits[i];
            if (!(l > threshold)) continue;
            std::pop_heap(out.begin(), out.end(), better);
            out.back() = {l, static_cast<Token>(i)};
            std::push_heap(out.begin(), out.end(), better);
            threshold = out.front().logit;
        }
    }
    std::sort(out.begin(), out.end(), better);
}

// Truncates `c` (sorted best first) to the smallest prefix whose probability mass reaches top_p.
void top_p_sorted(std::vector<Candidate>& c, double top_p) {
    const double lmax = c.front().logit;
    double z = 0.0;
    for (const Candidate& x : c) z += std::exp(static_cast<double>(x.logit) - lmax);
    const double target = top_p * z;
    double cum = 0.0;
    for (size_t i = 0; i < c.size(); ++i) {
        cum += std::exp(static_cast<double>(c[i].logit) - lmax);
        if (cum >= target) {
            c.resize(i + 1);
            return;
        }
    }
    // Rounding kept the sum just under target: everything stays.
}

// Same, for unsorted `c`: brings the best candidates to the front chunk by chunk (each chunk
// sorted) until the nucleus is complete, then truncates. Leaves `c` sorted best first.
void top_p_unsorted(std::vector<Candidate>& c, double top_p, float lmax_f) {
    const double lmax = lmax_f;
    double z = 0.0;
    for (const Candidate& x : c) z += std::exp(static_cast<double>(x.logit) - lmax);
    const double target = top_p * z;
    double cum = 0.0;
    size_t done = 0;
    size_t want = std::min<size_t>(c.size(), 256);
    for (;;) {
        auto first = c.begin() + static_cast<std::ptrdiff_t>(done);
        auto mid = c.begin() + static_cast<std::ptrdiff_t>(want);
        if (mid != c.end()) std::nth_element(first, mid, c.end(), better);
        std::sort(first, mid, better);
        for (size_t i = done; i < want; ++i) {
            cum += std::exp(static_cast<double>(c[i].logit) - lmax);
            if (cum >= target) {
                c.resize(i + 1);
                return;
            }
        }
        if (want == c.size()) return;  // rounding: keep everything (now fully sorted)
        done = want;
        want = std::min(c.size(), want * 4);
    }
}

}  // namespace

Sampler::Sampler(const SamplerParams& params) : params_(params), rng_(params.seed) { validate(params_); }

void Sampler::reset() {
    history_.clear();
    rng_.seed(params_.seed);
}

void Sampler::accept(Token token) {
    if (token < 0) invalid("cannot accept negative token id " + std::to_string(token));
    const size_t keep = static_cast<size_t>(params_.repeat_last_n);
    if (keep == 0 || params_.repeat_penalty == 1.0f) return;  // history is never looked at
    history_.push_back(token);
    if (history_.size() >= 2 * keep + 256)  // amortised trim to the window
        history_.erase(history_.begin(), history_.end() - static_cast<std::ptrdiff_t>(keep));
}

Token Sampler::sample(std::span<const float> logits) {
    const size_t n = logits.size();
    if (n == 0) invalid("empty logits");
    if (n > static_cast<size_t>(std::numeric_limits<Token>::max()))
        invalid("too many logits (" + std::to_string(n) + ") for 32-bit token ids");

    for (size_t i = 0; i < n; ++i) {
        const float l = logits[i];
        if (std::isnan(l)) invalid("logit " + std::to_string(i) + " is NaN");
        if (l == std::numeric_limits<float>::infinity()) invalid("logit " + std::to_string(i) + " is +inf");
    }

    // 1. Repetition penalty, on a copy only when it changes something.
    std::vector<float> penalised;
    if (params_.repeat_penalty != 1.0f && params_.repeat_last_n > 0 && !history_.empty()) {
        const size_t window = std::min(history_.size(), static_cast<size_t>(params_.repeat_last_n));
        std::vector<Token> recent(history_.end() - static_cast<std::ptrdiff_t>(window), history_.end());
        std::sort(recent.begin(), recent.end());
        recent.erase(std::unique(recent.begin(), recent.end()), recent.end());
        if (static_cast<size_t>(recent.back()) >= n)
            invalid("accepted token " + std::to_string(recent.back()) + " is out of range for " +
                    std::to_string(n) + " logits");
        penalised.assign(logits.begin(), logits.end());
        const float penalty = params_.repeat_penalty;
        for (const Token t : recent) {
            float& l = penalised[static_cast<size_t>(t)];
            l = l > 0.0f ? l / penalty : l * penalty;
            // A penalty < 1 can push a huge positive logit to +inf: keep it finite and maximal.
            if (l == std::numeric_limits<float>::infinity()) l = std::numeric_limits<float>::max();
        }
        logits = penalised;
    }

    // Argmax (ties -> lowest id) and number of possible tokens.
    size_t best = n;
    size_t finite = 0;
    for (size_t i = 0; i < n; ++i) {
        const float l = logits[i];
        if (l == -std::numeric_limits<float>::infinity()) continue;
        ++finite;
        if (best == n || l > logits[best]) best = i;
    }
    if (finite == 0) invalid("all " + std::to_string(n) + " logits are -inf; no token can be sampled");

    // 2. Greedy.
    if (params_.temperature <= 0.0f) return static_cast<Token>(best);
    const double u = uniform01(rng_);  // drawn unconditionally: one draw per sampled token
    if (finite == 1) return static_cast<Token>(best);

    // 3. top-k.
    std::vector<Candidate> cand;
    bool sorted = false;  // cand sorted best first (otherwise: ascending id)
    const size_t k = static_cast<size_t>(params_.top_k);
    if (k > 0 && k < finite) {
        select_top_k(logits, k, cand);
        sorted = true;
    } else {
        cand.reserve(finite);
        for (size_t i = 0; i < n; ++i)
            if (logits[i] != -std::numeric_limits<float>::infinity())
                cand.push_back({logits[i], static_cast<Token>(i)});
    }
    const float lmax = logits[best];  // the argmax survives every filter

    // 4. top-p.
    if (params_.top_p < 1.0f && cand.size() > 1) {
        if (sorted) {
            top_p_sorted(cand, params_.top_p);
        } else {
            top_p_unsorted(cand, params_.top_p, lmax);
            sorted = true;
        }
    }

    // 5. min-p: exp(logit - lmax) >= min_p.
    if (params_.min_p > 0.0f && cand.size() > 1) {
        const double min_p = params_.min_p;
        auto drop = [&](const Candidate& c) {
            return !(std::exp(static_cast<double>(c.logit) - static_cast<double>(lmax)) >= min_p);
        };
        if (sorted) {
            auto cut = std::find_if(cand.begin(), cand.end(), drop);  // kept set is a prefix
            cand.erase(cut, cand.end());
        } else {
            std::erase_if(cand, drop);
        }
    }

    // 6. Temperature and the draw, walking cand in its (deterministic) order.
    if (cand.size() == 1) return cand.front().id;
    const double inv_t = 1.0 / static_cast<double>(params_.temperature);
    std::vector<double> weight(cand.size());
    double z = 0.0;
    for (size_t i = 0; i < cand.size(); ++i) {
        weight[i] = std::exp((static_cast<double>(cand[i].logit) - static_cast<double>(lmax)) * inv_t);
        z += weight[i];
    }
    const double target = u * z;
    double cum = 0.0;
    size_t last_positive = 0;
    for (size_t i = 0; i < cand.size(); ++i) {
        if (weight[i] <= 0.0) continue;
        cum += weight[i];
        last_positive = i;
        if (target < cum) return cand[i].id;
    }
    return cand[last_positive].id;  // rounding left target at the very top
}

}  // namespace cwm
