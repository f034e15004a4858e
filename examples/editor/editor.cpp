// An editor's completion engine: one model stays loaded, the open file is evaluated once, and
// every completion request restores that evaluated prefix instead of re-reading the file.
//
//   editor MODEL.gguf FILE [-n MAX_TOKENS] [--verify] < requests
//
// Each line of standard input is one request: the text typed after the end of FILE. The answer
// to each is a greedy single-line completion. With --verify every completion is recomputed in a
// fresh context that evaluates the file and the request from scratch, and must be identical.
#include <cwm/cwm.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Options {
    std::string model, file;
    size_t max_tokens = 16;
    bool verify = false;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--verify") o.verify = true;
        else if (arg == "-n" && i + 1 < argc) o.max_tokens = std::stoul(argv[++i]);
        else if (o.model.empty()) o.model = arg;
        else o.file = arg;
    }
    if (o.model.empty() || o.file.empty())
        throw std::invalid_argument("usage: editor MODEL.gguf FILE [-n MAX_TOKENS] [--verify] < requests");
    return o;
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Greedy completion up to the end of the line, from a context holding prefix and request.
std::string complete(cwm::context& context, std::span<const cwm::token> request, size_t max_tokens) {
    std::string text;
    context.generate(request, max_tokens, nullptr, [&](std::string_view piece, cwm::token) {
        const size_t newline = piece.find('\n');
        text += piece.substr(0, newline);
        return newline == std::string_view::npos;
    });
    return text;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) try {
    const Options o = parse(argc, argv);
    const cwm::model model(o.model);
    auto params = cwm::context::default_params();
    params.n_ctx = 4096;
    cwm::context context(model, params);

    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<cwm::token> prefix = model.tokenize(read_all(o.file));
    context.decode(prefix);
    const std::vector<uint8_t> cached = context.save_state();
    std::cout << "prefix: " << prefix.size() << " tokens evaluated once in " << ms_since(t0) << " ms; state "
              << cached.size() / 1024 << " KiB\n";

    std::string line;
    size_t served = 0, mismatches = 0;
    while (std::getline(std::cin, line)) {
        const auto t1 = std::chrono::steady_clock::now();
        const std::vector<cwm::token> request = model.tokenize(line, false);
        context.load_state(cached);  // back to "file evaluated", whatever the last request did
        const std::string completion = complete(context, request, o.max_tokens);
        std::cout << "[" << ++served << "] " << request.size() << " new tokens after the cached prefix, "
                  << ms_since(t1) << " ms: " << line << "|" << completion << "\n";
        if (o.verify) {
            cwm::context fresh(model, params);
            fresh.decode(prefix);
            if (complete(fresh, request, o.max_tokens) != completion) {
                std::cout << "    MISMATCH with a fresh evaluation\n";
                ++mismatches;
            }
        }
    }
    std::cout << served << " requests served" << (o.verify ? ", " + std::to_string(mismatches) + " mismatches" : "")
              << "\n";
    return mismatches == 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::cerr << "editor: " << e.what() << "\n";
    return 1;
}
