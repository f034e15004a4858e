"""Tests of the ground-truth tracer (bindings/python/cwm/tracer.py).

Expected traces are written out by hand from the rules of trace-format.md ("The tracer's rules
(ours)"); the sandbox tests try to get out and check that each attempt is contained with its own
status, exit code and message, quickly (small limits), never by hanging.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PYDIR = os.path.join(REPO, "bindings", "python")
sys.path.insert(0, PYDIR)

from cwm import tracer  # noqa: E402
from programs import SPEC_EXAMPLE  # noqa: E402
from cwm.tracer import Limits  # noqa: E402

E = "<|end_of_text|>"


def C(locs, line):
    return f"<|call_sep|>{locs}<|action_sep|>{line}\n<|frame_sep|>"


def L(locs, line):
    return f"<|line_sep|>{locs}<|action_sep|>{line}\n<|frame_sep|>"


def R(line, value):
    return f"<|return_sep|><|action_sep|>{line}\n<|arg_sep|>{value}<|frame_sep|>"


def X(line, value):
    return f"<|exception_sep|><|action_sep|>{line}\n<|arg_sep|>{value}<|frame_sep|>"


def trace(src, **kw):
    limits = kw.pop("limits", None)
    return tracer.trace_program(textwrap.dedent(src), limits=limits, **kw)


def run_cli(args, src=None, tmp_path=None, name="prog.py"):
    argv = list(args)
    if src is not None:
        path = tmp_path / name
        path.write_text(textwrap.dedent(src), encoding="utf-8")
        argv = [str(path)] + argv
    env = dict(os.environ, PYTHONPATH=PYDIR)
    return subprocess.run([sys.executable, "-m", "cwm.tracer"] + argv, capture_output=True,
                          env=env, timeout=60)



# The spec's example, its elided middle completed by the rules (and checked against CPython).
SPEC_EXPECTED = (
    C('{"n": "2"}', "def f(n):")
    + L('{"n": ".."}', "    total = 0")
    + L('{"n": "..", "total": "0"}', "    for i in range(n):")
    + L('{"n": "..", "total": "..", "i": "0"}', "        total += double(i)")
    + C('{"x": "0"}', "def double(x):")
    + L('{"x": ".."}', "    y = x * 2")
    + L('{"x": "..", "y": "0"}', "    return y")
    + R("    return y", '"0"')
    + L('{"n": "2", "total": "0", "i": "0"}', "    for i in range(n):")
    + L('{"n": "..", "total": "..", "i": "1"}', "        total += double(i)")
    + C('{"x": "1"}', "def double(x):")
    + L('{"x": ".."}', "    y = x * 2")
    + L('{"x": "..", "y": "2"}', "    return y")
    + R("    return y", '"2"')
    + L('{"n": "2", "total": "2", "i": "1"}', "    for i in range(n):")
    + L('{"n": "..", "total": "..", "i": ".."}', "    return total")
    + R("    return total", '"2"')
    + E
)


# ------------------------------------------------------------------------------------------
# The format and rules 1-7
# ------------------------------------------------------------------------------------------

def test_spec_example_exact():
    r = tracer.trace_program(SPEC_EXAMPLE)
    assert r.status == "ok" and r.complete and r.exit_code == 0
    assert r.text == SPEC_EXPECTED
    assert r.prompt == "<|begin_of_text|><|trace_context_start|>" + SPEC_EXAMPLE + "<|frame_sep|>"
    assert tracer.build_prompt(SPEC_EXAMPLE) == r.prompt
    # Structured frames: ".." resolved, raw form kept, line numbers.
    fr = r.frames
    assert [f.event for f in fr[:5]] == ["call", "line", "line", "line", "call"]
    assert fr[0].line_number == 5 and fr[0].line == "def f(n):\n"
    assert fr[3].locals == {"n": "2", "total": "0", "i": "0"}
    assert fr[3].locals_raw == {"n": "..", "total": "..", "i": "0"}
    assert fr[7].event == "return" and fr[7].value == "0" and fr[7].locals is None
    assert "".join(f.text() for f in fr) + E == r.text


def test_rule2_nested_calls_and_full_locals_after_return():
    r = trace("""\
        def c(z):
            return z + 1

        def b(y):
            w = c(y)
            return w * 2

        def a(x):  # << START_OF_TRACE
            r = b(x)
            return r

        a(1)
        """)
    assert r.text == (
        C('{"x": "1"}', "def a(x):")
        + L('{"x": ".."}', "    r = b(x)")
        + C('{"y": "1"}', "def b(y):")
        + L('{"y": ".."}', "    w = c(y)")
        + C('{"z": "1"}', "def c(z):")
        + L('{"z": ".."}', "    return z + 1")
        + R("    return z + 1", '"2"')
        + L('{"y": "1", "w": "2"}', "    return w * 2")
        + R("    return w * 2", '"4"')
        + L('{"x": "1", "r": "4"}', "    return r")
        + R("    return r", '"4"')
        + E)


def test_rule2_recursion_ends_with_the_entry_frame():
    r = trace("""\
        def fact(n):  # << START_OF_TRACE
            if n <= 1:
                return 1
            return n * fact(n - 1)

        fact(2)
        """)
    assert r.text == (
        C('{"n": "2"}', "def fact(n):")
        + L('{"n": ".."}', "    if n <= 1:")
        + L('{"n": ".."}', "    return n * fact(n - 1)")
        + C('{"n": "1"}', "def fact(n):")
        + L('{"n": ".."}', "    if n <= 1:")
        + L('{"n": ".."}', "        return 1")
        + R("        return 1", '"1"')
        + R("    return n * fact(n - 1)", '"2"')
        + E)


def test_rule2_module_code_stdlib_and_later_calls_untraced_callbacks_traced():
    r = trace("""\
        import json

        def key(v):
            return -v

        def f(xs):  # << START_OF_TRACE
            s = json.dumps(sorted(xs, key=key))
            return s

        key(5)
        f([1, 2])
        f([3])
        """)
    assert r.text == (
        C('{"xs": "[1, 2]"}', "def f(xs):")
        + L('{"xs": ".."}', "    s = json.dumps(sorted(xs, key=key))")
        + C('{"v": "1"}', "def key(v):")
        + L('{"v": ".."}', "    return -v")
        + R("    return -v", '"-1"')
        + C('{"v": "2"}', "def key(v):")
        + L('{"v": ".."}', "    return -v")
        + R("    return -v", '"-2"')
        + L('{"xs": "[1, 2]", "s": "\'[2, 1]\'"}', "    return s")
        + R("    return s", '"\'[2, 1]\'"')
        + E)


def test_rule2_comprehensions_generator_expressions_lambdas_produce_no_frames():
    r = trace("""\
        def f(xs):  # << START_OF_TRACE
            sq = [x * x for x in xs]
            g = sum(x for x in xs)
            h = (lambda v: v + 1)(g)
            d = {x: x for x in xs}
            return sq, g, h

        f([1, 2])
        """)
    assert r.text == (
        C('{"xs": "[1, 2]"}', "def f(xs):")
        + L('{"xs": ".."}', "    sq = [x * x for x in xs]")
        + L('{"xs": "..", "sq": "[1, 4]"}', "    g = sum(x for x in xs)")
        + L('{"xs": "..", "sq": "..", "g": "3"}', "    h = (lambda v: v + 1)(g)")
        + L('{"xs": "..", "sq": "..", "g": "..", "h": "4"}', "    d = {x: x for x in xs}")
        + L('{"xs": "..", "sq": "..", "g": "..", "h": "..", "d": "{1: 1, 2: 2}"}',
            "    return sq, g, h")
        + R("    return sq, g, h", '"([1, 4], 3, 4)"')
        + E)


def test_rule3_marker_removed_and_decorated_def_line():
    r = trace("""\
        def deco(fn):
            return fn

        @deco
        def f(a):  # << START_OF_TRACE
            return a

        f(7)
        """)
    assert r.text == C('{"a": "7"}', "def f(a):") + L('{"a": ".."}', "    return a") \
        + R("    return a", '"7"') + E
    assert r.frames[0].line_number == 5


def test_rule4_dotdot_after_callee_raised_and_caught():
    r = trace("""\
        def risky(d):
            return 10 // d

        def f(d):  # << START_OF_TRACE
            try:
                q = risky(d)
            except ZeroDivisionError as e:
                q = -1
            return q

        f(0)
        """)
    zde = '"ZeroDivisionError(\'integer division or modulo by zero\')"'
    assert r.text == (
        C('{"d": "0"}', "def f(d):")
        + L('{"d": ".."}', "    try:")
        + L('{"d": ".."}', "        q = risky(d)")
        + C('{"d": "0"}', "def risky(d):")
        + L('{"d": ".."}', "    return 10 // d")
        + X("    return 10 // d", zde)          # rule 5: no return frame after it
        + X("        q = risky(d)", zde)
        + L('{"d": "0"}', "    except ZeroDivisionError as e:")  # full: the callee left
        + L('{"d": "..", "e": ' + zde + '}', "        q = -1")
        + L('{"d": "..", "q": "-1"}', "    return q")  # `e` is deleted after the handler
        + R("    return q", '"-1"')
        + E)


def test_rule5_exception_caught_inside_line_frames_continue():
    r = trace("""\
        def f(s):  # << START_OF_TRACE
            try:
                n = int(s)
            except ValueError:
                n = 0
            return n

        f("x")
        """)
    ve = '"ValueError(\\"invalid literal for int() with base 10: \'x\'\\")"'
    assert r.text == (
        C('{"s": "\'x\'"}', "def f(s):")
        + L('{"s": ".."}', "    try:")
        + L('{"s": ".."}', "        n = int(s)")
        + X("        n = int(s)", ve)
        + L('{"s": ".."}', "    except ValueError:")
        + L('{"s": ".."}', "        n = 0")
        + L('{"s": "..", "n": "0"}', "    return n")
        + R("    return n", '"0"')
        + E)


def test_rule5_exception_escaping_entry_is_the_last_frame():
    src = """\
        def f(x):  # << START_OF_TRACE
            y = x + 1
            raise ValueError(y)

        f(1)
        """
    r = trace(src)
    assert r.text == (
        C('{"x": "1"}', "def f(x):")
        + L('{"x": ".."}', "    y = x + 1")
        + L('{"x": "..", "y": "2"}', "    raise ValueError(y)")
        + X("    raise ValueError(y)", '"ValueError(2)"')
        + E)
    assert r.status == "ok" and r.complete
    assert [f.event for f in r.frames][-1] == "exception"


def test_rule4_del_removes_variable():
    r = trace("""\
        def f():  # << START_OF_TRACE
            a = 1
            b = 2
            del a
            a2 = 1
            return b

        f()
        """)
    assert r.text == (
        C("{}", "def f():")
        + L("{}", "    a = 1")
        + L('{"a": "1"}', "    b = 2")
        + L('{"a": "..", "b": "2"}', "    del a")
        + L('{"b": ".."}', "    a2 = 1")
        + L('{"b": "..", "a2": "1"}', "    return b")
        + R("    return b", '"2"')
        + E)


def test_rule4_ensure_ascii_and_key_order():
    r = trace("""\
        def f():  # << START_OF_TRACE
            zz = 'h\u00e9llo \u2713'
            aa = [zz]
            return zz

        f()
        """)
    assert r.text == (
        C("{}", "def f():")
        + L("{}", "    zz = 'h\u00e9llo \u2713'")
        + L('{"zz": "\'h\\u00e9llo \\u2713\'"}', "    aa = [zz]")
        + L('{"zz": "..", "aa": "[\'h\\u00e9llo \\u2713\']"}', "    return zz")
        + R("    return zz", '"\'h\\u00e9llo \\u2713\'"')
        + E)
    assert r.frames[2].locals == {"zz": "'h\u00e9llo \u2713'"}


def test_rule7_long_repr_cut():
    r = trace("""\
        def f():  # << START_OF_TRACE
            s = 'a' * 5000
            return s

        f()
        """)
    v = r.frames[2].locals["s"]
    assert len(v) == 1000 and v.endswith("...") and v.startswith("'aaa")
    assert r.frames[-1].value == v
    r = trace("""\
        def f():  # << START_OF_TRACE
            s = list(range(100))
            return s

        f()
        """, limits=Limits(repr_chars=12))
    assert r.frames[2].locals == {"s": "[0, 1, 2,..."}
    assert r.text.endswith(R("    return s", '"[0, 1, 2,..."') + E)


def test_rule6_end_and_cli_no_trailing_newline(tmp_path):
    p = run_cli([], SPEC_EXAMPLE, tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == SPEC_EXPECTED
    assert p.stdout.endswith(b"<|end_of_text|>")
    assert p.stderr == b""


def test_cli_prompt(tmp_path):
    p = run_cli(["--prompt"], SPEC_EXAMPLE, tmp_path)
    assert p.returncode == 0
    assert p.stdout.decode() == ("<|begin_of_text|><|trace_context_start|>" + SPEC_EXAMPLE
                                 + "<|frame_sep|>" + SPEC_EXPECTED)


def test_cli_entry_adds_marker(tmp_path):
    src = """\
        def g(a):
            return a * 3

        def h(b):  # << START_OF_TRACE
            return g(b)

        h(2)
        """
    p = run_cli(["--entry", "g", "--prompt"], src, tmp_path)
    assert p.returncode == 0, p.stderr
    marked = ("def g(a):  # << START_OF_TRACE\n    return a * 3\n\ndef h(b):\n"
              "    return g(b)\n\nh(2)\n")
    assert p.stdout.decode() == (
        "<|begin_of_text|><|trace_context_start|>" + marked + "<|frame_sep|>"
        + C('{"a": "2"}', "def g(a):") + L('{"a": ".."}', "    return a * 3")
        + R("    return a * 3", '"6"') + E)
    assert tracer.build_prompt(textwrap.dedent(src), entry="g").endswith(marked + "<|frame_sep|>")


def test_cli_json(tmp_path):
    p = run_cli(["--json"], SPEC_EXAMPLE, tmp_path)
    assert p.returncode == 0
    d = json.loads(p.stdout)
    assert d["status"] == "ok" and d["exit_code"] == 0 and d["complete"]
    assert d["text"] == SPEC_EXPECTED
    assert len(d["frames"]) == 17
    f3 = d["frames"][3]
    assert f3 == {"event": "line", "line_number": 8, "line": "        total += double(i)\n",
                  "locals": {"n": "2", "total": "0", "i": "0"},
                  "locals_raw": {"n": "..", "total": "..", "i": "0"}, "value": None}
    assert d["frames"][-1]["value"] == "2"


def test_program_output_kept_apart_and_name_main(tmp_path):
    src = """\
        def f():  # << START_OF_TRACE
            print("hello from the program")
            return __name__

        if __name__ == "__main__":
            f()
        """
    r = trace(src)
    assert r.status == "ok" and "hello from the program" in r.output
    assert r.frames[-1].value == "'__main__'"
    p = run_cli([], src, tmp_path)
    assert p.stdout.decode() == r.text and p.returncode == 0  # the program's print not in it


def test_program_errors(tmp_path):
    with pytest.raises(tracer.TraceError):
        trace("def f(:\n  pass\n")
    with pytest.raises(tracer.TraceError):
        trace("def f():\n    pass\nf()\n")  # no marker, no --entry
    r = trace("def f():  # << START_OF_TRACE\n    pass\n")
    assert r.status == "program_error" and "never called" in r.message and not r.complete
    r = trace("def f():  # << START_OF_TRACE\n    pass\n1/0\nf()\n")
    assert r.status == "program_error" and "ZeroDivisionError" in r.message
    p = run_cli([], "def f():\n    pass\n", tmp_path)
    assert p.returncode == 3 and b"no entry function" in p.stderr


# ------------------------------------------------------------------------------------------
# Limits and sandbox escapes: each contained, with its own status / exit code / message.
# ------------------------------------------------------------------------------------------

FAST = dict(wall_seconds=10.0, cpu_seconds=5)


def test_step_budget():
    t0 = time.monotonic()
    r = trace("""\
        def f():  # << START_OF_TRACE
            n = 0
            while True:
                n += 1

        f()
        """, limits=Limits(steps=50, **FAST))
    assert r.status == "step_limit" and r.exit_code == 4
    assert len(r.frames) == 50 and not r.complete and not r.text.endswith(E)
    assert "50" in r.message
    assert time.monotonic() - t0 < 5


def test_infinite_loop_wall_clock():
    t0 = time.monotonic()
    r = trace("""\
        import time
        def f():  # << START_OF_TRACE
            time.sleep(1000)

        f()
        """, limits=Limits(wall_seconds=1.0))
    assert r.status == "timeout" and r.exit_code == 5 and "wall-clock" in r.message
    assert [f.event for f in r.frames] == ["call", "line"]  # the frames so far
    assert time.monotonic() - t0 < 5


def test_infinite_loop_cpu():
    t0 = time.monotonic()
    r = trace("""\
        def f():  # << START_OF_TRACE
            return sum(1 for _ in iter(int, 1))

        f()
        """, limits=Limits(cpu_seconds=1, wall_seconds=20))
    assert r.status == "cpu_limit" and r.exit_code == 6 and "CPU" in r.message
    assert time.monotonic() - t0 < 10


def test_allocate_20_gb():
    r = trace("""\
        def f():  # << START_OF_TRACE
            x = b' ' * (20 << 30)
            return len(x)

        f()
        """, limits=Limits(memory_bytes=512 << 20, **FAST))
    assert r.status == "memory_limit" and r.exit_code == 7 and "RLIMIT_AS" in r.message
    assert r.frames[-1].event == "exception" and r.frames[-1].value == "MemoryError()"
    assert r.complete


def test_file_size_limit():
    r = trace("""\
        def f():  # << START_OF_TRACE
            with open('big', 'wb') as fh:
                fh.write(b'x' * (2 << 20))

        f()
        """, limits=Limits(file_size_bytes=1 << 20, **FAST))
    assert r.status == "file_size_limit" and r.exit_code == 8 and "RLIMIT_FSIZE" in r.message


@pytest.mark.parametrize("addr", ["('127.0.0.1', PORT)", "('1.1.1.1', 80)"])
def test_socket_connect_refused(addr):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    r = trace(f"""\
        import socket
        def f():  # << START_OF_TRACE
            s = socket.create_connection({addr.replace('PORT', str(port))}, timeout=5)
            return 'connected'

        f()
        """, limits=Limits(**FAST))
    assert r.status == "sandbox_violation" and r.exit_code == 9
    assert "network" in r.message
    assert r.frames[-1].event == "exception" and "PermissionError" in r.frames[-1].value
    with pytest.raises(socket.timeout):
        srv.accept()
    srv.close()


def test_write_outside_working_directory():
    target = f"/tmp/escape-{uuid.uuid4().hex}"
    r = trace(f"""\
        import os
        def f():  # << START_OF_TRACE
            with open('inside.txt', 'w') as fh:   # allowed: its own working directory
                fh.write('ok')
            with open({target!r}, 'w') as fh:
                fh.write('escaped')

        f()
        """, limits=Limits(**FAST))
    assert r.status == "sandbox_violation" and "outside the working directory" in r.message
    assert not os.path.exists(target)
    # os.open / rename / symlink tricks are refused too
    r = trace(f"""\
        import os
        def f():  # << START_OF_TRACE
            os.symlink({target!r}, 'link')
            fd = os.open('link', os.O_WRONLY | os.O_CREAT)

        f()
        """, limits=Limits(**FAST))
    assert r.status == "sandbox_violation"
    assert not os.path.exists(target)


def test_fork_bomb_and_subprocess():
    t0 = time.monotonic()
    r = trace("""\
        import os
        def f():  # << START_OF_TRACE
            while True:
                os.fork()

        f()
        """, limits=Limits(**FAST))
    assert r.status == "sandbox_violation" and r.exit_code == 9
    assert "process creation" in r.message and "os.fork" in r.message
    r = trace("""\
        import subprocess
        def f():  # << START_OF_TRACE
            return subprocess.run(['sh', '-c', 'echo escaped > /tmp/escape-sub'])

        f()
        """, limits=Limits(**FAST))
    assert r.status == "sandbox_violation" and "subprocess.Popen" in r.message
    r = trace("""\
        import os
        def f():  # << START_OF_TRACE
            return os.system('true')

        f()
        """, limits=Limits(**FAST))
    assert r.status == "sandbox_violation" and "os.system" in r.message
    assert time.monotonic() - t0 < 10


def test_cli_limits_exit_codes_and_messages(tmp_path):
    p = run_cli(["--max-steps", "20"],
                "def f():  # << START_OF_TRACE\n    while True:\n        pass\nf()\n", tmp_path)
    assert p.returncode == 4
    assert p.stderr.decode().count("\n") == 1 and "step limit" in p.stderr.decode()
    assert p.stdout.count(b"<|frame_sep|>") == 20 and not p.stdout.endswith(b"<|end_of_text|>")
    p = run_cli(["--timeout", "1", "--json"],
                "import time\ndef f():  # << START_OF_TRACE\n    time.sleep(60)\nf()\n",
                tmp_path)
    assert p.returncode == 5 and "wall-clock" in p.stderr.decode()
    assert json.loads(p.stdout)["status"] == "timeout"
    p = run_cli([], "import socket\ndef f():  # << START_OF_TRACE\n"
                    "    socket.create_connection(('8.8.8.8', 53))\nf()\n", tmp_path)
    assert p.returncode == 9 and "sandbox violation: network access" in p.stderr.decode()


# Each kernel layer alone (audit hooks off): the namespaces and the unprivileged uid hold too.

def _layer_or_skip(r, name):
    if not r.sandbox.get(name):
        pytest.skip(f"sandbox layer {name} not available here")


def test_layer_network_namespace_alone():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    r = trace(f"""\
        import socket
        def f():  # << START_OF_TRACE
            out = []
            for addr in [('127.0.0.1', {port}), ('1.1.1.1', 80)]:
                try:
                    socket.create_connection(addr, timeout=3)
                    out.append('connected')
                except OSError as e:
                    out.append(type(e).__name__)
            return out

        f()
        """, limits=Limits(audit_hooks=False, **FAST))
    _layer_or_skip(r, "net_namespace")
    assert "connected" not in r.frames[-1].value
    with pytest.raises(socket.timeout):
        srv.accept()
    srv.close()


def test_layer_read_only_mounts_alone():
    target = f"/tmp/escape-{uuid.uuid4().hex}"
    r = trace(f"""\
        def f():  # << START_OF_TRACE
            with open('inside', 'w') as fh:
                fh.write('fine')
            try:
                open({target!r}, 'w')
                return 'escaped'
            except OSError as e:
                return e.errno

        f()
        """, limits=Limits(audit_hooks=False, **FAST))
    _layer_or_skip(r, "read_only_mounts")
    assert r.status == "ok" and r.frames[-1].value != "'escaped'"
    assert not os.path.exists(target)


def test_layer_process_limit_alone():
    t0 = time.monotonic()
    r = trace("""\
        import os, time
        def f(n):  # << START_OF_TRACE
            return n

        count = 0
        try:
            for _ in range(100):
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                count += 1
        except OSError:
            pass
        f(count)
        """, limits=Limits(audit_hooks=False, processes=6, **FAST))
    _layer_or_skip(r, "unprivileged_uid")
    assert r.status == "ok", r.message
    assert int(r.frames[-1].value) < 6
    assert time.monotonic() - t0 < 5  # the sleeping children were killed, not waited for


def test_hook_bypass_attempt_through_posixsubprocess():
    target = f"/tmp/escape-{uuid.uuid4().hex}"
    src = f"""\
        import _posixsubprocess, os, time
        def f():  # << START_OF_TRACE
            r, w = os.pipe()
            return _posixsubprocess.fork_exec(
                [b"/bin/sh", b"-c", b"echo x > {target}"], [b"/bin/sh"], True, (w,), None, None,
                -1, -1, -1, -1, -1, -1, r, w, True, False, -1, None, None, None, -1, None, False)

        f()
        """
    r = trace(src, limits=Limits(**FAST))
    assert r.status == "sandbox_violation" and "process creation" in r.message
    assert not os.path.exists(target)


def _uid_processes(uid):
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as fh:
                st = dict(l.split(":", 1) for l in fh if ":" in l)
        except OSError:
            continue
        if int(st["Uid"].split()[0]) == uid and not st["State"].strip().startswith("Z"):
            out.append(pid)
    return out


def test_layer_descendants_leaving_the_process_group_are_killed():
    # With the audit hook off, a program forks a grandchild into its own session (out of the
    # process group the parent kills); the sweep of the run's own uid still kills it.
    t0 = time.monotonic()
    r = trace("""\
        import os, time
        def f():  # << START_OF_TRACE
            return os.getuid()

        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(60)
            os._exit(0)
        time.sleep(0.2)
        f()
        """, limits=Limits(audit_hooks=False, **FAST))
    _layer_or_skip(r, "unprivileged_uid")
    assert r.status == "ok"
    assert _uid_processes(int(r.frames[-1].value)) == []
    assert time.monotonic() - t0 < 5


def test_entry_by_qualname_method():
    src = """\
        class K:
            def m(self, a):
                return a + 1

        def f():  # << START_OF_TRACE
            return K().m(1)

        f()
        """
    r = trace(src, entry="K.m")
    assert r.entry == "K.m"
    assert "    def m(self, a):  # << START_OF_TRACE\n" in r.prompt
    assert "def f():\n" in r.prompt and r.prompt.count("START_OF_TRACE") == 1
    assert r.frames[0].line == "    def m(self, a):\n" and r.frames[0].line_number == 2
    assert r.text.endswith(R("        return a + 1", '"2"') + E)
    assert [f.event for f in r.frames] == ["call", "line", "return"]
