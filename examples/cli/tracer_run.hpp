// The actual trace of a program, for `cwm trace`, `cwm debug` and `cwm verify`: from a file the
// user gives, or by running the project's sandboxed tracer (`python3 -m cwm.tracer`).
#pragma once

#include <string>

namespace cwm_cli {

struct ActualTrace {
    std::string text;  // frames and <|end_of_text|>, special tokens spelled out
};

// Runs `$CWM_PYTHON -m cwm.tracer PROGRAM [--entry ENTRY]` (CWM_PYTHON defaults to python3) with
// the cwm Python package on PYTHONPATH: $CWM_PYTHONPATH, else the installed copy next to this
// program (../share/cwm/python), else the source tree's bindings/python. Throws
// std::runtime_error with the tracer's message when the program cannot be traced (a limit, an
// error before the entry runs, a sandbox violation: docs/tracer.md lists the exit codes).
ActualTrace run_tracer(const std::string& program, const std::string& entry);

// The actual trace: read from `trace_file` when given, else run_tracer.
ActualTrace actual_trace(const std::string& program, const std::string& entry, const std::string& trace_file);

}  // namespace cwm_cli
