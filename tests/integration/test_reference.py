"""The engine's logits against the independent PyTorch reference (scripts/cwm_reference.py),
plus self-checks of the reference and of the fixture tools (scripts/gguf_io.py,
scripts/make_random_model.py).

Run (from the repository root):

    CWM_DUMP_LOGITS=build/tests/dump_logits /usr/bin/python3 -m pytest tests/integration/test_reference.py -v

`CWM_DUMP_LOGITS` names the engine's dump_logits tool; the engine tests fail when it is unset.
`CWM_BIN`, the `cwm` program, converts a llama file for the community-file test.
`CWM_GGUF_PY`, optional, is a directory holding llama.cpp's `gguf` Python package: the
cross-checks of our GGUF writer/reader against it skip when it is unset.

Error bound: max |engine - reference| <= REL_BOUND * max(1, std(reference logits)), with
REL_BOUND = 5e-3. Measured on these fixtures (logits std ~4), relative to max(1, std):
- the reference itself is float64; float32 arithmetic alone costs ~3e-6;
- the engine's f16 KV cache (emulated here by rounding K and V through f16, ~3e-4 per element,
  through up to 4 layers, max over ~5e4 logits): up to ~1.1e-3;
- that plus f16-rounded matmul inputs (llama.cpp's way with f16 weights): up to ~2.2e-3;
- bf16-rounded matmul inputs: 1.2-1.8e-2 (fails: too imprecise to tell from bugs);
- a 0.1% error in the RoPE frequencies: 0.8-2.8e-2; real bugs (window off by one, wrong pair
  layout, RoPE scaling ignored): ~1-2.5, i.e. about the logits std.
5e-3 leaves 2-4x headroom over f16 noise and fails each of those bugs;
test_bound_separates_f16_noise_from_bugs checks both sides on every fixture.
"""

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import cwm_reference  # noqa: E402
import gguf_io  # noqa: E402
import make_random_model  # noqa: E402
from gguf_io import TensorSpec, TensorType, ValueType, array, scalar  # noqa: E402

REL_BOUND = 5e-3
SCALE = "4"  # output weight multiplier: next-token logits std ~4, peaked distributions
LLAMA3 = ["--rope-scaling", "llama3", "--rope-orig-ctx", "16"]  # positions run past 16

# name: (make_random_model options, number of tokens)
CASES = {
    "cwm_gqa6_window8_llama3_f32": ([
        "--layers", "4", "--embd", "192", "--heads", "12", "--kv-heads", "2", "--ff", "256",
        "--vocab", "512", "--window", "8", "--rope-theta", "1000000", *LLAMA3, "--dtype", "f32",
    ], 64),
    "cwm_rotate_half_window12_f16": ([
        "--layers", "3", "--pattern", "LGL", "--embd", "128", "--heads", "8", "--kv-heads", "2",
        "--ff", "320", "--vocab", "300", "--window", "12", "--pair-layout", "rotate_half",
        "--rope-theta", "10000", *LLAMA3, "--dtype", "f16",
    ], 80),
    "cwm_rope_freqs_headdim16_bf16": ([
        "--layers", "2", "--pattern", "GL", "--embd", "80", "--heads", "6", "--kv-heads", "1",
        "--head-dim", "16", "--ff", "160", "--vocab", "700", "--window", "16",
        "--pair-layout", "interleaved", *LLAMA3, "--rope-freqs-tensor", "--dtype", "bf16",
    ], 64),
    "cwm_defaults_f16": ([
        "--layers", "2", "--embd", "64", "--heads", "4", "--kv-heads", "1", "--ff", "128",
        "--vocab", "300", "--dtype", "f16",
    ], 40),
    "llama_mha_f16": ([
        "--arch", "llama", "--layers", "2", "--embd", "64", "--heads", "4", "--ff", "128",
        "--vocab", "400", "--rope-theta", "10000", "--dtype", "f16",
    ], 48),
    "llama_gqa_rope_freqs_bf16": ([
        "--arch", "llama", "--layers", "3", "--embd", "128", "--heads", "8", "--kv-heads", "2",
        "--ff", "256", "--vocab", "1000", *LLAMA3, "--rope-freqs-tensor", "--dtype", "bf16",
    ], 100),
}


def error_bound(ref: np.ndarray) -> float:
    return REL_BOUND * max(1.0, float(ref.std()))


def make_model(path: Path, options: list[str], seed: int = 1) -> Path:
    make_random_model.main(["--out", str(path), "--seed", str(seed), "--scale", SCALE, *options])
    return path


@dataclasses.dataclass
class Fixture:
    path: Path
    tokens: list[int]
    reference: np.ndarray


@pytest.fixture(scope="session")
def fixtures(tmp_path_factory):
    """Builds each case's model, tokens and reference logits once, on first use."""
    directory, built = tmp_path_factory.mktemp("models"), {}

    def get(case: str) -> Fixture:
        if case not in built:
            options, n_tokens = CASES[case]
            path = make_model(directory / f"{case}.gguf", options)
            model = cwm_reference.load_gguf(str(path))
            rng = np.random.default_rng(7)
            tokens = rng.integers(0, model.cfg.n_vocab, n_tokens).tolist()
            built[case] = Fixture(path, tokens, model.logits(tokens))
        return built[case]

    return get


# ---------------------------------------------------------------------------------------------
# Engine vs. reference


def run_dump_logits(model: Path, tokens: list[int], mode: str, out: Path, extra: tuple[str, ...] = ()) -> np.ndarray:
    tool = os.environ.get("CWM_DUMP_LOGITS")
    if not tool:
        pytest.fail("CWM_DUMP_LOGITS is not set: point it at the engine's dump_logits test tool "
                    "(e.g. CWM_DUMP_LOGITS=build/tests/dump_logits)")
    # ubatch:N evaluates everything in one call that the engine splits into passes of N tokens.
    mode_args = ["--mode", mode] if not mode.startswith("ubatch:") else \
        ["--mode", "prefill", "--batch", mode.split(":")[1]]
    cmd = [tool, str(model), "--tokens", ",".join(map(str, tokens)), "--out", str(out), *mode_args, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr}")
    return np.fromfile(out, dtype="<f4")


def modes(n_tokens: int) -> list[str]:
    return ["prefill", "decode", f"split:{n_tokens // 2 + 1}", "ubatch:7"]


@pytest.mark.parametrize("mode_kind", ["prefill", "decode", "split", "ubatch"])
@pytest.mark.parametrize("case", CASES)
def test_engine_matches_reference(case, mode_kind, fixtures, tmp_path):
    fx = fixtures(case)
    n_tokens, n_vocab = fx.reference.shape
    mode = next(m for m in modes(n_tokens) if m.startswith(mode_kind))
    raw = run_dump_logits(fx.path, fx.tokens, mode, tmp_path / "logits.f32")
    assert raw.size == n_tokens * n_vocab, f"dump_logits wrote {raw.size} floats, expected {n_tokens}x{n_vocab}"
    assert np.isfinite(raw).all(), "dump_logits wrote non-finite logits"
    err = np.abs(raw.reshape(n_tokens, n_vocab).astype(np.float64) - fx.reference)
    bound = error_bound(fx.reference)
    per_token = err.max(axis=1)
    print(f"{case} {mode}: max abs err {err.max():.3g} (bound {bound:.3g}, logits std "
          f"{fx.reference.std():.3g}), worst token {int(per_token.argmax())}")
    bad = np.nonzero(per_token > bound)[0]
    if bad.size:
        pytest.fail(f"{case} {mode}: max abs err {err.max():.3g} > {bound:.3g}; "
                    f"first bad token {bad[0]}, {bad.size} of {n_tokens} bad")


# ---------------------------------------------------------------------------------------------
# A community llama-architecture file of CWM, run with --attention cwm


# f32 weights: the error is then the f16 KV cache's alone, 4x below the bound for these 5 layers
# (f16 weights add the f16-rounded matmul inputs and use 3/4 of it).
COMMUNITY_SHAPE = ["--layers", "5", "--embd", "96", "--heads", "6", "--kv-heads", "2", "--ff", "192",
                   "--vocab", "400", "--rope-theta", "1000000", *LLAMA3, "--dtype", "f32"]
COMMUNITY_WINDOW = "8"


def test_llama_file_with_attention_cwm_matches_the_reference_on_its_converted_copy(tmp_path):
    """The reference reads the layout from the file `cwm convert-gguf` wrote; the engine runs the
    llama file with the layout given at load time. Both must be CWM's (GLLLG, window 8)."""
    llama = make_model(tmp_path / "llama.gguf", ["--arch", "llama", *COMMUNITY_SHAPE])
    converted = tmp_path / "converted.gguf"
    tool = os.environ.get("CWM_BIN")
    if not tool:
        pytest.fail("CWM_BIN is not set: point it at the cwm program (e.g. CWM_BIN=build/cwm)")
    subprocess.run([tool, "convert-gguf", str(llama), str(converted), "--attention", "cwm",
                    "--window", COMMUNITY_WINDOW], capture_output=True, check=True, timeout=120)
    reference_model = cwm_reference.load_gguf(str(converted))
    assert reference_model.cfg.local_layers == [False, True, True, True, False]
    assert reference_model.cfg.window == int(COMMUNITY_WINDOW)
    tokens = np.random.default_rng(7).integers(0, 400, 48).tolist()
    reference = reference_model.logits(tokens)
    # The same checkpoint written as a cwm file by the fixture writer reads the same.
    twin = make_model(tmp_path / "twin.gguf", ["--window", COMMUNITY_WINDOW, *COMMUNITY_SHAPE])
    np.testing.assert_array_equal(cwm_reference.load_gguf(str(twin)).logits(tokens), reference)
    bound = error_bound(reference)
    for mode in ("prefill", "decode", "ubatch:5"):
        engine = run_dump_logits(llama, tokens, mode, tmp_path / "logits.f32",
                                 ("--attention", "cwm", "--window", COMMUNITY_WINDOW))
        err = np.abs(engine.reshape(reference.shape) - reference).max()
        print(f"llama file --attention cwm, {mode}: max abs err {err:.3g} (bound {bound:.3g})")
        assert err <= bound
    plain = run_dump_logits(llama, tokens, "prefill", tmp_path / "plain.f32")
    assert np.abs(plain.reshape(reference.shape) - reference).max() > 4 * bound  # the layout matters here


# ---------------------------------------------------------------------------------------------
# The fixtures and the bound are meaningful


@pytest.mark.parametrize("case", CASES)
def test_fixtures_are_peaked(case, fixtures):
    ref = fixtures(case).reference
    top = torch.from_numpy(ref).softmax(dim=-1).max(dim=-1).values.mean().item()
    assert top > 0.2 and top > 50 / ref.shape[1], f"mean top probability {top:.3f}"


def _variant(model: cwm_reference.Reference, **changes) -> cwm_reference.Reference:
    variant = cwm_reference.Reference(dataclasses.replace(model.cfg, **changes), model.w)
    if "rope_scaling" not in changes:
        variant.freqs = model.freqs  # keeps a rope_freqs.weight tensor's frequencies
    return variant


def _buggy_variants(model: cwm_reference.Reference, n_tokens: int) -> dict[str, cwm_reference.Reference]:
    """The reference with one plausible engine bug each."""
    cfg = model.cfg
    other = "interleaved" if cfg.pair_layout == "rotate_half" else "rotate_half"
    out = {"pair layout swapped": _variant(model, pair_layout=other)}
    if any(cfg.local_layers) and cfg.window < n_tokens:
        out["window + 1"] = _variant(model, window=cfg.window + 1)
        out["window - 1"] = _variant(model, window=cfg.window - 1)
    unscaled = cwm_reference.rope_frequencies(dataclasses.replace(cfg, rope_scaling=None), None)
    if not torch.equal(unscaled, model.freqs):
        out["rope scaling ignored"] = _variant(model, rope_scaling=None)
    return out


@pytest.mark.parametrize("case", CASES)
def test_bound_separates_f16_noise_from_bugs(case, fixtures):
    fx = fixtures(case)
    bound = error_bound(fx.reference)
    cache16 = cwm_reference.load_gguf(str(fx.path), dtype=torch.float32, kv_dtype=torch.float16)
    noise = np.abs(cache16.logits(fx.tokens) - fx.reference).max()
    print(f"{case}: f32 + f16 KV cache emulation error {noise:.3g}, bound {bound:.3g}")
    assert noise <= bound / 2
    exact = cwm_reference.load_gguf(str(fx.path))
    for name, buggy in _buggy_variants(exact, len(fx.tokens)).items():
        err = np.abs(buggy.logits(fx.tokens) - fx.reference).max()
        print(f"  {name}: error {err:.3g}")
        assert err > 4 * bound, f"{name}: error {err:.3g} is not clearly above the bound"


# ---------------------------------------------------------------------------------------------
# The reference against a naive loop implementation


def naive_frequency(i: int, f: gguf_io.GGUFFile) -> float:
    """docs/gguf-format.md's Llama-3 rule, scalar by scalar."""
    dim = f.get("cwm.rope.dimension_count")
    freq = f.get("cwm.rope.freq_base") ** (-2 * i / dim)
    orig = f.get("cwm.rope.scaling.original_context_length")
    factor, low, high = (f.get(f"cwm.rope.scaling.{k}")
                         for k in ("factor", "low_freq_factor", "high_freq_factor"))
    wavelength = 2 * math.pi / freq
    if wavelength < orig / high:
        return freq
    if wavelength > orig / low:
        return freq / factor
    s = (orig / wavelength - low) / (high - low)
    return (1 - s) * freq / factor + s * freq


def naive_rope(vec: np.ndarray, pos: int, freqs: list[float], rotate_half: bool) -> np.ndarray:
    out, half = vec.copy(), len(freqs)
    for i, freq in enumerate(freqs):
        a, b = (i, i + half) if rotate_half else (2 * i, 2 * i + 1)
        c, s = math.cos(pos * freq), math.sin(pos * freq)
        out[a], out[b] = vec[a] * c - vec[b] * s, vec[a] * s + vec[b] * c
    return out


def naive_attention(f, layer, q, k, v, p, freqs):
    """One token's attention output, head by head, key by key."""
    n_head, n_kv = f.get("cwm.attention.head_count"), f.get("cwm.attention.head_count_kv")
    hd = f.get("cwm.attention.key_length")
    window = f.get("cwm.attention.sliding_window")
    local = f.get("cwm.attention.sliding_window_pattern")[layer]
    rotate_half = f.get("cwm.rope.pair_layout") == "rotate_half"
    heads = []
    for h in range(n_head):
        g = h // (n_head // n_kv)
        qh = naive_rope(q[p][h * hd:(h + 1) * hd], p, freqs, rotate_half)
        seen = range(max(0, p - window + 1) if local else 0, p + 1)
        scores = [qh @ naive_rope(k[j][g * hd:(g + 1) * hd], j, freqs, rotate_half) / math.sqrt(hd)
                  for j in seen]
        weights = [math.exp(s - max(scores)) for s in scores]
        heads.append(sum(wj / sum(weights) * v[j][g * hd:(g + 1) * hd] for wj, j in zip(weights, seen)))
    return np.concatenate(heads)


def naive_logits(path: Path, tokens: list[int]) -> np.ndarray:
    f = gguf_io.read_gguf(str(path))
    eps = f.get("cwm.attention.layer_norm_rms_epsilon")

    def w(name):
        return f.tensor(name).astype(np.float64)

    def norm(x, weight):
        return x / math.sqrt(np.mean(x * x) + eps) * weight

    freqs = [naive_frequency(i, f) for i in range(f.get("cwm.rope.dimension_count") // 2)]
    xs = [w("token_embd.weight")[t] for t in tokens]
    for layer in range(f.get("cwm.block_count")):
        b = f"blk.{layer}."
        hs = [norm(x, w(b + "attn_norm.weight")) for x in xs]
        q, k, v = ([w(b + m) @ h for h in hs] for m in ("attn_q.weight", "attn_k.weight", "attn_v.weight"))
        xs = [x + w(b + "attn_output.weight") @ naive_attention(f, layer, q, k, v, p, freqs)
              for p, x in enumerate(xs)]
        for p, x in enumerate(xs):
            h = norm(x, w(b + "ffn_norm.weight"))
            gate, up = w(b + "ffn_gate.weight") @ h, w(b + "ffn_up.weight") @ h
            xs[p] = x + w(b + "ffn_down.weight") @ (gate / (1 + np.exp(-gate)) * up)
    return np.array([w("output.weight") @ norm(x, w("output_norm.weight")) for x in xs])


@pytest.mark.parametrize("layout", ["interleaved", "rotate_half"])
def test_reference_matches_naive_loops(layout, tmp_path):
    # Frequencies 1, 0.22, 0.046 (wavelengths 6, 29, 135) against cut-offs 32/4 and 32/1: one
    # kept, one blended, one divided. Partial RoPE (6 of 8 dims), GQA 3, window 3 on layer 0.
    path = make_model(tmp_path / "tiny.gguf", [
        "--layers", "2", "--pattern", "LG", "--window", "3", "--embd", "24", "--heads", "6",
        "--kv-heads", "2", "--head-dim", "8", "--rope-dim", "6", "--ff", "40", "--vocab", "300",
        "--rope-theta", "100", "--rope-scaling", "llama3", "--rope-orig-ctx", "32",
        "--rope-factor", "4", "--pair-layout", layout,
    ])
    tokens = np.random.default_rng(3).integers(0, 300, 40).tolist()
    ref = cwm_reference.load_gguf(str(path)).logits(tokens)
    assert np.abs(ref - naive_logits(path, tokens)).max() < 1e-9


def test_config_defaults(tmp_path):
    cwm = cwm_reference.load_gguf(str(make_model(tmp_path / "c.gguf", ["--layers", "6"]))).cfg
    assert (cwm.window, cwm.pair_layout, cwm.n_head_kv, cwm.head_dim) == (8192, "interleaved", 4, 16)
    assert cwm.local_layers == [False, True, True, True, False, False]
    assert cwm.rope_dim == 16 and cwm.rope_scaling is None
    llama = cwm_reference.load_gguf(str(make_model(tmp_path / "l.gguf", ["--arch", "llama"]))).cfg
    assert llama.local_layers == [False, False] and llama.pair_layout == "interleaved"
    assert cwm_reference.cwm_default_pattern(64).count(False) == 17


def _permute_to_interleaved(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's converter permutation: rotate-half rows (i, i + d/2) -> (2i, 2i + 1)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, -1).swapaxes(1, 2).reshape(w.shape)


def test_pair_layouts_agree_under_permutation(tmp_path):
    src = make_model(tmp_path / "half.gguf", ["--layers", "2", "--window", "5", "--heads", "4",
                                               "--kv-heads", "2", "--pair-layout", "rotate_half"])
    f = gguf_io.read_gguf(str(src))
    kv = {**f.kv, "cwm.rope.pair_layout": scalar(ValueType.STRING, "interleaved")}
    heads = {"attn_q": 4, "attn_k": 2}

    def tensor(name):
        kind = name.split(".")[2] if name.startswith("blk.") else ""
        data = f.tensor(name)
        return _permute_to_interleaved(data, heads[kind]) if kind in heads else data

    specs = [TensorSpec(n, i.shape, TensorType(i.type), lambda n=n: tensor(n)) for n, i in f.tensors.items()]
    dst = tmp_path / "interleaved.gguf"
    gguf_io.write_gguf(str(dst), kv, specs)
    tokens = list(range(30))
    a = cwm_reference.load_gguf(str(src)).logits(tokens)
    b = cwm_reference.load_gguf(str(dst)).logits(tokens)
    assert np.abs(a - b).max() < 1e-10


def test_rope_freqs_tensor_matches_scaling_keys(tmp_path):
    options = ["--layers", "2", "--window", "6", *LLAMA3]
    keys = cwm_reference.load_gguf(str(make_model(tmp_path / "k.gguf", options)))
    tensor = cwm_reference.load_gguf(str(make_model(tmp_path / "t.gguf", [*options, "--rope-freqs-tensor"])))
    assert keys.cfg.rope_scaling is not None and tensor.cfg.rope_scaling is None
    tokens = list(range(64))
    ref = keys.logits(tokens)
    assert np.abs(tensor.logits(tokens) - ref).max() < 1e-5 * max(1.0, ref.std())


# ---------------------------------------------------------------------------------------------
# GGUF writer and reader


NESTED_LEAF_BYTES = b"\x01\x02\x03abc"  # the leaves of test.array.nested below


def every_value_type() -> dict[str, gguf_io.Value]:
    scalars = {
        ValueType.UINT8: 200, ValueType.INT8: -100, ValueType.UINT16: 60000, ValueType.INT16: -30000,
        ValueType.UINT32: 4_000_000_000, ValueType.INT32: -2_000_000_000, ValueType.FLOAT32: 0.5,
        ValueType.BOOL: True, ValueType.STRING: "héllo ✓", ValueType.UINT64: 2**64 - 1,
        ValueType.INT64: -(2**62), ValueType.FLOAT64: math.pi,
    }
    kv = {f"test.scalar.{t.name}": scalar(t, v) for t, v in scalars.items()}
    kv.update({f"test.array.{t.name}": array(t, [v, v]) for t, v in scalars.items()})
    kv["test.array.empty"] = array(ValueType.INT32, [])
    kv["test.array.nested"] = array(ValueType.ARRAY, [array(ValueType.UINT8, [1, 2, 3]),
                                                       array(ValueType.STRING, ["a", "bc"])])
    return kv


def example_tensors() -> dict[str, tuple[np.ndarray, TensorType]]:
    rng = np.random.default_rng(0)
    return {
        "t.f32": (rng.standard_normal((2, 3, 5)).astype(np.float32), TensorType.F32),
        "t.f16": (rng.standard_normal((7, 3)).astype(np.float32), TensorType.F16),
        "t.bf16": (rng.standard_normal(11).astype(np.float32), TensorType.BF16),
    }


def write_example(path: Path, alignment: int) -> None:
    specs = [TensorSpec(n, x.shape, t, lambda x=x: x) for n, (x, t) in example_tensors().items()]
    gguf_io.write_gguf(str(path), every_value_type(), specs, alignment=alignment)


def decoded(x: np.ndarray, ttype: TensorType) -> np.ndarray:
    stored = gguf_io.encode_tensor(x, ttype)
    return gguf_io.bf16_bits_to_f32(stored) if ttype == TensorType.BF16 else stored.astype(np.float32)


@pytest.mark.parametrize("alignment", [32, 64])
def test_gguf_roundtrip(alignment, tmp_path):
    write_example(tmp_path / "x.gguf", alignment)
    f = gguf_io.read_gguf(str(tmp_path / "x.gguf"))
    assert f.alignment == alignment
    for key, value in every_value_type().items():
        assert f.kv[key].type == value.type and f.kv[key].elem_type == value.elem_type
        assert f.get(key) == value.plain(), key
    for name, (x, ttype) in example_tensors().items():
        info = f.tensors[name]
        assert info.type == ttype and info.shape == x.shape and info.offset % alignment == 0
        np.testing.assert_array_equal(f.tensor(name), decoded(x, ttype))


def test_bf16_rounds_to_nearest_even():
    one = 1.0
    ties = np.array([one + 2**-8, one + 3 * 2**-8, one + 2**-8 + 2**-20, -(one + 2**-8)], np.float32)
    expect = np.array([one, one + 2**-6, one + 2**-7, -one], np.float32)
    np.testing.assert_array_equal(gguf_io.bf16_bits_to_f32(gguf_io.f32_to_bf16_bits(ties)), expect)
    x = np.concatenate([np.random.default_rng(1).standard_normal(10000).astype(np.float32) * 1e3,
                        np.array([np.inf, -np.inf, 0.0, -0.0, 3.4e38], np.float32)])
    ours = gguf_io.f32_to_bf16_bits(x)
    theirs = torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(ours, theirs)
    assert np.isnan(gguf_io.bf16_bits_to_f32(gguf_io.f32_to_bf16_bits(np.array([np.nan], np.float32))))


def test_writer_leaves_nothing_on_failure(tmp_path):
    def fail():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        gguf_io.write_gguf(str(tmp_path / "x.gguf"), {}, [TensorSpec("t", (2,), TensorType.F32, fail)])
    assert list(tmp_path.iterdir()) == []


def test_reader_rejects_bad_files(tmp_path):
    (tmp_path / "magic.gguf").write_bytes(b"GGUX" + bytes(20))
    (tmp_path / "version.gguf").write_bytes(b"GGUF" + (2).to_bytes(4, "little") + bytes(16))
    (tmp_path / "short.gguf").write_bytes(b"GGUF" + (3).to_bytes(4, "little") + (1).to_bytes(8, "little"))
    for name in ("magic", "version", "short"):
        with pytest.raises(ValueError):
            gguf_io.read_gguf(str(tmp_path / f"{name}.gguf"))


# ---------------------------------------------------------------------------------------------
# Tokenizer sections written by make_random_model


def read_vocab(path: Path) -> tuple[list[str], list[int], list[str], gguf_io.GGUFFile]:
    f = gguf_io.read_gguf(str(path))
    return (f.get("tokenizer.ggml.tokens"), f.get("tokenizer.ggml.token_type"),
            f.get("tokenizer.ggml.merges"), f)


@pytest.mark.parametrize("n_vocab", [300, 1000, 128256])
def test_synthetic_vocab_is_valid_byte_level_bpe(n_vocab):
    tokens, types, merges = make_random_model.synthetic_vocab(n_vocab)
    known = set(tokens)
    assert len(tokens) == len(types) == n_vocab == len(known)
    assert len(merges) >= n_vocab - 256 - types.count(3)
    assert all(a in known and b in known and a + b in known for a, b in (m.split(" ") for m in merges))
    assert (tokens[220], tokens[198]) == ("Ġ", "Ċ") and len(set(tokens[:256])) == 256
    specials = [t for t, k in zip(tokens, types) if k == 3]
    assert tokens[-len(specials):] == specials and "<|begin_of_text|>" in specials
    if n_vocab == 128256:
        assert tokens[128000] == "<|begin_of_text|>" and tokens[128009] == "<|eot_id|>"


def test_tokenizer_keys_in_model(tmp_path):
    tokens, types, merges, f = read_vocab(make_model(tmp_path / "m.gguf", ["--vocab", "400"]))
    assert f.get("tokenizer.ggml.model") == "gpt2" and f.get("tokenizer.ggml.pre") == "llama-bpe"
    assert f.kv["tokenizer.ggml.token_type"].elem_type == ValueType.INT32
    for key, token in [("bos", "<|begin_of_text|>"), ("eos", "<|end_of_text|>"),
                       ("eot", "<|eot_id|>"), ("eom", "<|eom_id|>")]:
        assert tokens[f.get(f"tokenizer.ggml.{key}_token_id")] == token


def test_tokenizer_json_is_embedded_like_llama_cpp(tmp_path):
    tokenizer = {
        "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3},
                  "merges": ["a b", ["Ġ", "a"]]},
        "added_tokens": [{"id": 5, "content": "<|begin_of_text|>", "special": True},
                         {"id": 6, "content": "<tool>", "special": False}],
    }
    (tmp_path / "tokenizer.json").write_text(json.dumps(tokenizer))
    path = make_model(tmp_path / "m.gguf", ["--tokenizer-json", str(tmp_path / "tokenizer.json")])
    tokens, types, merges, f = read_vocab(path)
    assert tokens == ["a", "b", "ab", "Ġ", "[PAD4]", "<|begin_of_text|>", "<tool>"]
    assert types == [1, 1, 1, 1, 5, 3, 4] and merges == ["a b", "Ġ a"]
    assert f.get("tokenizer.ggml.bos_token_id") == 5 and f.get("cwm.vocab_size") == 7
    assert f.tensors["token_embd.weight"].shape[0] == 7


# ---------------------------------------------------------------------------------------------
# Cross-checks against llama.cpp's gguf-py (independent implementation)


@pytest.fixture
def gguf_py():
    location = os.environ.get("CWM_GGUF_PY")
    if not location:
        pytest.skip("CWM_GGUF_PY is not set (directory holding llama.cpp's `gguf` package)")
    sys.path.insert(0, location)
    try:
        import gguf
    finally:
        sys.path.remove(location)
    return gguf


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _gguf_py_tensor(t) -> np.ndarray:
    return gguf_io.bf16_bits_to_f32(t.data.view(np.uint16)) if t.tensor_type == 30 else t.data


@pytest.mark.parametrize("alignment", [32, 64])
def test_gguf_py_reads_our_files(alignment, gguf_py, tmp_path):
    files = [tmp_path / "x.gguf", make_model(tmp_path / "m.gguf", CASES["cwm_rope_freqs_headdim16_bf16"][0])]
    write_example(files[0], alignment)
    for path in files:
        ours, theirs = gguf_io.read_gguf(str(path)), gguf_py.GGUFReader(str(path))
        assert len(theirs.fields) == 3 + len(ours.kv)  # + version, tensor count, kv count
        for key, value in ours.kv.items():
            field = theirs.fields[key]
            assert int(field.types[0]) == value.type
            if value.elem_type == ValueType.ARRAY:  # gguf-py keeps only the leaves' raw bytes
                assert b"".join(field.parts[i].tobytes() for i in field.data) == NESTED_LEAF_BYTES
                continue
            assert _as_list(field.contents()) == pytest.approx(_as_list(value.plain())), key
        assert [t.name for t in theirs.tensors] == list(ours.tensors)
        for t in theirs.tensors:
            info = ours.tensors[t.name]
            assert (int(t.tensor_type), tuple(reversed(t.shape.tolist()))) == (info.type, info.shape)
            np.testing.assert_array_equal(_gguf_py_tensor(t), ours.tensor(t.name))


def test_we_read_gguf_py_files(gguf_py, tmp_path):
    path = tmp_path / "theirs.gguf"
    w = gguf_py.GGUFWriter(str(path), "cwm")
    w.add_uint32("cwm.block_count", 3)
    w.add_float32("cwm.rope.freq_base", 1e6)
    w.add_string("tokenizer.ggml.pre", "llama-bpe")
    w.add_array("cwm.attention.sliding_window_pattern", [True, False, True])
    w.add_array("test.nested", [[1, 2], [3]])
    x = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    bf = gguf_io.f32_to_bf16_bits(x)
    w.add_tensor("a", x)
    w.add_tensor("b", x.astype(np.float16))
    w.add_tensor("c", bf, raw_dtype=gguf_py.GGMLQuantizationType.BF16)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    f = gguf_io.read_gguf(str(path))
    assert f.get("general.architecture") == "cwm" and f.get("cwm.block_count") == 3
    assert f.get("cwm.rope.freq_base") == 1e6 and f.get("tokenizer.ggml.pre") == "llama-bpe"
    assert f.get("cwm.attention.sliding_window_pattern") == [True, False, True]
    assert f.get("test.nested") == [[1, 2], [3]]
    np.testing.assert_array_equal(f.tensor("a"), x)
    np.testing.assert_array_equal(f.tensor("b"), x.astype(np.float16).astype(np.float32))
    np.testing.assert_array_equal(f.tensor("c"), gguf_io.bf16_bits_to_f32(bf))
