// cwm tokenize: the token ids of a text, as the engine will see them.
#include <cwm/cwm.hpp>

#include <cstdio>

#include "commands.hpp"

namespace cwm_cli {

namespace {

struct TokenizeOptions {
    std::string model, prompt, file;
    bool no_bos = false, parse_special = false, ids_only = false;
};

// Prints a piece with control characters and quotes escaped, so each line stays one line.
std::string escaped(const std::string& s) {
    std::string out;
    for (unsigned char ch : s) {
        if (ch == '\n') out += "\\n";
        else if (ch == '\t') out += "\\t";
        else if (ch == '\r') out += "\\r";
        else if (ch == '\\' || ch == '\'') out += std::string("\\") + char(ch);
        else if (ch < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", ch);
            out += buf;
        } else out += char(ch);
    }
    return out;
}

int run_tokenize(const TokenizeOptions& o) {
    const cwm::model model(o.model);
    const std::string text = o.file.empty() ? o.prompt : read_file(o.file);
    const auto ids = model.tokenize(text, !o.no_bos, o.parse_special);
    if (o.ids_only) {
        std::printf("[");
        for (size_t i = 0; i < ids.size(); ++i) std::printf("%s%d", i ? ", " : "", ids[i]);
        std::printf("]\n");
        return 0;
    }
    for (cwm::token id : ids) std::printf("%6d -> '%s'\n", id, escaped(model.token_bytes(id, true)).c_str());
    return 0;
}

}  // namespace

Command add_tokenize(CLI::App& parent) {
    auto opts = std::make_shared<TokenizeOptions>();
    CLI::App* app = parent.add_subcommand("tokenize", "Print the tokens of a text");
    app->add_option("-m,--model", opts->model, "GGUF model (its vocabulary is used)")->required();
    auto* prompt = app->add_option("-p,--prompt", opts->prompt, "text to tokenize");
    auto* file = app->add_option("-f,--file", opts->file, "file whose bytes are tokenized")->excludes(prompt);
    prompt->excludes(file);
    app->add_flag("--no-bos", opts->no_bos, "do not prepend BOS");
    app->add_flag("--parse-special", opts->parse_special, "turn special-token texts like <|eot_id|> into their ids");
    app->add_flag("--ids", opts->ids_only, "print only the ids, as [a, b, ...]");
    return {app, [opts] { return run_tokenize(*opts); }};
}

}  // namespace cwm_cli
