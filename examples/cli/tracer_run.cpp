#include "tracer_run.hpp"

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "commands.hpp"

extern char** environ;

namespace cwm_cli {

namespace {

namespace fs = std::filesystem;

std::string python_path() {
    if (const char* p = std::getenv("CWM_PYTHONPATH"); p && *p) return p;
    std::error_code ec;
    const fs::path installed = fs::read_symlink("/proc/self/exe", ec).parent_path() / "../share/cwm/python";
    if (!ec && fs::exists(installed / "cwm/tracer.py")) return fs::weakly_canonical(installed).string();
    return CWM_SOURCE_PYTHON_DIR;
}

struct Pipe {
    int fd[2] = {-1, -1};
    Pipe() {
        if (pipe(fd) != 0) throw std::runtime_error("cannot create a pipe for the tracer");
    }
    ~Pipe() {
        for (int f : fd)
            if (f >= 0) close(f);
    }
    void close_end(int i) {
        close(fd[i]);
        fd[i] = -1;
    }
};

// Reads both pipes to their end (the tracer enforces its own time limits, so this ends).
void drain(Pipe& out, Pipe& err, std::string& out_text, std::string& err_text) {
    std::array<pollfd, 2> fds{pollfd{out.fd[0], POLLIN, 0}, pollfd{err.fd[0], POLLIN, 0}};
    std::array<std::string*, 2> sinks{&out_text, &err_text};
    int open = 2;
    char buf[65536];
    while (open > 0) {
        if (poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error("poll failed while reading the tracer's output");
        }
        for (size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sinks[i]->append(buf, size_t(n));
            } else if (n == 0 || errno != EINTR) {
                fds[i].fd = -1;
                --open;
            }
        }
    }
}

std::string last_line(std::string text) {
    while (!text.empty() && text.back() == '\n') text.pop_back();
    const size_t nl = text.rfind('\n');
    return nl == std::string::npos ? text : text.substr(nl + 1);
}

}  // namespace

ActualTrace run_tracer(const std::string& program, const std::string& entry) {
    const char* python_env = std::getenv("CWM_PYTHON");
    const std::string python = python_env && *python_env ? python_env : "python3";
    std::vector<std::string> args = {python, "-m", "cwm.tracer", program};
    if (!entry.empty()) args.insert(args.end(), {"--entry", entry});
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
        if (std::string_view(*e).substr(0, 11) != "PYTHONPATH=") env.emplace_back(*e);
    const char* old = std::getenv("PYTHONPATH");
    env.push_back("PYTHONPATH=" + python_path() + (old && *old ? std::string(":") + old : ""));

    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    for (auto& e : env) envp.push_back(e.data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);

    Pipe out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
    posix_spawn_file_actions_addclose(&actions, out.fd[0]);
    posix_spawn_file_actions_addclose(&actions, err.fd[0]);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, python.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot run " + python + " for the tracer (set CWM_PYTHON)");
    out.close_end(1);
    err.close_end(1);
    ActualTrace result;
    std::string err_text;
    drain(out, err, result.text, err_text);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0) {
        const std::string why = last_line(err_text);
        throw std::runtime_error("the tracer could not trace " + program + " (exit code " + std::to_string(code) +
                                 ")" + (why.empty() ? "" : ": " + why));
    }
    return result;
}

ActualTrace actual_trace(const std::string& program, const std::string& entry, const std::string& trace_file) {
    if (!trace_file.empty()) return {read_file(trace_file)};
    return run_tracer(program, entry);
}

}  // namespace cwm_cli
