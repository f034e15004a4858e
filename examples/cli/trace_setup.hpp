// What `cwm trace`, `cwm debug` and `cwm verify` share: the model options and the loaded model
// with one context to run trace sessions on.
#pragma once

#include <CLI/CLI.hpp>
#include <cwm/trace.hpp>

#include "attention_options.hpp"

#include <memory>
#include <string>

namespace cwm_cli {

struct ModelOptions {
    std::string model;
    uint32_t ctx = 16384;            // capped at the model's training context
    int threads = 0;
    uint32_t max_frame_tokens = 0;   // 0: the library's default
    float temperature = 0.0f;        // greedy unless asked
    uint64_t seed = 0;
    AttentionOptions attention;
};

void add_model_options(CLI::App* app, ModelOptions& o);
// PROGRAM.py, the model options and --entry: what `cwm trace` and `cwm debug` start from.
void add_program_options(CLI::App* app, std::string& program, std::string& entry, ModelOptions& model);
// --color auto|always|never (read with parse_colour, trace_view.hpp).
void add_colour_option(CLI::App* app, std::string& colour);

struct Loaded {
    cwm::model model;
    cwm::context context;
    std::unique_ptr<cwm::sampler> sampler;  // null: greedy
    uint32_t max_frame_tokens;

    explicit Loaded(const ModelOptions& o);
    cwm::trace_session session(const std::string& source, const std::string& entry);
};

// The 1-based line's text from `source` (without its newline), "" when out of range.
std::string source_line(const std::string& source, int number);

}  // namespace cwm_cli
