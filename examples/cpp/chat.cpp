// Streaming chat with CWM's reasoning mode, on the header-only C++ API.
//
//   chat MODEL.gguf [--no-reasoning] [-n MAX_TOKENS] MESSAGE...
//
// Each MESSAGE is one user turn; the model's answer to each is streamed and kept in the
// conversation. In reasoning mode the prompt opens the assistant turn with "<think>\n", so the
// model first writes its reasoning and then "</think>" and its answer: the thinking is shown
// dimmed on a terminal and the answer alone is kept in the history.
#include <cwm/cwm.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

struct Options {
    std::string model;
    bool reasoning = true;
    size_t max_tokens = 64;
    std::vector<std::string> messages;
};

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--no-reasoning") o.reasoning = false;
        else if (arg == "-n" && i + 1 < argc) o.max_tokens = std::stoul(argv[++i]);
        else if (o.model.empty()) o.model = arg;
        else o.messages.push_back(arg);
    }
    if (o.model.empty() || o.messages.empty())
        throw std::invalid_argument("usage: chat MODEL.gguf [--no-reasoning] [-n MAX_TOKENS] MESSAGE...");
    return o;
}

// The answer without the reasoning: what follows "</think>" (all of it when there is none).
std::string answer_of(const std::string& reply) {
    const size_t end = reply.find("</think>");
    if (end == std::string::npos) return reply;
    const size_t start = reply.find_first_not_of('\n', end + std::strlen("</think>"));
    return start == std::string::npos ? "" : reply.substr(start);
}

}  // namespace

int main(int argc, char** argv) try {
    const Options o = parse(argc, argv);
    const cwm::model model(o.model);
    auto params = cwm::context::default_params();
    params.n_ctx = 4096;
    cwm::context context(model, params);
    auto sampling = cwm::sampler::default_params();
    sampling.temperature = 1.0f;  // the authors' defaults (cwm-model.md)
    sampling.top_p = 0.95f;
    sampling.seed = 7;
    cwm::sampler sampler(sampling);
    const bool tty = isatty(STDOUT_FILENO);

    std::vector<cwm::chat_message> history;
    for (const std::string& message : o.messages) {
        history.push_back({"user", message});
        // The whole conversation is rendered and evaluated afresh each turn: simple, and for a
        // long one a cached prefix (see examples/editor) would avoid re-evaluating it.
        const std::string prompt = cwm::render_chat(history, o.reasoning);
        context.clear();
        std::cout << "user> " << message << "\nassistant> " << (o.reasoning && tty ? "\033[2m" : "") << std::flush;
        std::string reply = o.reasoning ? "<think>\n" : "";
        bool thinking = o.reasoning;
        context.generate(model.tokenize(prompt, false, true), o.max_tokens, &sampler,
                         [&](std::string_view piece, cwm::token) {
                             reply += piece;
                             std::cout << piece;
                             if (thinking && reply.find("</think>") != std::string::npos) {
                                 thinking = false;
                                 if (tty) std::cout << "\033[0m";
                             }
                             std::cout << std::flush;
                             return true;
                         });
        std::cout << (thinking && tty ? "\033[0m" : "") << "\n";
        history.push_back({"assistant", answer_of(reply)});
    }
    std::cerr << "chat: " << history.size() << " messages, " << (o.reasoning ? "with" : "without") << " reasoning\n";
    return 0;
} catch (const cwm::error& e) {
    std::cerr << "chat: " << e.what() << "\n";
    return 1;
} catch (const std::exception& e) {
    std::cerr << "chat: " << e.what() << "\n";
    return 2;
}
