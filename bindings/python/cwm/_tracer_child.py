"""The child side of cwm.tracer: sets up the sandbox, then runs and traces the program.

Run by tracer.py as a standalone script (`python3 -s -P _tracer_child.py`, so nothing of the
package or the user's site is importable), it reads its configuration as JSON on stdin and
writes the frames as JSON lines to the pipe it was given. Standard library only.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any, Dict, List

_CLONE_NEWNS = 0x00020000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38


def _child_namespaces(workdir: str, layers: Dict[str, Any]) -> None:
    """New network (no interfaces up: no network at all), IPC, UTS and mount namespaces; in the
    mount namespace every mount is read-only except the working directory. Best effort."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                           ctypes.c_ulong, ctypes.c_char_p]

    def unshare(flags):
        return libc.unshare(ctypes.c_int(flags)) == 0

    if os.geteuid() != 0:
        uid, gid = os.getuid(), os.getgid()
        if unshare(_CLONE_NEWUSER | _CLONE_NEWNET | _CLONE_NEWNS):
            try:
                with open("/proc/self/setgroups", "w") as f:
                    f.write("deny")
                with open("/proc/self/uid_map", "w") as f:
                    f.write(f"{uid} {uid} 1")
                with open("/proc/self/gid_map", "w") as f:
                    f.write(f"{gid} {gid} 1")
            except OSError:
                pass
            layers["net_namespace"] = layers["mount_namespace"] = True
    else:
        if unshare(_CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS):
            layers["net_namespace"] = True
        elif unshare(_CLONE_NEWNET):
            layers["net_namespace"] = True
        if unshare(_CLONE_NEWNS):
            layers["mount_namespace"] = True
    if layers.get("mount_namespace"):
        ok = libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None) == 0
        wd = os.path.realpath(workdir).encode()
        ok = ok and libc.mount(wd, wd, None, _MS_BIND, None) == 0
        ro = 0
        if ok:
            with open("/proc/self/mountinfo") as f:
                infos = [l.split() for l in f]
            for info in infos:
                mp = info[4].encode().decode("unicode_escape").encode("latin-1")
                if mp == wd:
                    continue
                opts = info[5].split(",")
                flags = _MS_REMOUNT | _MS_BIND | _MS_RDONLY
                flags |= _MS_NOSUID if "nosuid" in opts else 0
                flags |= _MS_NODEV if "nodev" in opts else 0
                flags |= _MS_NOEXEC if "noexec" in opts else 0
                if libc.mount(None, mp, None, flags, None) == 0:
                    ro += 1
        layers["read_only_mounts"] = ro


def _make_audit_hook(workdir: str, limit_event, state: Dict[str, Any]):
    """The child's audit hook: refuse network, process creation, foreign code, replacing the
    trace function, and changes to files outside ``workdir`` (see docs/tracer.md)."""
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    realpath, join, isdir, getcwd, fsdecode = (os.path.realpath, os.path.join, os.path.isdir,
                                               os.getcwd, os.fsdecode)
    refused_prefixes = ("socket.", "ctypes.", "subprocess.", "os.exec", "os.spawn",
                        "os.posix_spawn", "os.fork", "os.forkpty", "pty.", "winreg.",
                        "_winapi.", "webbrowser.")
    refused_exact = frozenset({
        "os.system", "os.kill", "os.killpg", "os.startfile", "os.setns", "os.unshare",
        "signal.pthread_kill", "sys.setprofile", "sys.settrace", "threading.settrace",
        "threading.setprofile", "resource.setrlimit", "resource.prlimit", "os.chroot",
        "os.putenv", "os.unsetenv", "sys.remote_exec", "gc.get_objects", "gc.get_referrers",
        "gc.get_referents"})
    path_events = {"os.rename": 2, "os.remove": 1, "os.rmdir": 1, "os.mkdir": 1,
                   "os.symlink": 2, "os.link": 2, "os.chmod": 1, "os.chown": 1,
                   "os.truncate": 1, "os.utime": 1, "os.chflags": 1, "os.setxattr": 1,
                   "os.removexattr": 1, "os.mkfifo": 1, "os.mknod": 1, "shutil.chown": 1}
    kinds = (("socket", "network access"), ("subprocess", "process creation"),
             ("os.exec", "process creation"), ("os.spawn", "process creation"),
             ("os.posix_spawn", "process creation"), ("os.fork", "process creation"),
             ("os.system", "process creation"), ("pty", "process creation"),
             ("ctypes", "foreign function access"),
             ("sys.set", "replacing the tracer's trace/profile function"),
             ("threading.set", "replacing the tracer's trace/profile function"),
             ("resource.", "changing resource limits"), ("os.kill", "signalling processes"),
             ("signal.", "signalling processes"), ("gc.", "walking the interpreter's objects"))
    sep = os.sep

    def inside(p):
        if isinstance(p, int):
            return True
        try:
            full = realpath(join(getcwd(), fsdecode(p)))
        except Exception:  # noqa: BLE001
            return False
        return full == workdir or full.startswith(workdir + sep)

    def refuse(event, what):
        msg = f"{what} is not allowed ({event})"
        limit_event("sandbox_violation", msg)
        raise PermissionError("sandbox: " + msg)

    def hook(event, args):
        if event in ("sys.settrace", "sys.setprofile") and state["allow_settrace"]:
            return
        if event.startswith(refused_prefixes) or event in refused_exact:
            refuse(event, next((v for k, v in kinds if event.startswith(k)), "this operation"))
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            if path is None or inside(path):
                return
            if (isinstance(flags, int) and flags & write_flags) or \
                    (isinstance(mode, str) and any(c in mode for c in "wax+")):
                refuse(event, f"writing outside the working directory ({path!r})")
            try:
                d = isdir(path)
            except Exception:  # noqa: BLE001
                d = False
            if d:  # a directory fd outside would give the *at() calls a way out
                refuse(event, f"opening a directory outside the working directory ({path!r})")
        elif event in path_events:
            for p in tuple(args)[: path_events[event]]:
                if p is not None and not inside(p):
                    refuse(event, f"changing files outside the working directory ({p!r})")

    try:  # subprocess's own fork+exec has no audit event of its own
        import _posixsubprocess

        def fork_exec(*args, **kwargs):
            refuse("_posixsubprocess.fork_exec", "process creation")

        _posixsubprocess.fork_exec = fork_exec
    except ImportError:  # pragma: no cover
        pass
    return hook


def _child_main(argv: List[str]) -> None:  # noqa: C901 - one linear setup sequence
    import resource
    config = json.loads(sys.stdin.buffer.read())
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    out_fd = config["fd"]
    workdir = os.path.realpath(config["workdir"])
    lim = config["limits"]
    layers: Dict[str, Any] = {"net_namespace": False, "mount_namespace": False,
                              "unprivileged_uid": None, "audit_hooks": lim["audit_hooks"],
                              "rlimits": True}

    def send(obj):
        data = (json.dumps(obj) + "\n").encode()
        while data:
            try:
                n = os.write(out_fd, data)
            except InterruptedError:
                continue
            data = data[n:]

    def finish(status, message, code=0):
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        send({"t": "status", "status": status, "message": message})
        os._exit(code)

    # 1. Namespaces (as root: real ones; otherwise a user namespace when the kernel allows).
    if lim["namespaces"]:
        try:
            _child_namespaces(workdir, layers)
        except Exception as e:  # noqa: BLE001 - the other layers still hold
            layers["namespace_error"] = repr(e)

    # 2. Resource limits.
    def setlim(res, soft, hard=None):
        hard = soft if hard is None else hard
        try:
            resource.setrlimit(res, (soft, hard))
        except (ValueError, OSError):
            layers["rlimits"] = False

    setlim(resource.RLIMIT_CORE, 0)
    setlim(resource.RLIMIT_CPU, max(1, int(lim["cpu_seconds"])), max(1, int(lim["cpu_seconds"])) + 1)
    setlim(resource.RLIMIT_FSIZE, int(lim["file_size_bytes"]))
    setlim(resource.RLIMIT_AS, int(lim["memory_bytes"]))

    # 3. Drop root: an unprivileged uid of our own, so that RLIMIT_NPROC counts only this run.
    if os.geteuid() == 0 and lim["drop_privileges"]:
        uid = 200000 + os.getpid() % 100000
        gid = 65534
        try:
            os.chown(workdir, uid, gid)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            layers["unprivileged_uid"] = uid
        except OSError as e:
            layers["privilege_error"] = repr(e)
    setlim(resource.RLIMIT_NPROC, int(lim["processes"]))
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # noqa: BLE001
        pass
    libc = ctypes = None  # nothing foreign left reachable from this frame
    for mod in [m for m in sys.modules if m == "ctypes" or m.startswith(("ctypes.", "_ctypes"))]:
        del sys.modules[mod]
    os.chdir(workdir)

    # 4. Everything the program's run needs, prepared before the audit hook goes in.
    import builtins
    import errno
    import types
    filename = config["filename"]
    source = config["source"]
    lines = config["lines"]  # the source's lines, marker removed (tracer.py)
    defs = config["defs"]
    entry_name = config["entry_name"]
    entry_first = config["entry_firstlineno"]
    max_steps = int(lim["steps"])
    repr_cap = int(lim["repr_chars"])
    try:
        code = compile(source, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as e:
        finish("program_error", f"cannot compile the program: {e}")
    send({"t": "sandbox", "layers": layers})

    state = {"active": False, "done": False, "steps": 0, "limits": set(),
             "allow_settrace": False}
    scopes: Dict[int, Dict[str, Any]] = {}   # id(frame) -> {"last": {...}, "full": bool, ...}
    entry_frame_id = [None]

    def limit_event(status, message):
        if status not in state["limits"]:
            state["limits"].add(status)
            send({"t": "limit", "status": status, "message": message})

    def check_exception(exc):
        if isinstance(exc, MemoryError):
            limit_event("memory_limit", f"memory limit of {lim['memory_bytes']} bytes hit "
                        "(RLIMIT_AS): MemoryError")
        elif isinstance(exc, OSError) and exc.errno == errno.EFBIG:
            limit_event("file_size_limit", f"file size limit of {lim['file_size_bytes']} bytes "
                        "hit (RLIMIT_FSIZE): File too large")

    def safe_repr(value):
        try:
            r = repr(value)
        except BaseException as e:  # noqa: BLE001 - a user __repr__ may raise anything
            r = f"<repr failed: {type(e).__name__}>"
        if not isinstance(r, str):
            r = str(r)
        if len(r) > repr_cap:
            r = r[: max(0, repr_cap - 3)] + "..."
        return r

    def line_text(n):
        t = lines[n - 1] if n and 0 < n <= len(lines) else "\n"
        if not t.endswith(("\n", "\r")):
            t += "\n"
        return t

    def emit(event, frame, lineno, locs=None, raw=None, value=None):
        if state["steps"] >= max_steps:
            finish("step_limit", f"step limit of {max_steps} frames exceeded")
        state["steps"] += 1
        send({"t": "frame", "event": event, "line_number": lineno, "line": line_text(lineno),
              "locals": locs, "locals_raw": raw, "value": value})

    def parent_scope(frame):
        f = frame.f_back
        while f is not None:
            s = scopes.get(id(f))
            if s is not None and s["frame"] is f:
                return s
            f = f.f_back
        return None

    def observe(frame, scope, full):
        cur = {k: safe_repr(v) for k, v in frame.f_locals.items()}
        last = scope["last"]
        if full:
            raw = dict(cur)
        else:
            raw = {k: (".." if last.get(k) == v else v) for k, v in cur.items()}
        scope["last"] = cur
        return cur, raw

    def leave(frame, scope):
        scopes.pop(id(frame), None)
        p = parent_scope(frame)
        if p is not None:
            p["full"] = True
        if id(frame) == entry_frame_id[0]:
            state["done"] = True
            state["allow_settrace"] = True
            sys.settrace(None)
            send({"t": "end"})
            status = "ok"
            finish(status, "")

    def tracing_failed(e):
        if isinstance(e, MemoryError):
            finish("memory_limit", f"memory limit of {lim['memory_bytes']} bytes hit (RLIMIT_AS) while tracing")
        else:
            finish("crashed", f"tracer error: {type(e).__name__}: {e}")

    def local_trace(frame, event, arg):
        if state["done"]:
            return None
        try:
            scope = scopes.get(id(frame))
            if scope is None or scope["frame"] is not frame:
                return None
            if event == "line":
                cur, raw = observe(frame, scope, scope["full"])
                scope["full"] = False
                emit("line", frame, frame.f_lineno, cur, raw)
            elif event == "exception":
                exc = arg[1]
                check_exception(exc)
                emit("exception", frame, frame.f_lineno, value=safe_repr(exc))
            elif event == "return":
                if scope["prev"] != "exception":
                    emit("return", frame, frame.f_lineno, value=safe_repr(arg))
                leave(frame, scope)
                return None
            scope["prev"] = event
            return local_trace
        except BaseException as e:  # noqa: BLE001
            tracing_failed(e)

    def global_trace(frame, event, arg):
        if state["done"] or event != "call":
            return None
        try:
            co = frame.f_code
            if co.co_filename != filename or co.co_name.startswith("<"):
                return None
            if not state["active"]:
                if co.co_name != entry_name or co.co_firstlineno != entry_first:
                    return None
                state["active"] = True
                entry_frame_id[0] = id(frame)
            scope = {"frame": frame, "last": {}, "full": False, "prev": "call"}
            scopes[id(frame)] = scope
            cur, raw = observe(frame, scope, True)
            defline = defs.get(f"{co.co_name}:{co.co_firstlineno}", co.co_firstlineno)
            emit("call", frame, defline, cur, raw)
            return local_trace
        except BaseException as e:  # noqa: BLE001
            tracing_failed(e)

    # 5. Audit hook policy (defense in depth on top of the kernel layers). The hook is made by a
    # module-level factory and bound to no local name here, so the program cannot reach it
    # through its frames' f_back chain (and gc's object walkers are refused).
    if lim["audit_hooks"]:
        sys.addaudithook(_make_audit_hook(workdir, limit_event, state))

    # 6. Run the program as __main__ with its own globals.
    main_mod = types.ModuleType("__main__")
    main_mod.__file__ = filename
    main_mod.__builtins__ = builtins
    sys.modules["__main__"] = main_mod
    sys.argv = [filename]
    sys.path[0:0] = [os.path.dirname(filename) or "."]
    g = main_mod.__dict__
    state["allow_settrace"] = True
    sys.settrace(global_trace)
    state["allow_settrace"] = False
    try:
        exec(code, g)
    except SystemExit:
        pass
    except BaseException as e:  # noqa: BLE001
        state["allow_settrace"] = True
        sys.settrace(None)
        check_exception(e)
        if not state["active"]:
            finish("program_error", f"the program raised {safe_repr(e)} before calling "
                   f"the entry function {entry_name}")
    state["allow_settrace"] = True
    sys.settrace(None)
    if not state["active"]:
        finish("program_error", f"the program never called the entry function {entry_name}")
    # Entry started but its return was never seen (e.g. a generator left suspended).
    finish("ok", "")


if __name__ == "__main__":
    _child_main(sys.argv[1:])
