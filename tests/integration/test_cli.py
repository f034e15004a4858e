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


# ---- attention layout: --attention / --window, info's report, convert-gguf -----------------
# tiny-llama.gguf holds tiny-cwm.gguf's tensors under the llama architecture (as community GGUF
# files of CWM do); tiny-cwm has window 6 and CWM's rule, GLLLG.

CWM_LAYOUT = ["--attention", "cwm", "--window", "6"]


def model_file(name):
    return os.path.join(env("CWM_TEST_MODELS"), name)


def cwm_cli(*args, check=True):
    proc = subprocess.run([env("CWM_BIN"), *args], capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, f"{args}: {proc.stderr}"
    return proc


def info_lines(path, *extra):
    out = cwm_cli("info", path, *extra).stdout
    return out.split("\nmetadata")[0].splitlines()


def test_info_says_what_the_file_states_and_hints_at_attention_cwm():
    lines = info_lines(model_file("tiny-llama.gguf"))
    assert "layout: GGGGG" in lines
    assert "attention layout in the file: none (llama architecture: every layer global)" in lines
    assert "attention layout used: the file's" in lines
    assert ("hint: this file has no local/global layout; CWM checkpoints need --attention cwm "
            "(or cwm convert-gguf)") in lines
    applied = info_lines(model_file("tiny-llama.gguf"), *CWM_LAYOUT)
    assert "layers: 5 (2 global, 3 local, window 6)" in applied and "layout: GLLLG" in applied
    assert "attention layout used: CWM's pattern (--attention cwm)" in applied
    assert not any(line.startswith("hint:") for line in applied)
    cwm_file = info_lines(model_file("tiny-cwm.gguf"))
    assert "attention layout in the file: cwm architecture, CWM's default rule (no pattern key)" in cwm_file
    assert not any(line.startswith("hint:") for line in cwm_file)
    assert "layout: GGGGG" in info_lines(model_file("tiny-cwm.gguf"), "--attention", "global")
    refused = cwm_cli("info", model_file("tiny-llama.gguf"), "--window", "6", check=False)
    assert refused.returncode != 0 and "--window needs --attention cwm" in refused.stderr


def test_commands_run_a_llama_file_of_cwm_as_the_cwm_file_with_attention_cwm(tmp_path):
    llama, cwm_file = model_file("tiny-llama.gguf"), model_file("tiny-cwm.gguf")
    run = ["run", "-p", "def f(x):\n    return x + 1\n" * 3, "-n", "8", "--temp", "0", "-t", "1"]
    assert cwm_cli(*run, "-m", llama, *CWM_LAYOUT).stdout == cwm_cli(*run, "-m", cwm_file).stdout
    assert cwm_cli(*run, "-m", llama).stdout != cwm_cli(*run, "-m", cwm_file).stdout
    text = tmp_path / "text.txt"
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as src:
        text.write_text(src.read()[:3000])
    ppl = ["perplexity", "-f", str(text), "-c", "32", "--chunks", "2", "-t", "1"]
    assert cwm_cli(*ppl, "-m", llama, *CWM_LAYOUT).stdout == cwm_cli(*ppl, "-m", cwm_file).stdout
    bench = ["bench", "-p", "0", "-n", "12", "-r", "1", "--json", "--bandwidth-mib", "1"]
    applied = json.loads(cwm_cli(*bench, "-m", llama, *CWM_LAYOUT).stdout)
    assert applied["tg_bytes_per_token"] == pytest.approx(expected_bytes_per_token(llama, 12, "GLLLG", 6), abs=1)


def test_convert_gguf_renames_the_keys_states_the_layout_and_copies_the_tensors(tmp_path):
    llama, out = model_file("tiny-llama.gguf"), str(tmp_path / "converted.gguf")
    cwm_cli("convert-gguf", llama, out, *CWM_LAYOUT)
    src, dst = read_gguf(llama), read_gguf(out)
    assert dst.get("general.architecture") == "cwm" and not [k for k in dst.kv if k.startswith("llama.")]
    for key in src.kv:
        if key.startswith("llama."):
            assert dst.get("cwm." + key[len("llama."):]) == src.get(key), key
        elif key != "general.architecture":
            assert dst.get(key) == src.get(key), key
    assert dst.get("cwm.attention.sliding_window") == 6
    assert dst.get("cwm.attention.sliding_window_pattern") == [False, True, True, True, False]
    assert dst.get("cwm.rope.pair_layout") == "interleaved"
    assert list(dst.tensors) == list(src.tensors)
    for name, info in src.tensors.items():
        assert (dst.tensors[name].type, dst.tensors[name].shape) == (info.type, info.shape)
        np.testing.assert_array_equal(dst.tensor(name), src.tensor(name))
    assert "layout: GLLLG" in info_lines(out)
    # ... and back: a cwm file to llama drops the cwm-only keys.
    back = str(tmp_path / "back.gguf")
    cwm_cli("convert-gguf", out, back, "--attention", "global")
    again = read_gguf(back)
    assert again.get("general.architecture") == "llama" and not [k for k in again.kv if k.startswith("cwm.")]
    assert {k: again.get(k) for k in again.kv} == {k: src.get(k) for k in src.kv}


def test_convert_gguf_errors_leave_no_file(tmp_path):
    llama = str(tmp_path / "in.gguf")
    with open(model_file("tiny-llama.gguf"), "rb") as f:
        data = f.read()
    with open(llama, "wb") as f:
        f.write(data)
    rotate_half = str(tmp_path / "rotate-half.gguf")
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "make_random_model.py"), "--out", rotate_half,
                    "--layers", "2", "--embd", "32", "--ff", "64", "--heads", "2", "--vocab", "300",
                    "--pair-layout", "rotate_half"], capture_output=True, check=True, timeout=120)
    out = str(tmp_path / "out.gguf")
    for args, message in [
        ([llama, llama, "--attention", "cwm"], "is the input file"),
        ([str(tmp_path / "missing.gguf"), out, "--attention", "cwm"], "missing.gguf"),
        ([llama, out, "--attention", "cwm", "--window", "200000"], "longer than the model's context"),
        ([llama, out, "--attention", "global", "--window", "6"], "--window needs --attention cwm"),
        ([rotate_half, out, "--attention", "global"], "rotate_half"),
        ([llama, out], "--attention is required"),
    ]:
        proc = cwm_cli("convert-gguf", *args, check=False)
        assert proc.returncode != 0 and message in proc.stderr, (args, proc.stderr)
        assert sorted(os.listdir(tmp_path)) == ["in.gguf", "rotate-half.gguf"], args
    with open(llama, "rb") as f:
        assert f.read() == data
