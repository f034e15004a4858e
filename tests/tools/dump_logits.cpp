// Test tool: evaluates a token sequence and writes the logits of every position as raw
// little-endian float32 [n_tokens][n_vocab], for comparison with the PyTorch reference.
//   dump_logits MODEL.gguf --tokens 1,2,3 --out FILE [--mode prefill|decode|split:N] [--ctx N] [--batch N]
//               [--attention file|cwm|global] [--window N]
// prefill: all tokens in one call; decode: one token per call; split:N: N, then one at a time.
// --batch N: the engine evaluates a call in forward passes of at most N tokens.
// --attention, --window: the layout to load the model with (cwm_model_params).
#include <cwm/cwm.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::vector<cwm::token> parse_tokens(const std::string& list) {
    std::vector<cwm::token> out;
    size_t pos = 0;
    while (pos < list.size()) {
        size_t end = list.find(',', pos);
        if (end == std::string::npos) end = list.size();
        out.push_back(cwm::token(std::stol(list.substr(pos, end - pos))));
        pos = end + 1;
    }
    return out;
}

size_t first_batch(const std::string& mode, size_t n) {
    if (mode == "prefill") return n;
    if (mode == "decode") return 1;
    if (mode.rfind("split:", 0) == 0) return std::min(n, size_t(std::stoul(mode.substr(6))));
    throw std::runtime_error("unknown mode " + mode);
}

cwm_attention_layout attention_layout(const std::string& name) {
    if (name == "file") return CWM_ATTENTION_FROM_FILE;
    if (name == "cwm") return CWM_ATTENTION_CWM;
    if (name == "global") return CWM_ATTENTION_GLOBAL;
    throw std::runtime_error("unknown attention layout " + name);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::string model_path, tokens_arg, out_path, mode = "prefill", attention = "file";
        uint32_t n_ctx = 0, n_batch = 512, window = 0;
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            auto next = [&]() -> std::string {
                if (i + 1 >= argc) throw std::runtime_error("missing value for " + a);
                return argv[++i];
            };
            if (a == "--tokens") tokens_arg = next();
            else if (a == "--out") out_path = next();
            else if (a == "--mode") mode = next();
            else if (a == "--ctx") n_ctx = uint32_t(std::stoul(next()));
            else if (a == "--batch") n_batch = uint32_t(std::stoul(next()));
            else if (a == "--attention") attention = next();
            else if (a == "--window") window = uint32_t(std::stoul(next()));
            else model_path = a;
        }
        const auto tokens = parse_tokens(tokens_arg);
        if (model_path.empty() || out_path.empty() || tokens.empty()) throw std::runtime_error("usage: see source");
        const cwm::model model(model_path, {.attention = attention_layout(attention), .sliding_window = window});
        auto params = cwm::context::default_params();
        params.n_ctx = n_ctx ? n_ctx : uint32_t(tokens.size());
        params.n_batch = n_batch;
        cwm::context ctx(model, params);
        std::vector<float> all;
        auto eval = [&](size_t begin, size_t n) {
            ctx.decode(std::span(tokens).subspan(begin, n), n);
            for (size_t i = 0; i < n; ++i) {
                const auto row = ctx.logits(i);
                all.insert(all.end(), row.begin(), row.end());
            }
        };
        const size_t head = first_batch(mode, tokens.size());
        eval(0, head);
        for (size_t i = head; i < tokens.size(); ++i) eval(i, 1);
        FILE* f = std::fopen(out_path.c_str(), "wb");
        if (!f || std::fwrite(all.data(), sizeof(float), all.size(), f) != all.size() || std::fclose(f) != 0)
            throw std::runtime_error("cannot write " + out_path);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "dump_logits: %s\n", e.what());
        return 1;
    }
}
