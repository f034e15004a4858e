// cwm: the command-line program, built only on the public C++ API (cwm/cwm.hpp).
#include <cwm/cwm.hpp>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include "commands.hpp"

namespace cwm_cli {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace cwm_cli

int main(int argc, char** argv) {
    CLI::App app{"cwm: run CWM-family code world models on the CPU"};
    app.set_version_flag("--version", std::string("cwm ") + cwm_version());
    app.require_subcommand(1);
    const std::vector<cwm_cli::Command> commands = {
        cwm_cli::add_run(app),      cwm_cli::add_perplexity(app), cwm_cli::add_tokenize(app),
        cwm_cli::add_info(app),     cwm_cli::add_quantize(app),   cwm_cli::add_convert(app),
        cwm_cli::add_convert_gguf(app), cwm_cli::add_bench(app),  cwm_cli::add_trace(app),
        cwm_cli::add_debug(app),    cwm_cli::add_verify(app)};
    CLI11_PARSE(app, argc, argv);
    try {
        for (const auto& command : commands)
            if (command.app->parsed()) return command.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cwm: %s\n", e.what());
    }
    return 1;
}
