"""The `cwm` program's measuring commands produce well-formed output (not how fast: speed is
measured in docs/benchmarks.md, never asserted in a test). Environment: CWM_BIN, CWM_TEST_MODELS."""
import json
import os
import subprocess

import pytest


def env(name):
    if not os.environ.get(name):
        pytest.fail(f"{name} is not set (ctest sets it)")
    return os.environ[name]


def test_bench_json_reports_both_tests():
    model = os.path.join(env("CWM_TEST_MODELS"), "tiny-cwm.gguf")
    proc = subprocess.run([env("CWM_BIN"), "bench", "-m", model, "-p", "16", "-n", "4", "-r", "2", "--json"],
                          capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(proc.stdout)
    assert result["pp_tokens"] == 16 and result["tg_tokens"] == 4 and result["repetitions"] == 2
    assert result["pp_tps"] > 0 and result["tg_tps"] > 0 and result["ttft_s"] > 0
    assert proc.stderr.count("rep ") == 2


def test_bench_table():
    model = os.path.join(env("CWM_TEST_MODELS"), "tiny-cwm.gguf")
    out = subprocess.run([env("CWM_BIN"), "bench", "-m", model, "-p", "8", "-n", "0", "-r", "1"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert "| pp8 |" in out and "tg" not in out.split("pp8")[1].split("\n")[0]
