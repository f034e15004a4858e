// cwm: the command-line program, built only on the public C++ API (cwm/cwm.hpp).
#include <cwm/cwm.hpp>

#include <chrono>
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

std::function<bool(size_t, size_t, uint64_t, uint64_t)> file_progress(const std::string& what) {
    const auto t0 = std::chrono::steady_clock::now();
    return [what, t0, last_shown = -1.0](size_t done, size_t count, uint64_t bytes, uint64_t total) mutable {
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (done < count && s - last_shown < 0.25) return true;  // a few lines a second at most
        last_shown = s;
        const double rate = s > 0 ? double(bytes) / s : 0;
        const double eta = rate > 0 ? double(total - bytes) / rate : 0;
        std::fprintf(stderr, "\r%s: tensor %zu/%zu, %.1f/%.1f MiB, %.1f MiB/s, ETA %.0f s   ", what.c_str(), done, count,
                     double(bytes) / 1048576, double(total) / 1048576, rate / 1048576, eta);
        return true;
    };
}

}  // namespace cwm_cli

int main(int argc, char** argv) {
    CLI::App app{"cwm: run CWM-family code world models on the CPU"};
    app.set_version_flag("--version", std::string("cwm ") + cwm_version());
    app.require_subcommand(1);
    const std::vector<cwm_cli::Command> commands = {
        cwm_cli::add_run(app),      cwm_cli::add_perplexity(app), cwm_cli::add_tokenize(app),
        cwm_cli::add_info(app),     cwm_cli::add_quantize(app),   cwm_cli::add_convert_gguf(app),
        cwm_cli::add_bench(app),    cwm_cli::add_trace(app),      cwm_cli::add_debug(app),
        cwm_cli::add_verify(app)};
    CLI11_PARSE(app, argc, argv);
    try {
        for (const auto& command : commands)
            if (command.app->parsed()) return command.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cwm: %s\n", e.what());
    }
    return 1;
}
