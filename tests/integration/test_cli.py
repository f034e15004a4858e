"""The `cwm` program's measuring commands produce well-formed output (not how fast: speed is
measured in docs/benchmarks.md, never asserted in a test), and the figures they derive (the
decode roofline's bytes per token, KL divergence against a reference model) equal independent
computations. Environment: CWM_BIN, CWM_TEST_MODELS, CWM_DUMP_LOGITS (tests/tools/dump_logits)."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from gguf_io import read_gguf  # noqa: E402


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
    assert result["bandwidth_gbs"] > 0 and result["tg_roofline_tps"] > 0
    assert result["tg_roofline_pct"] == pytest.approx(100 * result["tg_tps"] / result["tg_roofline_tps"], rel=1e-2)


# ggml type id -> bytes per element, for the types the test models use
TYPE_BYTES = {0: 4, 1: 2, 8: 34 / 32, 2: 18 / 32}


def expected_bytes_per_token(path, n_tokens, layout, window):
    """Weights (every tensor but the embedding table, plus one embedding row) and the mean f16
    KV-cache read of n_tokens generated from an empty context, from the file alone."""
    f = read_gguf(path)
    weights = 0.0
    for t in f.tensors.values():
        n_bytes = np.prod(t.shape) * TYPE_BYTES[t.type]
        weights += n_bytes / t.shape[0] if t.name == "token_embd.weight" else n_bytes
    kv_per_position = 2 * 1 * 16 * 2  # K and V, 1 kv head of dim 16, f16
    kv = sum(kv_per_position * (min(past, window - 1) if kind == "L" else past)
             for kind in layout for past in range(n_tokens))
    return weights + kv / n_tokens


def test_bench_roofline_counts_weights_and_kv_cache():
    model = os.path.join(env("CWM_TEST_MODELS"), "tiny-cwm.gguf")
    out = subprocess.run([env("CWM_BIN"), "bench", "-m", model, "-p", "0", "-n", "12", "-r", "1", "--json",
                          "--bandwidth-mib", "16"], capture_output=True, text=True, timeout=120, check=True).stdout
    result = json.loads(out)
    # tiny-cwm: layout GLLLG, window 6 (`cwm info`); 12 tokens reach past the window
    assert result["tg_bytes_per_token"] == pytest.approx(expected_bytes_per_token(model, 12, "GLLLG", 6), abs=1)
    assert result["tg_roofline_tps"] == pytest.approx(result["bandwidth_gbs"] * 1e9 / result["tg_bytes_per_token"],
                                                      rel=1e-3)


def test_bench_bandwidth_alone():
    cwm = env("CWM_BIN")
    out = subprocess.run([cwm, "bench", "--bandwidth", "--bandwidth-mib", "16", "--json"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    result = json.loads(out)
    assert result["bandwidth_gbs"] > 0 and result["bandwidth_bytes"] == 16 << 20
    text = subprocess.run([cwm, "bench", "--bandwidth", "--bandwidth-mib", "16"],
                          capture_output=True, text=True, timeout=120, check=True).stdout
    assert re.match(r"memory read bandwidth: [0-9.]+ GB/s", text)
    assert subprocess.run([cwm, "bench"], capture_output=True, text=True, timeout=60).returncode != 0


def test_bench_table():
    model = os.path.join(env("CWM_TEST_MODELS"), "tiny-cwm.gguf")
    out = subprocess.run([env("CWM_BIN"), "bench", "-m", model, "-p", "8", "-n", "0", "-r", "1"],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert "| pp8 |" in out and "tg" not in out.split("pp8")[1].split("\n")[0]


def test_bench_table_shows_roofline_next_to_tg():
    model = os.path.join(env("CWM_TEST_MODELS"), "tiny-cwm.gguf")
    out = subprocess.run([env("CWM_BIN"), "bench", "-m", model, "-p", "0", "-n", "4", "-r", "1",
                          "--bandwidth-mib", "16"], capture_output=True, text=True, timeout=120, check=True).stdout
    assert "% of roofline |" in out.splitlines()[0]
    tg_row = [line for line in out.splitlines() if "| tg4 |" in line][0]
    tps, roofline, pct = (float(x) for x in tg_row.strip("| ").split("|")[3:6])
    assert pct == pytest.approx(100 * tps / roofline, abs=0.1)
    assert "memory read bandwidth:" in out and "read per generated token" in out


# ---- perplexity --kl-reference ---------------------------------------------------------------

CTX = 32


@pytest.fixture(scope="module")
def kl_setup(tmp_path_factory):
    """The f16 test model, its q8_0 quantization, a model with another vocabulary, and a text."""
    tmp = tmp_path_factory.mktemp("kl")
    f16 = os.path.join(env("CWM_TEST_MODELS"), "tiny-cwm.gguf")
    q8 = str(tmp / "tiny-cwm-q8_0.gguf")
    subprocess.run([env("CWM_BIN"), "quantize", f16, q8, "--type", "q8_0"], capture_output=True, check=True, timeout=120)
    other = str(tmp / "other-vocab.gguf")
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "make_random_model.py"), "--out", other,
                    "--arch", "llama", "--layers", "1", "--embd", "32", "--ff", "64", "--heads", "2",
                    "--kv-heads", "1", "--vocab", "700", "--ctx", "256", "--dtype", "f16", "--seed", "1"],
                   capture_output=True, check=True, timeout=120)
    text = str(tmp / "text.txt")
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as src, open(text, "w", encoding="utf-8") as dst:
        dst.write(src.read()[:4000])
    return {"f16": f16, "q8": q8, "other": other, "text": text, "tmp": tmp}


def perplexity(model, text, *extra):
    proc = subprocess.run([env("CWM_BIN"), "perplexity", "-m", model, "-f", text, "-c", str(CTX), "-t", "2", *extra],
                          capture_output=True, text=True, timeout=300)
    return proc


def parse_kl(stdout):
    lines = stdout.strip().splitlines()
    assert len(lines) == 2 and re.fullmatch(r"ppl=\S+ tokens=\d+", lines[0]), stdout
    values = dict(item.split("=") for item in lines[1].split())
    assert list(values) == ["kld", "kld_se", "top1", "ref_ppl"], stdout
    ppl = float(lines[0].split()[0].split("=")[1])
    return ppl, {k: float(v) for k, v in values.items()}


def test_kl_of_a_model_against_itself_is_zero(kl_setup):
    proc = perplexity(kl_setup["f16"], kl_setup["text"], "--chunks", "2", "--kl-reference", kl_setup["f16"])
    assert proc.returncode == 0, proc.stderr
    ppl, kl = parse_kl(proc.stdout)
    assert abs(kl["kld"]) <= 1e-9 and kl["kld_se"] <= 1e-9 and kl["top1"] == 1.0
    assert kl["ref_ppl"] == pytest.approx(ppl, rel=1e-6)


def log_softmax(x):
    x = x.astype(np.float64)
    z = x - x.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def chunk_logits(model, tokens, tmp, name):
    """Logits of every position of one chunk from the dump_logits tool (one forward pass)."""
    out = str(tmp / name)
    subprocess.run([env("CWM_DUMP_LOGITS"), model, "--tokens", ",".join(map(str, tokens)), "--out", out,
                    "--ctx", str(CTX), "--batch", str(CTX)], capture_output=True, check=True, timeout=120)
    return np.fromfile(out, dtype="<f4").reshape(len(tokens), -1)


def test_kl_of_q8_0_against_f16_matches_numpy(kl_setup):
    s = kl_setup
    tokens_file = str(s["tmp"] / "tokens.txt")
    proc = perplexity(s["q8"], s["text"], "--chunks", "1", "--kl-reference", s["f16"], "--dump-tokens", tokens_file)
    assert proc.returncode == 0, proc.stderr
    ppl, kl = parse_kl(proc.stdout)
    assert kl["kld"] > 0 and 0 < kl["top1"] <= 1
    # Chunk 0 is tokens[0:CTX] (starting with BOS); positions CTX/2 .. CTX-2 score the next token.
    tokens = np.loadtxt(tokens_file, dtype=np.int64)[:CTX]
    log_q = log_softmax(chunk_logits(s["q8"], tokens, s["tmp"], "q8.bin"))[CTX // 2:CTX - 1]
    log_p = log_softmax(chunk_logits(s["f16"], tokens, s["tmp"], "f16.bin"))[CTX // 2:CTX - 1]
    per_position = (np.exp(log_p) * (log_p - log_q)).sum(axis=-1)
    targets = tokens[CTX // 2 + 1:CTX]
    rows = np.arange(len(targets))
    assert kl["kld"] == pytest.approx(per_position.mean(), rel=1e-4)
    assert kl["kld_se"] == pytest.approx(per_position.std(ddof=1) / np.sqrt(len(per_position)), rel=1e-3)
    assert kl["top1"] == pytest.approx(np.mean(log_p.argmax(-1) == log_q.argmax(-1)))
    assert kl["ref_ppl"] == pytest.approx(np.exp(-log_p[rows, targets].mean()), rel=1e-5)
    assert ppl == pytest.approx(np.exp(-log_q[rows, targets].mean()), rel=1e-5)


def test_kl_reference_with_another_vocabulary_is_refused(kl_setup):
    proc = perplexity(kl_setup["f16"], kl_setup["text"], "--chunks", "1", "--kl-reference", kl_setup["other"])
    assert proc.returncode != 0 and "vocabulary sizes differ (600" in proc.stderr and proc.stdout == ""
