"""`cwm trace`, `cwm debug` and `cwm verify` on the random-weight test model (CWM's trace tokens,
noise for weights): the actual traces they show and count are the independent pure-Python
tracer's, the debugger's moves and teacher forcing land on the tracer's frames with the source
around them, every move costs only its own tokens, and bad input gives a clear error and exit
code. (Prediction quality needs the trained model: issue 7.) Environment: CWM_BIN,
CWM_TEST_MODELS."""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python", "tests"))
from cwm import tracer  # noqa: E402  (stdlib only: no native library needed)
from programs import SPEC_EXAMPLE as EXAMPLE  # noqa: E402

RAISES = """def g(a):  # << START_OF_TRACE
    if a > 1:
        raise ValueError("too big")
    return a

try:
    g(2)
except ValueError:
    pass
"""


def env(name):
    if not os.environ.get(name):
        pytest.fail(f"{name} is not set (ctest sets it)")
    return os.environ[name]


def cwm(*args, stdin=None, check=True):
    model = os.path.join(env("CWM_TEST_MODELS"), "tiny-cwm.gguf")
    argv = [env("CWM_BIN"), *args]
    if "-m" not in args:
        argv += ["-m", model]
    proc = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv} exited {proc.returncode}: {proc.stderr}")
    return proc


@pytest.fixture
def example(tmp_path):
    path = tmp_path / "example.py"
    path.write_text(EXAMPLE)
    return path


def test_trace_json_holds_the_tracers_trace_and_the_comparison(example):
    out = json.loads(cwm("trace", str(example), "--max-frame-tokens", "12", "--json").stdout)
    actual = tracer.trace_program(EXAMPLE)
    assert out["actual_text"] == actual.text
    c = out["comparison"]
    assert c["actual_frames"] == len(actual.frames) == 17
    assert c["actual_result"] == actual.frames[-1].value
    assert c["variables"] >= sum(len(f.locals or {}) for f in actual.frames)
    assert out["issues"], "the noise model's output is reported as issues"
    assert out["tokens_evaluated"] > out["prompt_tokens"]


def test_trace_table_is_plain_when_piped_and_coloured_when_asked(example, tmp_path):
    actual = tracer.trace_program(EXAMPLE)
    pinned = tmp_path / "actual.trace"
    pinned.write_text(actual.text)
    plain = cwm("trace", str(example), "--max-frame-tokens", "8", "--actual", str(pinned)).stdout
    assert "\033[" not in plain
    rows = [line for line in plain.splitlines() if re.match(r"^\s+\d+ [=x] ", line)]
    assert len(rows) == 17  # one per frame position, marked
    assert "| call   L5   def f(n):" in plain and "|   -> 2" in plain
    assert "first divergence: frame 0" in plain and "result: predicted (none), actual 2 x" in plain
    coloured = cwm("trace", str(example), "--max-frame-tokens", "8", "--actual", str(pinned), "--color", "always").stdout
    assert "\033[31m" in coloured
    only = cwm("trace", str(example), "--max-frame-tokens", "8", "--no-actual", "--max-frames", "2").stdout
    assert "| actual" not in only and "agreement" not in only


def test_debug_moves_teacher_forcing_print_list_back(example):
    script = "a\na\np n\np total\nl\nb\n\nw\na\nreset\nw\nbogus\nq\n"
    proc = cwm("debug", str(example), "--max-frame-tokens", "8", "--compare", stdin=script)
    out = proc.stdout
    assert "[0] call   L5   def f(n):  [= actual]" in out
    assert "[1] line   L6       total = 0  [= actual]" in out
    assert "n = 2" in out and "no local 'total' in this frame" in out
    assert "-> 6      total = 0" in out  # the current line, in context
    assert "at the start of the trace" in out  # back twice (an empty line repeats the move)
    assert "unknown command 'bogus'" in out
    # Each forced frame costs its own tokens only: never the prompt again.
    prompt = int(re.search(r"\((\d+) prompt tokens", out).group(1))
    costs = [int(n) for n in re.findall(r"\((\d+) tokens evaluated\)", out)]
    assert costs and all(0 < c < prompt for c in costs)


def test_debug_step_with_the_noise_model_reports_and_recovers(example):
    out = cwm("debug", str(example), "--max-frame-tokens", "6", stdin="s\nw\np\nq\n").stdout
    assert "the model wrote no complete frame: no frame ended within 6 tokens" in out
    assert "(its tokens were taken back)" in out
    assert "no frame yet" in out
    assert "no actual trace" in cwm("debug", str(example), stdin="a\n").stdout  # a: needs --compare


def test_verify_counts_programs_frames_results_and_errors(tmp_path):
    programs = tmp_path / "programs"
    programs.mkdir()
    (programs / "a_example.py").write_text(EXAMPLE)
    (programs / "b_raises.py").write_text(RAISES)
    (programs / "c_broken.py").write_text("def f(:  # << START_OF_TRACE\n")
    (programs / "d_pinned.py").write_text(EXAMPLE)
    (programs / "d_pinned.trace").write_text("<|line_sep|>not a trace")
    proc = cwm("verify", str(programs), "--max-frame-tokens", "6", "--json", "-", check=False)
    assert proc.returncode == 1  # two programs could not be evaluated
    out = json.loads(proc.stdout)
    rows = {r["program"]: r for r in out["programs"]}
    assert "could not trace" in rows["c_broken.py"]["error"]
    assert "malformed" in rows["d_pinned.py"]["error"]
    frames = 0
    for name, source in (("a_example.py", EXAMPLE), ("b_raises.py", RAISES)):
        actual = tracer.trace_program(source)
        e = rows[name]["evaluation"]
        assert e["actual_frames"] == e["next_frame"]["frames"] == len(actual.frames)
        assert e["result"]["actual"] == actual.frames[-1].value
        frames += len(actual.frames)
    total = out["total"]
    assert (total["programs"], total["evaluated"], total["errors"]) == (4, 2, 2)
    assert total["next_frames"] == frames
    assert 0.0 <= total["next_frame_accuracy"] <= 1.0


def test_verify_table_thresholds_and_json_file(tmp_path):
    programs = tmp_path / "programs"
    programs.mkdir()
    (programs / "example.py").write_text(EXAMPLE)
    report = tmp_path / "report.json"
    proc = cwm("verify", str(programs), "--max-frame-tokens", "6", "--measures", "next,result", "--json", str(report))
    assert re.search(r"^example\.py\s+17\s", proc.stdout, re.M)
    assert re.search(r"^total \(1 of 1\)\s+17\s", proc.stdout, re.M)
    saved = json.loads(report.read_text())
    assert saved["programs"][0]["evaluation"]["free_running"] is None
    assert not (tmp_path / "report.json.partial").exists()
    failing = cwm("verify", str(programs), "--max-frame-tokens", "6", "--measures", "next", "--min-next-frame", "0.99",
                  check=False)
    assert failing.returncode == 1 and "below --min-next-frame" in failing.stderr


def test_trace_runs_a_llama_file_of_cwm_with_attention_cwm(example):
    """tiny-llama holds tiny-cwm's tensors without its layout (window 6, CWM's rule)."""
    llama = os.path.join(env("CWM_TEST_MODELS"), "tiny-llama.gguf")
    args = ["trace", str(example), "--max-frame-tokens", "12", "--json"]
    applied = json.loads(cwm(*args, "-m", llama, "--attention", "cwm", "--window", "6").stdout)
    assert applied == json.loads(cwm(*args).stdout)
    assert "--window needs --attention cwm" in cwm(*args, "-m", llama, "--window", "6", check=False).stderr


def test_bad_input_gives_a_clear_error(tmp_path, example):
    unmarked = tmp_path / "unmarked.py"
    unmarked.write_text("def f():\n    return 1\n\nf()\n")
    proc = cwm("trace", str(unmarked), check=False)
    assert proc.returncode == 1 and "could not trace" in proc.stderr
    proc = cwm("trace", str(unmarked), "--actual", str(example), check=False)  # tracer skipped: the library refuses
    assert proc.returncode == 1 and "no function is marked" in proc.stderr
    proc = cwm("trace", str(tmp_path / "missing.py"), check=False)
    assert proc.returncode == 1 and "missing.py" in proc.stderr
    proc = cwm("trace", str(example), "-m", str(tmp_path / "missing.gguf"), check=False)
    assert proc.returncode == 1 and "missing.gguf" in proc.stderr
    proc = cwm("verify", str(tmp_path / "nothing"), check=False)
    assert proc.returncode == 1 and "neither a directory nor a file" in proc.stderr


def test_a_full_context_shows_what_was_predicted_and_the_reason(example, tmp_path):
    pinned = tmp_path / "actual.trace"
    pinned.write_text(tracer.trace_program(EXAMPLE).text)
    # The prompt is 108 tokens; 40 more fill the context during the first frames.
    out = cwm("trace", str(example), "-c", "148", "--max-frame-tokens", "64", "--actual", str(pinned)).stdout
    assert "prediction stopped:" in out and "raise -c/--ctx" in out
    assert "first divergence" in out  # the comparison is still made
    session = cwm("debug", str(example), "-c", "148", "--compare", stdin="a\na\na\na\nw\nb\nq\n").stdout
    assert "error:" in session  # the forced frames no longer fit...
    assert "[0] call   L5   def f(n):" in session  # ...and the debugger goes on


SHIPPED = os.path.join(ROOT, "models", "cwm-tiny-q8_0.gguf")
PROGRAMS_DIR = os.path.join(ROOT, "examples", "programs")


def test_the_shipped_model_through_trace_debug_and_verify():
    """End to end with the trained tiny model, as a new user would run it: its frames show in
    `cwm trace`, the debugger steps through them, and `cwm verify` evaluates every example."""
    gcd = os.path.join(PROGRAMS_DIR, "gcd.py")
    out = cwm("trace", gcd, "-m", SHIPPED, "-t", "1").stdout
    assert re.search(r"^\s+0 [=x] call ", out, re.M), out  # the model's call frame, beside the actual
    assert "agreement:" in out
    session = cwm("debug", gcd, "-m", SHIPPED, "-t", "1", stdin="s\ns\np\nb\nw\nq\n").stdout
    assert "[0] call" in session and "[1] " in session
    assert "tokens evaluated)" in session and "error" not in session
    report = json.loads(cwm("verify", PROGRAMS_DIR, "-m", SHIPPED, "-t", "1", "--json", "-").stdout)
    total = report["total"]
    assert total["programs"] == total["evaluated"] == len([f for f in os.listdir(PROGRAMS_DIR) if f.endswith(".py")])
    assert total["errors"] == 0
