"""Ground-truth execution tracer for CWM's trace format (stdlib only).

Runs a Python program in a sandboxed child process, traces its entry function with
``sys.settrace`` and writes the frames that follow the trace prompt, exactly as specified in
``trace-format.md`` ("The tracer's rules (ours)", 1-7).

Command line (with ``bindings/python`` on ``PYTHONPATH``)::

    python3 -m cwm.tracer PROGRAM.py [--entry NAME] [--prompt] [--json] [limits...]

Python API::

    from cwm import tracer
    result = tracer.trace_program(source, entry=None, limits=tracer.Limits())
    result.text      # the frames + <|end_of_text|> (when the trace is complete)
    result.prompt    # <|begin_of_text|><|trace_context_start|>SOURCE<|frame_sep|>
    result.frames    # list of tracer.Frame
    result.status    # "ok" or the limit / error that was hit (see EXIT_CODES)

The module has no dependency on the native library. See docs/tracer.md.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

__all__ = [
    "Frame", "Limits", "TraceResult", "TraceError", "trace_program", "trace_file",
    "build_prompt", "find_entry", "EXIT_CODES", "MARKER", "main",
]

# --------------------------------------------------------------------------------------------
# Tokens and format constants
# --------------------------------------------------------------------------------------------

BEGIN_OF_TEXT = "<|begin_of_text|>"
END_OF_TEXT = "<|end_of_text|>"
TRACE_CONTEXT_START = "<|trace_context_start|>"
FRAME_SEP = "<|frame_sep|>"
ACTION_SEP = "<|action_sep|>"
RETURN_SEP = "<|return_sep|>"
CALL_SEP = "<|call_sep|>"
LINE_SEP = "<|line_sep|>"
EXCEPTION_SEP = "<|exception_sep|>"
ARG_SEP = "<|arg_sep|>"

#: The comment appended to the entry function's ``def`` line in the trace context.
MARKER = "  # << START_OF_TRACE"
_MARKER_CORE = "# << START_OF_TRACE"
_MARKER_RE = re.compile(r"[ \t]*# << START_OF_TRACE[ \t]*(?=\r\n|\r|\n|$)")

_EVENT_TOKEN = {"call": CALL_SEP, "line": LINE_SEP, "return": RETURN_SEP,
                "exception": EXCEPTION_SEP}

#: Status -> process exit code of ``python3 -m cwm.tracer``.
EXIT_CODES = {
    "ok": 0,
    "usage": 2,             # bad command line (argparse)
    "program_error": 3,     # syntax error, no entry, entry never called, error before the entry
    "step_limit": 4,        # more frames than the step budget
    "timeout": 5,           # wall-clock budget
    "cpu_limit": 6,         # RLIMIT_CPU
    "memory_limit": 7,      # RLIMIT_AS (MemoryError) or killed for memory
    "file_size_limit": 8,   # RLIMIT_FSIZE (EFBIG)
    "sandbox_violation": 9, # an operation refused by the sandbox (network, process, write...)
    "crashed": 10,          # the child died in an unexpected way / internal error
}

_LIMIT_NAMES = {
    "step_limit": "step limit",
    "timeout": "wall-clock limit",
    "cpu_limit": "CPU time limit (RLIMIT_CPU)",
    "memory_limit": "memory limit (RLIMIT_AS)",
    "file_size_limit": "file size limit (RLIMIT_FSIZE)",
    "sandbox_violation": "sandbox violation",
}


@dataclasses.dataclass
class Limits:
    """Resource limits of one traced run. Every limit, when hit, ends in a clear status."""

    steps: int = 10_000                 #: step budget: frames written
    wall_seconds: float = 10.0          #: wall-clock budget of the whole child
    cpu_seconds: int = 10               #: RLIMIT_CPU of the child
    memory_bytes: int = 1 << 30         #: RLIMIT_AS of the child (1 GiB)
    file_size_bytes: int = 16 << 20     #: RLIMIT_FSIZE (16 MiB)
    processes: int = 8                  #: RLIMIT_NPROC (sandbox uid, threads included)
    repr_chars: int = 1000              #: cap on one repr; longer ones are cut, ending in "..."
    output_bytes: int = 1 << 16         #: program stdout/stderr kept (the rest is dropped)
    #: The layers below exist so that tests can check each layer alone; keep them on.
    audit_hooks: bool = True            #: in-child sys.addaudithook policy
    namespaces: bool = True             #: unshare() network/mount/ipc/uts namespaces
    drop_privileges: bool = True        #: when root: run as an unprivileged uid


@dataclasses.dataclass
class Frame:
    """One trace frame.

    ``locals`` is the observation with every ``".."`` resolved; ``locals_raw`` is what the trace
    text writes (``".."`` for unchanged values). Both are ``None`` for return and exception
    frames. ``value`` is the repr of the returned value / exception (``None`` otherwise).
    """

    event: str                                  #: "call", "line", "return" or "exception"
    line_number: int
    line: str                                   #: source line text with its "\n", no marker
    locals: Optional[Dict[str, str]] = None
    locals_raw: Optional[Dict[str, str]] = None
    value: Optional[str] = None

    def text(self) -> str:
        """The frame as written in the trace (ending with ``<|frame_sep|>``)."""
        tok = _EVENT_TOKEN[self.event]
        if self.event in ("call", "line"):
            return f"{tok}{json.dumps(self.locals_raw)}{ACTION_SEP}{self.line}{FRAME_SEP}"
        return f"{tok}{ACTION_SEP}{self.line}{ARG_SEP}{json.dumps(self.value)}{FRAME_SEP}"

    def to_json(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class TraceResult:
    """The outcome of :func:`trace_program`."""

    frames: List[Frame]
    text: str            #: the trace text after the prompt (ends with <|end_of_text|> if complete)
    prompt: str          #: <|begin_of_text|><|trace_context_start|>SOURCE<|frame_sep|>
    status: str          #: a key of EXIT_CODES
    message: str         #: one line; "" when status is "ok"
    complete: bool       #: the entry function's last frame was reached
    entry: str
    output: str = ""     #: the program's own stdout+stderr (capped)
    events: List[Dict[str, str]] = dataclasses.field(default_factory=list)  #: limits/violations
    sandbox: Dict[str, Any] = dataclasses.field(default_factory=dict)       #: layers in force

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def to_json(self) -> Dict[str, Any]:
        return {
            "status": self.status, "exit_code": self.exit_code, "message": self.message,
            "complete": self.complete, "entry": self.entry,
            "frames": [f.to_json() for f in self.frames],
            "text": self.text, "prompt": self.prompt, "output": self.output,
            "events": self.events, "sandbox": self.sandbox,
        }


class TraceError(Exception):
    """A program that cannot be traced at all (syntax error, no entry function)."""


# --------------------------------------------------------------------------------------------
# Source handling: entry, marker, prompt
# --------------------------------------------------------------------------------------------

def _split_lines(source: str) -> List[str]:
    """Lines as CPython numbers them (\\n, \\r\\n, \\r), each keeping its line ending."""
    return re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", source)


def _functions(tree: ast.AST):
    """(qualname, node) of every def in source order (classes included in the qualname)."""
    out = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                q = prefix + child.name
                out.append((q, child))
                visit(child, q + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    out.sort(key=lambda qn: (qn[1].lineno, qn[1].col_offset))
    return out


def _header_lines(node, nlines: int) -> range:
    """Line numbers (1-based) of a def's header: from `def` to the line before its body."""
    last = max(node.lineno, node.body[0].lineno - 1) if node.body else node.lineno
    return range(node.lineno, min(last, nlines) + 1)


def find_entry(source: str, entry: Optional[str] = None, filename: str = "program.py"):
    """Find the entry function: named ``entry`` (name or qualname) or marked with the marker.

    Returns ``(qualname, node)``. Raises :class:`TraceError` when there is none.
    """
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as e:
        raise TraceError(f"syntax error in {filename} line {e.lineno}: {e.msg}") from None
    funcs = _functions(tree)
    if entry is not None:
        for q, node in funcs:
            if q == entry:
                return q, node
        for q, node in funcs:
            if node.name == entry:
                return q, node
        raise TraceError(f"no function named {entry!r} in {filename}")
    lines = _split_lines(source)
    for q, node in funcs:
        for ln in _header_lines(node, len(lines)):
            if _MARKER_CORE in lines[ln - 1]:
                return q, node
    raise TraceError(f"no entry function in {filename}: mark its def line with "
                     f"'{MARKER.strip()}' or pass --entry NAME")


def _marked_source(source: str, node) -> str:
    """The source with the marker on the entry's def line only."""
    lines = _split_lines(source)
    lines = [_MARKER_RE.sub("", l) if _MARKER_CORE in l else l for l in lines]
    idx = node.lineno - 1
    # A comment cannot follow a backslash continuation: use the header's next line then.
    for ln in _header_lines(node, len(lines)):
        body = lines[ln - 1].rstrip("\r\n")
        if not body.endswith("\\"):
            idx = ln - 1
            break
    l = lines[idx]
    body = l.rstrip("\r\n")
    lines[idx] = body + MARKER + l[len(body):]
    return "".join(lines)


def build_prompt(source: str, entry: Optional[str] = None) -> str:
    """The trace prompt: ``<|begin_of_text|><|trace_context_start|>SOURCE<|frame_sep|>``.

    The entry (``entry`` or the marked function) gets the ``  # << START_OF_TRACE`` marker on
    its def line; a marker on any other function is removed.
    """
    _, node = find_entry(source, entry)
    return BEGIN_OF_TEXT + TRACE_CONTEXT_START + _marked_source(source, node) + FRAME_SEP


# --------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------

def _frames_text(frames: List[Frame], complete: bool) -> str:
    return "".join(f.text() for f in frames) + (END_OF_TEXT if complete else "")


def trace_file(path: str, entry: Optional[str] = None, limits: Optional[Limits] = None
               ) -> TraceResult:
    """Trace the program in file ``path`` (see :func:`trace_program`)."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TraceError(f"{path} is not UTF-8: {e}") from None
    return trace_program(source, entry, limits, filename=os.path.abspath(path))


def trace_program(source: str, entry: Optional[str] = None,
                  limits: Optional[Limits] = None, filename: str = "program.py") -> TraceResult:
    """Run ``source`` in a sandboxed child process and trace its entry function.

    ``entry`` names the entry function; without it the function whose def line carries
    ``# << START_OF_TRACE`` is the entry. The program must call the entry at module level.
    Raises :class:`TraceError` only when the program cannot be started at all (syntax error,
    no entry function); every other failure, including each limit, is reported in the result's
    ``status`` / ``message`` together with the frames written before it.
    """
    limits = limits or Limits()
    qualname, node = find_entry(source, entry, filename)
    marked = _marked_source(source, node)
    prompt = BEGIN_OF_TEXT + TRACE_CONTEXT_START + marked + FRAME_SEP
    first = min([d.lineno for d in node.decorator_list] + [node.lineno])
    defs = {}
    try:
        tree = ast.parse(source, filename)
        for n in ast.walk(tree):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                f0 = min([d.lineno for d in n.decorator_list] + [n.lineno])
                defs[f"{n.name}:{f0}"] = n.lineno
    except SyntaxError:  # pragma: no cover - find_entry already parsed it
        pass
    config = {
        "source": source, "filename": filename, "entry_name": node.name,
        "entry_firstlineno": first, "defs": defs,
        "limits": dataclasses.asdict(limits),
        # LINE texts (rule 3): the source's lines without the marker
        "lines": [_MARKER_RE.sub("", l) if _MARKER_CORE in l else l for l in _split_lines(source)],
    }

    workdir = tempfile.mkdtemp(prefix="cwm-trace-")
    try:
        raw = _run_child(config, workdir, limits)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    frames = [Frame(**f) for f in raw["frames"]]
    complete = raw["complete"]
    status, message = raw["status"], raw["message"]
    return TraceResult(frames=frames, text=_frames_text(frames, complete), prompt=prompt,
                       status=status, message=message, complete=complete, entry=qualname,
                       output=raw["output"], events=raw["events"], sandbox=raw["sandbox"])


def _run_child(config: Dict[str, Any], workdir: str, limits: Limits) -> Dict[str, Any]:
    rfd, wfd = os.pipe()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "HOME": workdir, "TMPDIR": workdir, "PYTHONHASHSEED": "0",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}
    config = dict(config, workdir=workdir, fd=wfd)
    # -s: no user site; -P (3.11+): the tracer's own directory is not put on sys.path.
    flags = ["-s", "-P"] if sys.version_info >= (3, 11) else ["-s"]
    cmd = [sys.executable, *flags, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_tracer_child.py")]
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, pass_fds=(wfd,), env=env,
                                cwd=workdir, start_new_session=True, close_fds=True)
    finally:
        os.close(wfd)
    frames: List[Dict[str, Any]] = []
    events: List[Dict[str, str]] = []
    final: Optional[Dict[str, Any]] = None
    sandbox: Dict[str, Any] = {}
    complete = False
    output = bytearray()
    timed_out = False
    deadline = t0 + limits.wall_seconds

    try:
        proc.stdin.write(json.dumps(config).encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass

    sel = selectors.DefaultSelector()
    outfd = proc.stdout.fileno()
    sel.register(rfd, selectors.EVENT_READ)
    sel.register(outfd, selectors.EVENT_READ)
    open_fds = {rfd, outfd}
    buf = b""
    reaped = None           # (wait status, rusage) once the child has exited
    drain_until = None      # after the child exits, a short while to drain the pipes
    try:
        while open_fds:
            now = time.monotonic()
            if reaped is None:
                pid, wstatus, rusage = os.wait4(proc.pid, os.WNOHANG)
                if pid == proc.pid:
                    reaped = (wstatus, rusage)
            if (reaped is not None or final is not None) and drain_until is None:
                drain_until = now + 0.25  # leftovers may hold the pipes open: do not wait
            if drain_until is not None and now >= drain_until:
                break
            if now >= deadline:
                timed_out = True
                break
            stop = min(deadline, drain_until or deadline)
            for key, _ in sel.select(max(0.0, min(stop - now, 0.1))):
                fd = key.fd
                try:
                    chunk = os.read(fd, 1 << 16)
                except OSError:
                    chunk = b""
                if not chunk:
                    sel.unregister(fd)
                    open_fds.discard(fd)
                    continue
                if fd == outfd:
                    if len(output) < limits.output_bytes:
                        output += chunk[: limits.output_bytes - len(output)]
                    continue
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    try:
                        msg = json.loads(line)
                    except ValueError:
                        continue  # not ours (a program cannot be kept from its own fds)
                    if not isinstance(msg, dict):
                        continue
                    kind = msg.pop("t", None)
                    if kind == "frame" and not complete and final is None:
                        frames.append(msg)
                    elif kind == "end":
                        complete = True
                    elif kind == "limit":
                        events.append(msg)
                    elif kind == "sandbox":
                        sandbox = msg.get("layers", {})
                    elif kind == "status" and final is None:
                        final = msg
    finally:
        sel.close()
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the child and anything it started
        except (ProcessLookupError, PermissionError):
            pass
        os.close(rfd)
        proc.stdout.close()
        if sandbox.get("unprivileged_uid"):
            _kill_uid(sandbox["unprivileged_uid"])  # descendants that left the process group
        if reaped is None:
            try:
                _, wstatus, rusage = os.wait4(proc.pid, 0)
                reaped = (wstatus, rusage)
            except ChildProcessError:  # pragma: no cover
                reaped = (0, None)
        proc.returncode = os.waitstatus_to_exitcode(reaped[0])
        rusage = reaped[1]
    cpu_used = (rusage.ru_utime + rusage.ru_stime) if rusage else 0.0
    rc = proc.returncode

    status, message = "ok", ""
    if timed_out and not complete:
        status = "timeout"
        message = f"wall-clock limit of {limits.wall_seconds:g} s exceeded"
    elif final is not None and final.get("status") not in (None, "ok"):
        status, message = final["status"], final.get("message", "")
    elif complete:
        pass
    elif rc == -signal.SIGXCPU or (rc == -signal.SIGKILL and cpu_used >= limits.cpu_seconds):
        status = "cpu_limit"
        message = f"CPU time limit of {limits.cpu_seconds} s exceeded (RLIMIT_CPU)"
    elif rc == -signal.SIGXFSZ:
        status = "file_size_limit"
        message = f"file size limit of {limits.file_size_bytes} bytes exceeded (RLIMIT_FSIZE)"
    elif rc == -signal.SIGKILL:
        status = "memory_limit"
        message = "the program was killed (SIGKILL), most likely for memory"
    elif timed_out:
        status = "timeout"
        message = f"wall-clock limit of {limits.wall_seconds:g} s exceeded"
    elif final is None:
        status = "crashed"
        message = f"the traced program's process ended unexpectedly (exit status {rc})"
        tail = output.decode("utf-8", "replace").strip().splitlines()[-1:]
        if tail:
            message += f": {tail[0][:300]}"
    # Limits hit without ending the trace (MemoryError, EFBIG, refused operations).
    if status == "ok" and events:
        status, message = events[0]["status"], events[0]["message"]
    if status not in EXIT_CODES:  # only a program writing to the tracer's pipe gets here
        status, message = "crashed", f"unexpected status from the child: {str(status)[:100]}"
    if len(frames) > limits.steps:  # pragma: no cover - the child enforces it
        del frames[limits.steps:]
    return {"frames": frames, "complete": complete and status not in ("step_limit",),
            "status": status, "message": message, "events": events, "sandbox": sandbox,
            "output": output.decode("utf-8", "replace")}


def _kill_uid(uid: int) -> None:
    """SIGKILL every process whose real uid is the run's own sandbox uid (root only)."""
    if os.geteuid() != 0:
        return
    for _ in range(20):
        found = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/status") as f:
                    st = dict(l.split(":", 1) for l in f if ":" in l)
            except OSError:
                continue
            zombie = st.get("State", "").strip().startswith(("Z", "X"))
            if not zombie and int(st.get("Uid", "-1 ").split()[0]) == uid:
                found = True
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
        if not found:
            return
        time.sleep(0.01)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    import argparse
    p = argparse.ArgumentParser(
        prog="python3 -m cwm.tracer",
        description="Run PROGRAM.py in a sandbox and print the CWM execution trace of its entry "
                    "function (the frames after the prompt, ending with <|end_of_text|>).")
    p.add_argument("program", help="the Python program; it calls its entry function itself")
    p.add_argument("--entry", metavar="NAME",
                   help="entry function (default: the def marked '# << START_OF_TRACE')")
    p.add_argument("--prompt", action="store_true", help="print the whole prompt first")
    p.add_argument("--json", action="store_true", help="print structured frames as JSON")
    d = Limits()
    p.add_argument("--max-steps", type=int, default=d.steps, help="step budget in frames")
    p.add_argument("--timeout", type=float, default=d.wall_seconds, help="wall clock, seconds")
    p.add_argument("--cpu", type=int, default=d.cpu_seconds, help="CPU time, seconds")
    p.add_argument("--memory", type=int, default=d.memory_bytes >> 20, help="address space, MiB")
    p.add_argument("--file-size", type=int, default=d.file_size_bytes >> 20,
                   help="largest file the program may write, MiB")
    p.add_argument("--processes", type=int, default=d.processes, help="RLIMIT_NPROC")
    p.add_argument("--repr-cap", type=int, default=d.repr_chars, help="cap on one repr, chars")
    a = p.parse_args(argv)
    limits = Limits(steps=a.max_steps, wall_seconds=a.timeout, cpu_seconds=a.cpu,
                    memory_bytes=a.memory << 20, file_size_bytes=a.file_size << 20,
                    processes=a.processes, repr_chars=a.repr_cap)
    out = sys.stdout.buffer
    try:
        result = trace_file(a.program, a.entry, limits)
    except (TraceError, OSError) as e:
        msg = str(e) if isinstance(e, TraceError) else f"cannot read {a.program}: {e.strerror}"
        if a.json:
            out.write(json.dumps({"status": "program_error", "exit_code": 3, "message": msg,
                                  "complete": False, "frames": []}).encode() + b"\n")
            out.flush()
        print(f"cwm.tracer: error: {msg}", file=sys.stderr)
        return EXIT_CODES["program_error"]
    if a.json:
        doc = result.to_json()
        if not a.prompt:
            doc.pop("prompt")
        out.write(json.dumps(doc, indent=1).encode() + b"\n")
    else:
        if a.prompt:
            out.write(result.prompt.encode("utf-8", "surrogatepass"))
        out.write(result.text.encode("utf-8", "surrogatepass"))
    out.flush()
    if result.status != "ok":
        what = _LIMIT_NAMES.get(result.status, result.status.replace("_", " "))
        print(f"cwm.tracer: error: {what}: {result.message}", file=sys.stderr)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
