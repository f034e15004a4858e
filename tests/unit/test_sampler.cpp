// Tests for cwm::Sampler. Expected values are computed independently here (plain sorts and
// softmax in double), never by calling into the sampler's own helpers.
//
// The sampler's documented order (see src/sampler.cpp): penalty -> [greedy] -> top-k ->
// top-p -> min-p (both on temperature-1 probabilities) -> temperature -> draw. Several tests
// use a huge temperature to make the final draw (almost) uniform over whatever the filters
// kept, which exposes the kept set exactly.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "error.hpp"
#include "sampler.hpp"

using cwm::Sampler;
using cwm::SamplerParams;
using cwm::Token;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Deterministic pseudo-random logits that do not depend on the standard library's
// distributions: uniform in [lo, hi) from a SplitMix64 stream.
std::vector<float> make_logits(size_t n, uint64_t seed, float lo, float hi) {
    std::vector<float> out(n);
    uint64_t x = seed;
    for (size_t i = 0; i < n; ++i) {
        x += 0x9E3779B97F4A7C15ull;
        uint64_t z = x;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        const double u = static_cast<double>(z >> 11) * 0x1.0p-53;
        out[i] = static_cast<float>(lo + (hi - lo) * u);
    }
    return out;
}

std::vector<double> softmax(const std::vector<float>& logits, double temperature) {
    double mx = -std::numeric_limits<double>::infinity();
    for (float l : logits) mx = std::max(mx, static_cast<double>(l));
    std::vector<double> p(logits.size());
    double z = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
        p[i] = logits[i] == kNegInf ? 0.0 : std::exp((logits[i] - mx) / temperature);
        z += p[i];
    }
    for (double& v : p) v /= z;
    return p;
}

// Token ids ranked best first: higher logit, then lower id.
std::vector<Token> ranked(const std::vector<float>& logits) {
    std::vector<Token> ids(logits.size());
    std::iota(ids.begin(), ids.end(), 0);
    std::stable_sort(ids.begin(), ids.end(), [&](Token a, Token b) { return logits[a] > logits[b]; });
    return ids;
}

// The top-p nucleus from its definition: the shortest best-first prefix (ties -> lower id)
// whose temperature-1 probability reaches top_p. Refuses knife-edge inputs where the
// summation order could decide membership.
std::set<Token> nucleus(const std::vector<float>& logits, double top_p) {
    const auto order = ranked(logits);
    const auto prob = softmax(logits, 1.0);
    double cum = 0;
    size_t m = 0;
    while (cum < top_p) cum += prob[order[m++]];
    REQUIRE(cum - top_p > 1e-9);
    REQUIRE(top_p - (cum - prob[order[m - 1]]) > 1e-9);
    return {order.begin(), order.begin() + static_cast<std::ptrdiff_t>(m)};
}

std::vector<int> counts(Sampler& s, const std::vector<float>& logits, int draws) {
    std::vector<int> c(logits.size(), 0);
    int out_of_range = 0;
    for (int i = 0; i < draws; ++i) {
        const Token t = s.sample(logits);
        if (t < 0 || static_cast<size_t>(t) >= logits.size())
            ++out_of_range;
        else
            ++c[static_cast<size_t>(t)];
    }
    REQUIRE(out_of_range == 0);
    return c;
}

std::set<Token> seen(const std::vector<int>& c) {
    std::set<Token> s;
    for (size_t i = 0; i < c.size(); ++i)
        if (c[i] > 0) s.insert(static_cast<Token>(i));
    return s;
}

// Upper quantile of the chi-square distribution with `df` degrees of freedom at standard
// normal deviate z (Wilson-Hilferty approximation). z = 4.75 ~ one-sided p = 1e-6.
double chi2_critical(int df, double z = 4.75) {
    const double a = 2.0 / (9.0 * df);
    const double t = 1.0 - a + z * std::sqrt(a);
    return df * t * t * t;
}

// Checks observed counts against expected probabilities: zero-probability tokens must never
// appear; the rest pass a chi-square goodness-of-fit test.
void check_distribution(const std::vector<int>& obs, const std::vector<double>& p, int draws) {
    REQUIRE(obs.size() == p.size());
    double chi2 = 0;
    int cats = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] == 0.0) {
            INFO("token " << i << " has probability 0");
            CHECK(obs[i] == 0);
            continue;
        }
        const double e = p[i] * draws;
        chi2 += (obs[i] - e) * (obs[i] - e) / e;
        ++cats;
    }
    REQUIRE(cats >= 2);
    const double crit = chi2_critical(cats - 1);
    INFO("chi2 = " << chi2 << ", critical = " << crit << ", df = " << cats - 1);
    CHECK(chi2 < crit);
}

SamplerParams sampling(float temperature, uint64_t seed = 42) {
    SamplerParams p;
    p.temperature = temperature;
    p.seed = seed;
    return p;
}

// Runs `f` and returns the cwm::Error it throws (fails the test if it does not).
template <typename F>
std::string error_message(F&& f) {
    try {
        f();
    } catch (const cwm::Error& e) {
        CHECK(e.status() == cwm::Status::invalid_argument);
        return e.what();
    }
    FAIL("expected cwm::Error");
    return {};
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("sampler: greedy returns the argmax, ties to the lowest id") {
    const auto logits = make_logits(5000, 1, -10, 10);
    const Token expected = static_cast<Token>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    for (float t : {0.0f, -1.0f}) {
        SamplerParams p = sampling(t);
        p.top_k = 3;  // filters cannot change the argmax
        p.top_p = 0.1f;
        p.min_p = 0.5f;
        Sampler s(p);
        for (int i = 0; i < 5; ++i) CHECK(s.sample(logits) == expected);
    }
    Sampler s(sampling(0));
    const std::vector<float> ties{1, 5, 5, -2};
    CHECK(s.sample(ties) == 1);
    const std::vector<float> all_equal(7, 0.25f);
    CHECK(s.sample(all_equal) == 0);
    const std::vector<float> with_neg_inf{kNegInf, -100, kNegInf, -99};
    CHECK(s.sample(with_neg_inf) == 3);
}

TEST_CASE("sampler: same seed reproduces the sequence, different seed differs, reset re-seeds") {
    const auto logits = make_logits(1000, 2, 0, 3);
    auto run = [&](Sampler& s) {
        std::vector<Token> out;
        for (int i = 0; i < 500; ++i) out.push_back(s.sample(logits));
        return out;
    };
    Sampler a(sampling(1.0f, 7)), b(sampling(1.0f, 7)), c(sampling(1.0f, 8));
    const auto ra = run(a);
    CHECK(ra == run(b));
    CHECK(ra != run(c));
    a.reset();
    CHECK(run(a) == ra);
    // Not degenerate: a near-flat distribution over 1000 tokens gives many distinct tokens.
    CHECK(std::set<Token>(ra.begin(), ra.end()).size() > 200);
}

TEST_CASE("sampler: one mt19937_64 draw per sample, u = (r >> 11) * 2^-53, cumulative in id order") {
    // Independent reimplementation of the documented draw for two tokens with p = {1/4, 3/4}
    // (no filters: the cumulative walk is in id order): token 0 iff u < 1/4.
    const std::vector<float> logits{0.0f, static_cast<float>(std::log(3.0))};
    for (uint64_t seed : {0ull, 1ull, 12345ull}) {
        Sampler s(sampling(1.0f, seed));
        std::mt19937_64 rng(seed);
        for (int i = 0; i < 2000; ++i) {
            const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
            INFO("seed " << seed << " draw " << i << " u " << u);
            REQUIRE(s.sample(logits) == (u < 0.25 ? 0 : 1));
        }
    }
    // A sample with a single possible token still consumes exactly one draw.
    Sampler s(sampling(1.0f, 5));
    std::mt19937_64 rng(5);
    const std::vector<float> single{kNegInf, 0.0f, kNegInf};
    const std::vector<float> equal{0.0f, 0.0f};
    for (int i = 0; i < 200; ++i) {
        if (i % 3 == 0) {
            CHECK(s.sample(single) == 1);
            rng();
        } else {
            const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
            REQUIRE(s.sample(equal) == (u < 0.5 ? 0 : 1));
        }
    }
}

TEST_CASE("sampler: empirical frequencies match softmax(logits / T)") {
    const std::vector<float> logits{1.0f, 2.0f, 0.5f, -1.0f, 3.0f, 2.5f, kNegInf, 0.0f, 1.7f, -0.3f};
    const int draws = 200000;
    for (float t : {0.7f, 1.0f, 1.8f}) {
        INFO("temperature " << t);
        Sampler s(sampling(t, 99));
        check_distribution(counts(s, logits, draws), softmax(logits, t), draws);
    }
}

TEST_CASE("sampler: top-k keeps exactly the k best tokens") {
    const auto logits = make_logits(1000, 3, -5, 5);
    const auto order = ranked(logits);
    SUBCASE("the sampled set is exactly the k best") {
        for (int k : {1, 10, 40}) {
            INFO("k = " << k);
            SamplerParams p = sampling(1e6f, 11);  // ~uniform over the kept set
            p.top_k = k;
            Sampler s(p);
            const auto c = counts(s, logits, 400 * k);
            CHECK(seen(c) == std::set<Token>(order.begin(), order.begin() + k));
        }
    }
    SUBCASE("distribution inside the top-k is the renormalised softmax") {
        SamplerParams p = sampling(0.8f, 12);
        p.top_k = 8;
        Sampler s(p);
        std::vector<float> restricted(logits.size(), kNegInf);
        for (int i = 0; i < 8; ++i) restricted[order[i]] = logits[order[i]];
        const int draws = 200000;
        check_distribution(counts(s, logits, draws), softmax(restricted, 0.8), draws);
    }
    SUBCASE("ties at the boundary go to the lower ids") {
        const std::vector<float> l{0, 3, 1, 1, 1, 1, 2};  // best: 1, 6, then 1-valued ids 2,3,4,5
        SamplerParams p = sampling(1e6f, 13);
        p.top_k = 4;
        Sampler s(p);
        CHECK(seen(counts(s, l, 4000)) == std::set<Token>{1, 6, 2, 3});
    }
    SUBCASE("k larger than the vocabulary keeps everything possible") {
        const std::vector<float> l{0, kNegInf, 1, 2};
        SamplerParams p = sampling(1e6f, 14);
        p.top_k = 100;
        Sampler s(p);
        CHECK(seen(counts(s, l, 3000)) == std::set<Token>{0, 2, 3});
    }
    SUBCASE("Llama-3 sized vocabulary, k = 40") {
        const auto big = make_logits(128256, 4, -8, 8);
        const auto big_order = ranked(big);
        const std::set<Token> top(big_order.begin(), big_order.begin() + 40);
        SamplerParams p = sampling(1e6f, 15);
        p.top_k = 40;
        Sampler s(p);
        std::set<Token> got;
        for (int i = 0; i < 1000; ++i) got.insert(s.sample(big));
        CHECK(got == top);
    }
}

TEST_CASE("sampler: top-p keeps exactly the minimal nucleus") {
    // Probabilities 0.4, 0.3, 0.2, 0.1 on ids 3, 0, 1, 2 (id 4 impossible).
    const std::vector<float> l{std::log(0.3f), std::log(0.2f), std::log(0.1f), std::log(0.4f), kNegInf};
    struct Case {
        float top_p;
        std::set<Token> nucleus;
    };
    // Cumulative: 0.4, 0.7, 0.9, 1.0. The nucleus is the shortest prefix reaching top_p.
    SUBCASE("hand-built distribution") {
        for (const Case& c : {Case{0.05f, {3}}, Case{0.35f, {3}}, Case{0.45f, {3, 0}}, Case{0.65f, {3, 0}},
                              Case{0.75f, {3, 0, 1}}, Case{0.85f, {3, 0, 1}}, Case{0.95f, {3, 0, 1, 2}},
                              Case{1.0f, {3, 0, 1, 2}}}) {
            INFO("top_p = " << c.top_p);
            SamplerParams p = sampling(1e6f, 21);  // temperature applied after top-p: uniform on nucleus
            p.top_p = c.top_p;
            Sampler s(p);
            CHECK(seen(counts(s, l, 4000)) == c.nucleus);
        }
    }
    SUBCASE("probabilities inside the nucleus are renormalised softmax(logits / T)") {
        SamplerParams p = sampling(1.3f, 22);
        p.top_p = 0.75f;  // nucleus {3, 0, 1}
        Sampler s(p);
        const std::vector<float> restricted{l[0], l[1], kNegInf, l[3], kNegInf};
        const int draws = 200000;
        check_distribution(counts(s, l, draws), softmax(restricted, 1.3), draws);
    }
    SUBCASE("larger vocabularies: the nucleus matches the definition") {
        struct Vocab {
            size_t n;
            float lo, hi;
        };
        // Logits spread over many probability levels, and packed into a narrow range (one
        // dense group of nearly equal probabilities, so the boundary search has to split it).
        for (const Vocab& v : {Vocab{4000, 0.0f, 3.0f}, Vocab{2000, 0.0f, 0.03f}}) {
            const auto big = make_logits(v.n, 5, v.lo, v.hi);
            const double top_p = 0.3f;  // the float the sampler sees
            const auto expected = nucleus(big, top_p);
            INFO("vocab " << v.n << ", nucleus " << expected.size());
            REQUIRE(expected.size() > 300);
            SamplerParams p = sampling(1e6f, 23);
            p.top_p = static_cast<float>(top_p);
            Sampler s(p);
            CHECK(seen(counts(s, big, 30 * static_cast<int>(expected.size()))) == expected);
        }
    }
    SUBCASE("ties at the nucleus boundary go to the lower ids") {
        std::vector<float> tied(1000);
        for (size_t i = 0; i < tied.size(); ++i) tied[i] = i % 3 == 0 ? 1.0f : (i % 3 == 1 ? 0.5f : kNegInf);
        for (float top_p : {0.3f, 0.75f, 0.9f}) {
            INFO("top_p = " << top_p);
            const auto expected = nucleus(tied, top_p);
            SamplerParams p = sampling(1e6f, 26);
            p.top_p = top_p;
            Sampler s(p);
            CHECK(seen(counts(s, tied, 30 * static_cast<int>(expected.size()))) == expected);
            if (top_p == 0.3f) {  // only multiples of 3, and the lowest of them
                CHECK(*expected.rbegin() % 3 == 0);
                CHECK(expected.size() < 334);
                CHECK(*expected.rbegin() == 3 * static_cast<Token>(expected.size() - 1));
            }
        }
    }
    SUBCASE("top-p after top-k uses the probabilities renormalised over the top-k") {
        // Global p = 0.3, 0.25, 0.2, 0.15, 0.1. With k = 3 the renormalised p are
        // 0.4, 0.333, 0.267: top_p = 0.7 keeps 2 tokens (over the global p it would keep 3).
        const std::vector<float> g{std::log(0.15f), std::log(0.3f), std::log(0.1f), std::log(0.25f), std::log(0.2f)};
        SamplerParams p = sampling(1e6f, 24);
        p.top_k = 3;
        p.top_p = 0.7f;
        Sampler s(p);
        CHECK(seen(counts(s, g, 4000)) == std::set<Token>{1, 3});
    }
    SUBCASE("temperature does not change the nucleus") {
        // At T = 1 the nucleus for 0.65 is {3, 0}; a large temperature would flatten the
        // distribution and widen the nucleus if it were applied before top-p.
        SamplerParams p = sampling(50.0f, 25);
        p.top_p = 0.65f;
        Sampler s(p);
        CHECK(seen(counts(s, l, 4000)) == std::set<Token>{3, 0});
    }
}

TEST_CASE("sampler: min-p keeps p >= min_p * p_max") {
    // p proportional to 0.5, 0.2, 0.1, 0.09, 0.06, 0.05 on ids 5, 4, 3, 2, 1, 0.
    const std::vector<float> l{std::log(0.05f), std::log(0.06f), std::log(0.09f), std::log(0.1f), std::log(0.2f),
                               std::log(0.5f)};
    struct Case {
        float min_p;
        std::set<Token> kept;
    };
    SUBCASE("hand-built distribution, alone and after top-k / top-p that keep all six") {
        for (const Case& c : {Case{0.0f, {0, 1, 2, 3, 4, 5}}, Case{0.11f, {1, 2, 3, 4, 5}},
                              Case{0.19f, {3, 4, 5}}, Case{0.21f, {4, 5}}, Case{0.41f, {5}}, Case{1.0f, {5}}}) {
            for (int variant = 0; variant < 3; ++variant) {
                INFO("min_p = " << c.min_p << ", variant " << variant);
                SamplerParams p = sampling(1e6f, 31);
                p.min_p = c.min_p;
                std::vector<float> v = l;
                if (variant == 1) {  // top-k path: top-k drops an extra worst token, keeps the 6
                    v.push_back(std::log(1e-6f));
                    p.top_k = 6;
                }
                if (variant == 2) p.top_p = 0.9999f;  // top-p path, keeps all 6
                Sampler s(p);
                CHECK(seen(counts(s, v, 4000)) == c.kept);
            }
        }
    }
    SUBCASE("min_p = 1 keeps every token tied with the maximum") {
        const std::vector<float> t{2, 1, 2, kNegInf};
        SamplerParams p = sampling(1.0f, 32);
        p.min_p = 1.0f;
        Sampler s(p);
        CHECK(seen(counts(s, t, 2000)) == std::set<Token>{0, 2});
    }
    SUBCASE("large vocabulary against the definition") {
        const auto big = make_logits(5000, 6, -10, 2);
        const auto prob = softmax(big, 1.0);
        const double pmax = *std::max_element(prob.begin(), prob.end());
        const float min_p = 0.2f;
        std::set<Token> expected;
        bool knife_edge = false;
        for (size_t i = 0; i < big.size(); ++i) {
            if (prob[i] >= min_p * pmax) expected.insert(static_cast<Token>(i));
            knife_edge = knife_edge || std::abs(prob[i] - min_p * pmax) <= 1e-9 * pmax;
        }
        REQUIRE_FALSE(knife_edge);
        REQUIRE(expected.size() > 100);
        SamplerParams p = sampling(1e6f, 33);
        p.min_p = min_p;
        Sampler s(p);
        CHECK(seen(counts(s, big, 30 * static_cast<int>(expected.size()))) == expected);
    }
}

TEST_CASE("sampler: repetition penalty") {
    SamplerParams p = sampling(0.0f);
    p.repeat_penalty = 1.2f;

    SUBCASE("positive logit is divided") {
        const std::vector<float> l{2.0f, 1.9f, -1.0f, -0.5f};  // 2.0 / 1.2 = 1.667 < 1.9
        Sampler s(p);
        CHECK(s.sample(l) == 0);
        s.accept(0);
        CHECK(s.sample(l) == 1);
        s.reset();  // forgets the history
        CHECK(s.sample(l) == 0);
    }
    SUBCASE("negative logit is multiplied") {
        const std::vector<float> l{-1.0f, -1.1f};  // -1.0 * 1.2 = -1.2 < -1.1
        Sampler s(p);
        s.accept(0);
        CHECK(s.sample(l) == 1);
    }
    SUBCASE("each distinct token is penalised once") {
        p.repeat_penalty = 1.5f;
        const std::vector<float> l{3.0f, 1.5f};  // once: 2.0 > 1.5; twice would be 1.33 < 1.5
        Sampler s(p);
        s.accept(0);
        s.accept(0);
        s.accept(0);
        CHECK(s.sample(l) == 0);
    }
    SUBCASE("only the last repeat_last_n tokens count") {
        p.repeat_last_n = 2;
        const std::vector<float> l{2.0f, 1.9f, 0.0f, 0.0f};
        Sampler s(p);
        s.accept(0);
        s.accept(2);
        CHECK(s.sample(l) == 1);  // 0 is in the window
        s.accept(3);
        CHECK(s.sample(l) == 0);  // window is {2, 3}
        for (int i = 0; i < 5000; ++i) s.accept(2);  // long histories are fine
        CHECK(s.sample(l) == 0);
        s.accept(0);
        CHECK(s.sample(l) == 1);
    }
    SUBCASE("repeat_last_n = 0 and penalty 1 are off") {
        const std::vector<float> l{2.0f, 1.9f};
        SamplerParams q = p;
        q.repeat_last_n = 0;
        Sampler a(q);
        a.accept(0);
        CHECK(a.sample(l) == 0);
        q = p;
        q.repeat_penalty = 1.0f;
        Sampler b(q);
        b.accept(0);
        CHECK(b.sample(l) == 0);
    }
    SUBCASE("a penalty below 1 favours repeats") {
        p.repeat_penalty = 0.5f;
        const std::vector<float> l{1.0f, 1.5f};  // 1.0 / 0.5 = 2.0 > 1.5
        Sampler s(p);
        s.accept(0);
        CHECK(s.sample(l) == 0);
    }
    SUBCASE("the sampled distribution uses the penalised logits") {
        SamplerParams q = sampling(1.0f, 41);
        q.repeat_penalty = 1.3f;
        const std::vector<float> l{1.0f, 0.5f, -0.5f, 0.2f, kNegInf};
        Sampler s(q);
        s.accept(0);
        s.accept(2);
        s.accept(0);
        s.accept(4);  // -inf stays impossible
        const std::vector<float> expected{1.0f / 1.3f, 0.5f, -0.5f * 1.3f, 0.2f, kNegInf};
        const int draws = 200000;
        check_distribution(counts(s, l, draws), softmax(expected, 1.0), draws);
    }
    SUBCASE("accepted tokens must be valid ids") {
        Sampler s(p);
        CHECK(contains(error_message([&] { s.accept(-1); }), "-1"));
        s.accept(10);
        const std::vector<float> l{1, 2, 3};
        CHECK(contains(error_message([&] { s.sample(l); }), "10"));
    }
}

TEST_CASE("sampler: bad logits") {
    for (float t : {0.0f, 1.0f}) {
        Sampler s(sampling(t));
        CHECK(contains(error_message([&] { s.sample({}); }), "empty"));
        std::vector<float> l{0.5f, 1.0f, 2.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f};
        const std::string nan_msg = error_message([&] { s.sample(l); });
        CHECK(contains(nan_msg, "NaN"));
        CHECK(contains(nan_msg, "logit 3"));
        l[3] = std::numeric_limits<float>::infinity();
        const std::string inf_msg = error_message([&] { s.sample(l); });
        CHECK(contains(inf_msg, "+inf"));
        CHECK(contains(inf_msg, "logit 3"));
        const std::vector<float> all_neg_inf(4, kNegInf);
        CHECK(contains(error_message([&] { s.sample(all_neg_inf); }), "-inf"));
        const std::vector<float> one_possible{kNegInf, kNegInf, -1e30f, kNegInf};
        for (int i = 0; i < 20; ++i) CHECK(s.sample(one_possible) == 2);
    }
    // -inf tokens are never drawn, even at a huge temperature.
    Sampler s(sampling(1e6f, 51));
    const std::vector<float> l{0, kNegInf, 0, kNegInf, 0};
    CHECK(seen(counts(s, l, 3000)) == std::set<Token>{0, 2, 4});
}

TEST_CASE("sampler: parameter validation") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    auto bad = [](auto mutate, const char* field) {
        SamplerParams p;
        mutate(p);
        const std::string msg = error_message([&] { Sampler s(p); });
        INFO(msg);
        CHECK(contains(msg, field));
    };
    bad([&](SamplerParams& p) { p.temperature = nan; }, "temperature");
    bad([&](SamplerParams& p) { p.temperature = inf; }, "temperature");
    bad([&](SamplerParams& p) { p.temperature = -inf; }, "temperature");
    bad([](SamplerParams& p) { p.top_k = -1; }, "top_k");
    bad([](SamplerParams& p) { p.top_p = 0.0f; }, "top_p");
    bad([](SamplerParams& p) { p.top_p = -0.5f; }, "top_p");
    bad([](SamplerParams& p) { p.top_p = 1.01f; }, "top_p");
    bad([&](SamplerParams& p) { p.top_p = nan; }, "top_p");
    bad([](SamplerParams& p) { p.min_p = -0.01f; }, "min_p");
    bad([](SamplerParams& p) { p.min_p = 1.5f; }, "min_p");
    bad([&](SamplerParams& p) { p.min_p = nan; }, "min_p");
    bad([](SamplerParams& p) { p.repeat_penalty = 0.0f; }, "repeat_penalty");
    bad([](SamplerParams& p) { p.repeat_penalty = -1.0f; }, "repeat_penalty");
    bad([&](SamplerParams& p) { p.repeat_penalty = nan; }, "repeat_penalty");
    bad([&](SamplerParams& p) { p.repeat_penalty = inf; }, "repeat_penalty");
    bad([](SamplerParams& p) { p.repeat_last_n = -1; }, "repeat_last_n");

    // Boundary values that are valid.
    SamplerParams ok;
    ok.top_p = 1.0f;
    ok.min_p = 1.0f;
    ok.temperature = -3.0f;
    ok.top_k = 0;
    ok.repeat_last_n = 0;
    CHECK_NOTHROW(Sampler{ok});
    ok.min_p = 0.0f;
    ok.top_p = 1e-6f;
    CHECK_NOTHROW(Sampler{ok});
    Sampler defaults{SamplerParams{}};
    CHECK(defaults.params().temperature == 1.0f);
}
