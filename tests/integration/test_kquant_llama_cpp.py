"""Q4_K / Q6_K / Q8_K against llama.cpp's own prebuilt libraries (the npm package that
scripts/peer-setup.sh unpacks into $PEER_DIR), loaded with ctypes:

* quantization: our quantize_q4_k / q6_k (lib/quant_k.cpp) write the same bytes as ggml's
  quantize_row_q4_K_ref / q6_K_ref, and our Q8_K activations the same bytes as the CPU
  backend's quantize_row_q8_K (and quantize_row_q8_K_ref), on rows chosen to reach every branch:
  Gaussian, all-zero, one huge value, negative-only, positive-only, constant, tiny, mixed scales;
* dequantization: bit-identical floats to dequantize_row_q4_K / q6_K;
* dot products: our scalar reference and SIMD kernels against ggml_vec_dot_q4_K_q8_K /
  q6_K_q8_K within 3e-6 of sum |w_i a_i|. The integer parts are exact in both; the float parts
  (scale product, one product per lane, 8 lanes, a sum over super-blocks) make at most ~10
  roundings of 2^-24 each on either side (measured: up to 1.2e-6 on a row dominated by one
  sub-block with scale -128).

Environment: PEER_DIR (skipped with a message when unset), CWM_KQUANT_TOOL (tests/tools/kquant_tool).
"""
import ctypes
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

QK = 256
ROW_BYTES = {"q4_k": 144, "q6_k": 210, "q8_k": 292}  # per super-block
N = 1024  # values per row


def peer_lib_dir() -> Path:
    peer = os.environ.get("PEER_DIR")
    if not peer:
        pytest.skip("PEER_DIR is not set: run scripts/peer-setup.sh (scripts/test.sh exports PEER_DIR)")
    path = Path(peer) / "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
    if not (path / "libggml-base.so").exists():
        pytest.fail(f"no libggml-base.so in {path}: rerun scripts/peer-setup.sh")
    return path


def cpu_variant() -> str:
    """The ggml CPU backend build this machine can run (zen4 needs AVX-512)."""
    flags = set(next(l for l in open("/proc/cpuinfo") if l.startswith("flags")).split())
    if {"avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16"} <= flags:
        return "libggml-cpu-zen4.so"
    return "libggml-cpu-haswell.so" if {"avx2", "fma", "f16c"} <= flags else "libggml-cpu-x64.so"


@pytest.fixture(scope="module")
def ggml():
    libs = peer_lib_dir()
    base = ctypes.CDLL(str(libs / "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
    cpu = ctypes.CDLL(str(libs / cpu_variant()), mode=ctypes.RTLD_GLOBAL)
    cpu.ggml_cpu_init()
    p, i64 = ctypes.c_void_p, ctypes.c_int64
    for lib, name in [(base, "quantize_row_q4_K_ref"), (base, "quantize_row_q6_K_ref"), (base, "quantize_row_q8_K_ref"),
                      (base, "dequantize_row_q4_K"), (base, "dequantize_row_q6_K"), (cpu, "quantize_row_q8_K"),
                      (cpu, "quantize_row_q8_0"), (base, "quantize_row_q4_0_ref"), (base, "quantize_row_q8_0_ref"),
                      (base, "dequantize_row_q4_0"), (base, "dequantize_row_q8_0")]:
        getattr(lib, name).argtypes = [p, p, i64]
        getattr(lib, name).restype = None
    for name in ["ggml_vec_dot_q4_K_q8_K", "ggml_vec_dot_q6_K_q8_K", "ggml_vec_dot_q4_0_q8_0", "ggml_vec_dot_q8_0_q8_0"]:
        getattr(cpu, name).argtypes = [ctypes.c_int, p, ctypes.c_size_t, p, ctypes.c_size_t, p, ctypes.c_size_t, ctypes.c_int]
        getattr(cpu, name).restype = None
    return base, cpu


def ptr(a: np.ndarray):
    return a.ctypes.data_as(ctypes.c_void_p)


def make_rows() -> np.ndarray:
    """Rows of N floats reaching every branch of the quantizers."""
    rng = np.random.default_rng(1234)
    rows = [rng.standard_normal(N) * s for s in (1e-3, 0.02, 1.0, 300.0)]
    rows += [rng.standard_normal(N) * 0.02 for _ in range(120)]
    rows += [rng.uniform(-1, 1, N) ** 3, rng.laplace(size=N), rng.standard_t(2, N) * 0.05]
    rows.append(np.zeros(N))
    huge = rng.standard_normal(N) * 0.01
    huge[[3, 700]] = [1e4, -5e3]
    rows.append(huge)
    rows.append(-np.abs(rng.standard_normal(N)))
    rows.append(np.abs(rng.standard_normal(N)) + 0.5)
    rows.append(np.full(N, 0.37))
    rows.append(rng.standard_normal(N) * 1e-20)
    sparse = np.zeros(N)
    sparse[rng.choice(N, 12, replace=False)] = rng.standard_normal(12)
    rows.append(sparse)
    mixed = rng.standard_normal(N)
    for j in range(N // 16):  # every 16 values a different magnitude, some sub-blocks all zero
        mixed[16 * j:16 * j + 16] *= 0.0 if j % 7 == 3 else 10.0 ** rng.uniform(-4, 2)
    rows.append(mixed)
    rows.append(np.round(rng.standard_normal(N) * 4) / 4)  # many exact ties in the rounding
    return np.ascontiguousarray(np.stack(rows), dtype=np.float32)


def tool(*args) -> int:
    path = os.environ.get("CWM_KQUANT_TOOL")
    if not path:
        pytest.fail("CWM_KQUANT_TOOL is not set (tests/CMakeLists.txt sets it)")
    proc = subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=300)
    if proc.returncode not in (0, 3):
        pytest.fail(f"kquant_tool {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return proc.returncode


def ours_quantize(qtype: str, x: np.ndarray, tmp_path: Path) -> np.ndarray:
    src, dst = tmp_path / "in.f32", tmp_path / f"out.{qtype}"
    x.tofile(src)
    tool("quantize", qtype, N, src, dst)
    return np.fromfile(dst, dtype=np.uint8)


def ggml_quantize(fn, qtype: str, x: np.ndarray) -> np.ndarray:
    out = np.zeros(x.size // QK * ROW_BYTES[qtype], dtype=np.uint8)  # zeroed: Q8_K leaves a zero block's bsums
    fn(ptr(x), ptr(out), x.size)
    return out


def first_difference(a: np.ndarray, b: np.ndarray, qtype: str) -> str:
    i = int(np.flatnonzero(a != b)[0])
    block = i // ROW_BYTES[qtype]
    return f"first differing byte {i}: row {block * QK // N}, super-block {block % (N // QK)}, offset {i % ROW_BYTES[qtype]}"


@pytest.mark.parametrize("qtype", ["q4_k", "q6_k"])
def test_quantize_bytes_equal_llama_cpp(ggml, qtype, tmp_path):
    base, _ = ggml
    x = make_rows()
    ours = ours_quantize(qtype, x, tmp_path)
    theirs = ggml_quantize(getattr(base, f"quantize_row_{qtype[:-1]}K_ref"), qtype, x)
    assert ours.size == theirs.size
    assert np.array_equal(ours, theirs), first_difference(ours, theirs, qtype)


def test_q8_k_activations_equal_llama_cpp(ggml, tmp_path):
    base, cpu = ggml
    x = make_rows()
    ours = ours_quantize("q8_k", x, tmp_path)
    for fn in (cpu.quantize_row_q8_K, base.quantize_row_q8_K_ref):
        theirs = ggml_quantize(fn, "q8_k", x)
        assert np.array_equal(ours, theirs), first_difference(ours, theirs, "q8_k")


@pytest.mark.parametrize("qtype", ["q4_k", "q6_k"])
def test_dequantize_equals_llama_cpp(ggml, qtype, tmp_path):
    base, _ = ggml
    blocks = ggml_quantize(getattr(base, f"quantize_row_{qtype[:-1]}K_ref"), qtype, make_rows())
    blocks.tofile(tmp_path / "in.bin")
    tool("dequantize", qtype, N, tmp_path / "in.bin", tmp_path / "out.f32")
    ours = np.fromfile(tmp_path / "out.f32", dtype=np.float32)
    theirs = np.zeros(ours.size, dtype=np.float32)
    getattr(base, f"dequantize_row_{qtype[:-1]}K")(ptr(blocks), ptr(theirs), theirs.size)
    assert np.array_equal(ours.view(np.uint32), theirs.view(np.uint32))


def magnitude(base, qtype: str, blocks: np.ndarray, acts: np.ndarray) -> np.ndarray:
    """Per row, sum |w_i a_i| with Q4_K's two terms in absolute value (|d sc q| + |dmin m|)."""
    blocks = blocks.reshape(-1, ROW_BYTES[qtype]).copy()
    if qtype == "q4_k":
        blocks[:, 1] &= 0x7f  # |d|
        blocks[:, 3] |= 0x80  # -|dmin|: dequantization then adds |dmin m|
    w = np.zeros(blocks.size // ROW_BYTES[qtype] * QK, dtype=np.float32)
    getattr(base, f"dequantize_row_{qtype[:-1]}K")(ptr(blocks), ptr(w), w.size)
    a = acts.reshape(-1, ROW_BYTES["q8_k"])
    scale = a[:, :4].copy().view(np.float32)
    a_vals = a[:, 4:4 + QK].view(np.int8).astype(np.float64) * scale
    return np.abs(w.astype(np.float64) * a_vals.ravel()).reshape(-1, N).sum(axis=1)


def random_blocks(qtype: str, rows: int, rng) -> np.ndarray:
    """Raw random bytes with finite f16 scales: every scale and level pattern."""
    blocks = rng.integers(0, 256, (rows * N // QK, ROW_BYTES[qtype]), dtype=np.uint8)
    scales = rng.uniform(-0.1, 0.1, (blocks.shape[0], 2)).astype(np.float16).view(np.uint8)
    if qtype == "q4_k":
        blocks[:, 0:4] = scales
    else:
        blocks[:, 208:210] = scales[:, 0:2]
    return blocks.ravel()


@pytest.mark.parametrize("qtype", ["q4_k", "q6_k"])
def test_dot_products_match_llama_cpp(ggml, qtype, tmp_path):
    base, cpu = ggml
    rng = np.random.default_rng(99)
    x = make_rows()
    weights = np.concatenate([ggml_quantize(getattr(base, f"quantize_row_{qtype[:-1]}K_ref"), qtype, x),
                              random_blocks(qtype, 16, rng)])
    rows = weights.size // (N // QK * ROW_BYTES[qtype])
    a_float = np.ascontiguousarray(rng.standard_normal((rows, N)), dtype=np.float32)
    a_float[-3] = 0  # an all-zero activation row
    acts = ggml_quantize(cpu.quantize_row_q8_K, "q8_k", a_float)
    w_row, a_row = N // QK * ROW_BYTES[qtype], N // QK * ROW_BYTES["q8_k"]
    dot = getattr(cpu, f"ggml_vec_dot_{qtype[:-1]}K_q8_K")
    theirs = np.zeros(rows, dtype=np.float32)
    for r in range(rows):
        s = ctypes.c_float()
        dot(N, ctypes.byref(s), 0, ptr(weights[r * w_row:]), 0, ptr(acts[r * a_row:]), 0, 1)
        theirs[r] = s.value
    bound = 3e-6 * magnitude(base, qtype, weights, acts)
    weights.tofile(tmp_path / "w.bin")
    acts.tofile(tmp_path / "a.bin")
    ran = []
    for impl in ("ref", "avx2", "avx512"):
        if tool("dot", impl, qtype, N, tmp_path / "w.bin", tmp_path / "a.bin", tmp_path / "out.f32") == 3:
            continue  # this CPU lacks the instruction set; tests/unit covers the code through SIMDe
        ours = np.fromfile(tmp_path / "out.f32", dtype=np.float32)
        err = np.abs(ours.astype(np.float64) - theirs)
        worst = int(np.argmax(err - bound))
        assert np.all(err <= bound), f"{impl}: row {worst}: ours {ours[worst]} ggml {theirs[worst]} bound {bound[worst]}"
        ran.append(impl)
    assert "ref" in ran


# Q8_0 / Q4_0 weights with int8 activations (lib/packed_quant.hpp) against the same libraries.
Q8_0_BYTES = 34
BLOCK_BYTES = {"q4_0": 18, "q8_0": 34}


def test_q8_0_activations_equal_llama_cpp(ggml, tmp_path):
    _, cpu = ggml
    x = make_rows()
    x[5, :32] = [127.0, 2.5, 3.5, -2.5] + [0.0] * 28  # exact halves: llama.cpp's x86 rounds them to even
    x.tofile(tmp_path / "in.f32")
    tool("quantize", "q8_0_act", N, tmp_path / "in.f32", tmp_path / "out.bin")
    ours = np.fromfile(tmp_path / "out.bin", dtype=np.uint8)
    theirs = np.zeros(x.size // 32 * Q8_0_BYTES, dtype=np.uint8)
    cpu.quantize_row_q8_0(ptr(x), ptr(theirs), x.size)
    diff = np.flatnonzero(ours != theirs)
    assert diff.size == 0, f"first differing byte {diff[0]} (block {diff[0] // Q8_0_BYTES})"


@pytest.mark.parametrize("qtype", ["q4_0", "q8_0"])
def test_packed_products_match_llama_cpp(ggml, qtype, tmp_path):
    base, cpu = ggml
    rng = np.random.default_rng(5)
    x = make_rows()
    weights = np.zeros(x.size // 32 * BLOCK_BYTES[qtype], dtype=np.uint8)
    getattr(base, f"quantize_row_{qtype}_ref")(ptr(x), ptr(weights), x.size)
    rows = x.shape[0]
    a_float = np.ascontiguousarray(rng.standard_normal((rows, N)), dtype=np.float32)
    acts = np.zeros(a_float.size // 32 * Q8_0_BYTES, dtype=np.uint8)
    cpu.quantize_row_q8_0(ptr(a_float), ptr(acts), a_float.size)
    w_row, a_row = N // 32 * BLOCK_BYTES[qtype], N // 32 * Q8_0_BYTES
    dot = getattr(cpu, f"ggml_vec_dot_{qtype}_q8_0")
    theirs = np.zeros(rows, dtype=np.float64)
    for r in range(rows):
        s = ctypes.c_float()
        dot(N, ctypes.byref(s), 0, ptr(weights[r * w_row:]), 0, ptr(acts[r * a_row:]), 0, 1)
        theirs[r] = s.value
    weights.tofile(tmp_path / "w.bin")
    a_float.tofile(tmp_path / "a.f32")
    tool("dot", "packed", qtype, N, tmp_path / "w.bin", tmp_path / "a.f32", tmp_path / "out.f32")
    ours = np.fromfile(tmp_path / "out.f32", dtype=np.float32).astype(np.float64)
    # Same integers and per-block scales; only the order of the float additions differs.
    w = np.zeros(x.size, dtype=np.float32)
    getattr(base, f"dequantize_row_{qtype}")(ptr(weights), ptr(w), w.size)
    bound = 4e-6 * np.abs(w.reshape(rows, N).astype(np.float64) * a_float).sum(axis=1) + 1e-30
    err = np.abs(ours - theirs)
    worst = int(np.argmax(err / bound))
    assert np.all(err <= bound), f"row {worst}: ours {ours[worst]} ggml {theirs[worst]} bound {bound[worst]}"
