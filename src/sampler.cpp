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
//   5. min-p (0 = off): keep tokens with p >= min_p * p_max, again at temperature 1,
//      computed as logit - max_logit >= ln(min_p) (independent of normalisation).
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
// If no finite logit remains (all -inf), sample() throws, also in greedy mode. A history token
// outside the logits' range is an error when the penalty is active.
//
// Randomness: exactly one 64-bit draw of std::mt19937_64 per sample with temperature > 0
// (none for greedy), even when only one candidate is left, turned into
// u = (rng() >> 11) * 2^-53 in [0, 1). The token is the first one whose cumulative weight
// exceeds u * (sum of weights), walking best first (the order above) when top-k is active and
// in ascending token id otherwise. No std::*_distribution is used (their outputs are
// implementation-defined), so a seed gives the same tokens with any standard library, up to
// last-ulp differences between libm exp() implementations and, for top-p without top-k,
// summation order inside nth_element-partitioned ranges (both only matter at knife edges).
//
// Cost for n logits: one O(n) validation/argmax pass (two with a repetition penalty, plus a
// copy). top-k is a single pass with a size-k heap (O(n) on typical logits; the vocabulary is
// never sorted) and the rest works on the k survivors. Without top-k, top-p costs one pass of
// n exp() into logit buckets, then a mass-guided quickselect inside the one bucket that holds
// the nucleus boundary (see top_p_boundary: never a sort of the vocabulary, whatever the
// nucleus size), and the draw is one pass over the logits with one exp()
// per kept token. Scratch buffers belong to the sampler and are reused, so steady-state
// sampling does not allocate (they hold up to ~3.5 MB for n = 128256).
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

// A candidate with its unnormalised temperature-1 probability exp(logit - max_logit).
struct Weighted {
    float logit;
    Token id;
    double w;
};

inline bool better_w(const Weighted& a, const Weighted& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// Finds the top-p boundary inside `c` (tokens worse than everything already counted in
// `cum`, in any order): the first token, best first, at which the cumulative mass reaches
// `target`.
//
// Weighted quickselect instead of a sort: nth_element splits the range into a better and a
// worse part, the mass of the better part says which side holds the boundary, and only that
// side is searched further (expected O(n) in total). The first split takes just the 256
// best; a range of at most 256 tokens is sorted and scanned.
Candidate boundary_in(std::vector<Weighted>& c, double cum, double target) {
    constexpr size_t small = 256;
    size_t lo = 0, hi = c.size();
    bool first_split = true;
    const auto b = c.begin();
    while (hi - lo > small) {
        const size_t mid = first_split ? lo + small : lo + (hi - lo) / 2;
        first_split = false;
        std::nth_element(b + static_cast<std::ptrdiff_t>(lo), b + static_cast<std::ptrdiff_t>(mid),
                         b + static_cast<std::ptrdiff_t>(hi), better_w);
        double m = 0.0;
        for (size_t i = lo; i < mid; ++i) m += c[i].w;
        if (cum + m >= target) {
            hi = mid;
        } else {
            cum += m;
            lo = mid;
        }
    }
    std::sort(b + static_cast<std::ptrdiff_t>(lo), b + static_cast<std::ptrdiff_t>(hi), better_w);
    for (size_t i = lo; i < hi; ++i) {
        cum += c[i].w;
        if (cum >= target) return {c[i].logit, c[i].id};
    }
    // Rounding (sums grouped differently from the caller's): the boundary is this range's last.
    return {c[hi - 1].logit, c[hi - 1].id};
}

// top-p over the whole vocabulary (no top-k). Returns the worst token of the nucleus in the
// "better" order: the nucleus is that token and every token better than it. A token with
// logit -inf and the largest id keeps everything.
//
// Never sorts the vocabulary. One pass computes the temperature-1 weights and adds them into
// buckets of width 1/32 in (max_logit - logit), a monotone function of the logit, so every
// bucket holds a contiguous run of the "better" order. The bucket masses locate the bucket
// holding the boundary; only that bucket's tokens are gathered and searched (boundary_in).
Candidate top_p_boundary(std::span<const float> logits, double lmax, double top_p, std::vector<double>& mass,
                         std::vector<Weighted>& gathered) {
    constexpr float inf = std::numeric_limits<float>::infinity();
    constexpr size_t buckets = 1024;
    constexpr double per_unit = 32.0;  // buckets per unit of logit; the last one is open-ended
    auto bucket_of = [&](float l) {
        const double x = (lmax - static_cast<double>(l)) * per_unit;
        return x < static_cast<double>(buckets - 1) ? static_cast<size_t>(x) : buckets - 1;
    };
    mass.assign(buckets, 0.0);
    double z = 0.0;
    for (const float l : logits) {
        if (l == -inf) continue;
        const double w = std::exp(static_cast<double>(l) - lmax);
        z += w;
        mass[bucket_of(l)] += w;
    }
    const double target = top_p * z;
    double cum = 0.0;
    size_t hit = buckets;
    for (size_t k = 0; k < buckets; ++k) {
        if (mass[k] > 0.0 && cum + mass[k] >= target) {
            hit = k;
            break;
        }
        cum += mass[k];
    }
    if (hit == buckets) return {-inf, std::numeric_limits<Token>::max()};  // rounding: keep all

    gathered.clear();
    for (size_t i = 0; i < logits.size(); ++i) {
        const float l = logits[i];
        if (l != -inf && bucket_of(l) == hit)
            gathered.push_back({l, static_cast<Token>(i), std::exp(static_cast<double>(l) - lmax)});
    }
    return boundary_in(gathered, cum, target);
}

}  // namespace

struct SamplerScratch {
    std::vector<float> penalised;
    std::vector<Candidate> cand;
    std::vector<Weighted> weighted;
    std::vector<double> bucket_mass;
    std::vector<double> weight;
    std::vector<Token> recent;
};

namespace {

struct Scan {
    bool bad = false;   // some logit is NaN or +inf
    size_t best = 0;    // first index of the maximum finite logit (valid when finite > 0)
    size_t finite = 0;  // logits that are not -inf
};

Scan scan_logits(std::span<const float> logits) {
    constexpr float inf = std::numeric_limits<float>::infinity();
    Scan s;
    float mx = -inf;
    for (size_t i = 0; i < logits.size(); ++i) {
        const float l = logits[i];
        s.bad |= !(l < inf);
        s.finite += l != -inf;
        if (l > mx) {
            mx = l;
            s.best = i;
        }
    }
    return s;
}

// Index of the first weight whose cumulative sum exceeds target (weights in their given order).
size_t draw(const std::vector<double>& weight, double target) {
    double cum = 0.0;
    size_t last_positive = 0;
    for (size_t i = 0; i < weight.size(); ++i) {
        if (weight[i] <= 0.0) continue;
        cum += weight[i];
        last_positive = i;
        if (target < cum) return i;
    }
    return last_positive;  // rounding left target at the very top
}

}  // namespace

Sampler::Sampler(const SamplerParams& params)
    : params_(params), rng_(params.seed), scratch_(std::make_unique<SamplerScratch>()) {
    validate(params_);
}

Sampler::~Sampler() = default;
Sampler::Sampler(Sampler&&) noexcept = default;
Sampler& Sampler::operator=(Sampler&&) noexcept = default;

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
    constexpr float inf = std::numeric_limits<float>::infinity();
    const size_t n = logits.size();
    if (n == 0) invalid("empty logits");
    if (n > static_cast<size_t>(std::numeric_limits<Token>::max()))
        invalid("too many logits (" + std::to_string(n) + ") for 32-bit token ids");

    SamplerScratch& scratch = *scratch_;

    // Validation, argmax (ties -> lowest id) and the number of possible tokens, in one pass.
    Scan scan = scan_logits(logits);
    if (scan.bad) {
        for (size_t i = 0; i < n; ++i) {
            if (std::isnan(logits[i])) invalid("logit " + std::to_string(i) + " is NaN");
            if (logits[i] == inf) invalid("logit " + std::to_string(i) + " is +inf");
        }
    }

    // 1. Repetition penalty, on a copy only when it changes something.
    if (params_.repeat_penalty != 1.0f && params_.repeat_last_n > 0 && !history_.empty()) {
        const size_t window = std::min(history_.size(), static_cast<size_t>(params_.repeat_last_n));
        std::vector<Token>& recent = scratch.recent;
        recent.assign(history_.end() - static_cast<std::ptrdiff_t>(window), history_.end());
        std::sort(recent.begin(), recent.end());
        recent.erase(std::unique(recent.begin(), recent.end()), recent.end());
        if (static_cast<size_t>(recent.back()) >= n)
            invalid("accepted token " + std::to_string(recent.back()) + " is out of range for " +
                    std::to_string(n) + " logits");
        std::vector<float>& penalised = scratch.penalised;
        penalised.assign(logits.begin(), logits.end());
        const float penalty = params_.repeat_penalty;
        for (const Token t : recent) {
            float& l = penalised[static_cast<size_t>(t)];
            l = l > 0.0f ? l / penalty : l * penalty;
            // A penalty < 1 can push a huge positive logit to +inf: keep it finite and maximal.
            if (l == inf) l = std::numeric_limits<float>::max();
        }
        logits = penalised;
        scan = scan_logits(logits);
    }
    if (scan.finite == 0) invalid("all " + std::to_string(n) + " logits are -inf; no token can be sampled");
    const size_t best = scan.best;

    // 2. Greedy.
    if (params_.temperature <= 0.0f) return static_cast<Token>(best);
    const double u = uniform01(rng_);  // drawn unconditionally: one draw per sampled token
    if (scan.finite == 1) return static_cast<Token>(best);

    const double lmax = logits[best];  // the argmax survives every filter
    const double inv_t = 1.0 / static_cast<double>(params_.temperature);
    const double log_min_p = params_.min_p > 0.0f ? std::log(static_cast<double>(params_.min_p))
                                                  : -std::numeric_limits<double>::infinity();
    std::vector<double>& weight = scratch.weight;
    const size_t k = static_cast<size_t>(params_.top_k);

    if (k > 0 && k < scan.finite) {
        // 3. top-k: a short list, sorted best first.
        std::vector<Candidate>& cand = scratch.cand;
        select_top_k(logits, k, cand);
        if (params_.top_p < 1.0f) top_p_sorted(cand, params_.top_p);  // 4. top-p
        // 5. min-p: keep logit - max_logit >= ln(min_p); the kept set is a prefix.
        if (params_.min_p > 0.0f) {
            auto cut = std::find_if(cand.begin(), cand.end(), [&](const Candidate& c) {
                return !(static_cast<double>(c.logit) - lmax >= log_min_p);
            });
            cand.erase(cut, cand.end());
        }
        // 6. Temperature and the draw, walking cand best first.
        weight.resize(cand.size());
        double z = 0.0;
        for (size_t i = 0; i < cand.size(); ++i) {
            weight[i] = std::exp((static_cast<double>(cand[i].logit) - lmax) * inv_t);
            z += weight[i];
        }
        return cand[draw(weight, u * z)].id;
    }

    // No top-k. 4. top-p finds the worst token of the nucleus ("boundary"); everything at
    // least as good as it stays.
    Candidate boundary{-inf, std::numeric_limits<Token>::max()};  // keeps every token
    if (params_.top_p < 1.0f)
        boundary = top_p_boundary(logits, lmax, params_.top_p, scratch.bucket_mass, scratch.weighted);
    // 5. min-p and 6. the draw, directly over the logits in ascending token id.
    weight.resize(n);
    double z = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const float l = logits[i];
        const double d = static_cast<double>(l) - lmax;  // -inf for impossible tokens
        const bool keep = l != -inf && d >= log_min_p &&
                          (l > boundary.logit || (l == boundary.logit && static_cast<Token>(i) <= boundary.id));
        const double w = keep ? std::exp(d * inv_t) : 0.0;
        weight[i] = w;
        z += w;
    }
    return static_cast<Token>(draw(weight, u * z));
}

}  // namespace cwm
