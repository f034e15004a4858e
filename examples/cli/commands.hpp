// Subcommands of the `cwm` program. Each registers its options on a CLI11 app and returns
// the function that runs it.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace cwm_cli {

struct Command {
    CLI::App* app;            // the subcommand, to ask whether it was chosen
    std::function<int()> run; // returns the process exit code
};

Command add_run(CLI::App& parent);
Command add_perplexity(CLI::App& parent);
Command add_tokenize(CLI::App& parent);
Command add_info(CLI::App& parent);
Command add_quantize(CLI::App& parent);
Command add_convert(CLI::App& parent);
Command add_bench(CLI::App& parent);
Command add_trace(CLI::App& parent);
Command add_debug(CLI::App& parent);
Command add_verify(CLI::App& parent);
Command add_convert_gguf(CLI::App& parent);

// Reads a whole file as bytes; throws std::runtime_error naming the file.
std::string read_file(const std::string& path);

}  // namespace cwm_cli
