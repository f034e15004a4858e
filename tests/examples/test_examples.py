"""The C, C++ and editor examples, run on the random-weight test model as a user runs them.

Random weights make the generated text noise, so the checks are on what the programs promise:
the C example streams valid UTF-8 after the prompt and reports its token counts; the chat
example keeps a multi-turn conversation in reasoning and plain mode; the editor example's
completions from a restored prefix equal fresh evaluations (--verify) and its requests
evaluate only their own tokens.
"""

import os
import re
import subprocess
from pathlib import Path

MODEL = str(Path(os.environ["CWM_TEST_MODELS"]) / "tiny-cwm.gguf")


def run(exe_var, *args, stdin=None):
    proc = subprocess.run([os.environ[exe_var], *args], input=stdin, capture_output=True, timeout=300)
    assert proc.returncode == 0, f"{exe_var} {args} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}"
    return proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")  # strict: must be valid UTF-8


def test_c_example_streams_a_generation():
    out, err = run("CWM_EXAMPLE_C", MODEL, "def add(a, b):", "12")
    assert out.startswith("libcwm ")
    assert "def add(a, b):" in out
    m = re.search(r"prompt (\d+) tokens, (\d+) pieces streamed, context now (\d+) tokens", err)
    assert m, err
    prompt, pieces, n_past = map(int, m.groups())
    assert prompt > 1 and 0 < pieces <= 12
    assert n_past <= prompt + pieces


def test_c_example_reports_a_bad_model_path():
    proc = subprocess.run([os.environ["CWM_EXAMPLE_C"], "/nonexistent.gguf", "x"], capture_output=True)
    assert proc.returncode == 1
    assert b"CWM_ERR_IO" in proc.stderr and b"/nonexistent.gguf" in proc.stderr


def test_chat_example_keeps_a_conversation_with_and_without_reasoning():
    for flags, mode in (([], "with"), (["--no-reasoning"], "without")):
        out, err = run("CWM_EXAMPLE_CHAT", MODEL, *flags, "-n", "8", "What is 2+2?", "And 3+3?")
        assert out.count("user> ") == 2 and out.count("assistant> ") == 2
        assert f"4 messages, {mode} reasoning" in err


def test_editor_example_reuses_the_cached_prefix_and_matches_fresh_evaluation(tmp_path):
    source = tmp_path / "buffer.py"
    source.write_text("def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n" * 3)
    requests = "    return\nprint(fib\n\n# compute\n"
    out, _ = run("CWM_EXAMPLE_EDITOR", MODEL, str(source), "-n", "6", "--verify", stdin=requests.encode())
    prefix = int(re.search(r"prefix: (\d+) tokens evaluated once", out).group(1))
    assert prefix > 40
    new_tokens = [int(n) for n in re.findall(r"\] (\d+) new tokens after the cached prefix", out)]
    assert len(new_tokens) == 4 and max(new_tokens) < 10  # each request evaluates only its own text
    assert "4 requests served, 0 mismatches" in out
