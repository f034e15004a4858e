"""`cwm quantize --type q4_k_m` against llama.cpp's own llama_model_quantize (LLAMA_FTYPE_MOSTLY_Q4_K_M,
from the prebuilt libllama in $PEER_DIR, called through ctypes) on random-weight Llama-3-shape
files written by make_llama_gguf.py (llama.cpp's gguf-py, the real Llama-3 vocabulary):

* all rows a multiple of 256 (f32 and f16 sources): every tensor has llama.cpp's type and
  byte-identical data (Q4_K by default, Q6_K for output.weight and for attn_v / ffn_down on
  layers 0, 3, 6, 7 of 8: llama.cpp's use_more_bits); the metadata may differ;
* feed-forward width 288 and tied embeddings: token_embd (then also the output) gets Q6_K,
  ffn_down rows of 288 fall back to Q8_0 where llama.cpp's choice was Q6_K (identical bytes)
  and to Q8_0 where it was Q4_K -> Q5_0, a type this project does not implement (documented in
  docs/quantization.md); everything else is byte-identical.

Environment: CWM_BIN (the cwm program), PEER_DIR (skipped when unset), CWM_TEST_DATA (the
Llama-3 tokenizer.json, as test_llama_cpp.py finds it).
"""
import ctypes
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_llama_cpp import MAKE_GGUF, tokenizer_json  # noqa: E402,F401  (tokenizer_json is a fixture)

LLAMA_FTYPE_MOSTLY_Q4_K_M = 15
SHAPE = ["--layers", "8", "--embd", "256", "--heads", "4", "--kv-heads", "2"]
MORE_BITS_LAYERS = {0, 3, 6, 7}  # i < 8/8 || i >= 7*8/8 || (i - 1) % 3 == 2


class QuantizeParams(ctypes.Structure):  # llama_model_quantize_params ($PEER_DIR/include/llama.h)
    _fields_ = [("nthread", ctypes.c_int32), ("ftype", ctypes.c_int), ("output_tensor_type", ctypes.c_int),
                ("token_embedding_type", ctypes.c_int), ("allow_requantize", ctypes.c_bool),
                ("quantize_output_tensor", ctypes.c_bool), ("only_copy", ctypes.c_bool), ("pure", ctypes.c_bool),
                ("keep_split", ctypes.c_bool), ("dry_run", ctypes.c_bool), ("imatrix", ctypes.c_void_p),
                ("kv_overrides", ctypes.c_void_p), ("tt_overrides", ctypes.c_void_p),
                ("prune_layers", ctypes.c_void_p), ("max_buf_size", ctypes.c_size_t)]


@pytest.fixture(scope="module")
def peer_dir() -> Path:
    peer = os.environ.get("PEER_DIR")
    if not peer:
        pytest.skip("PEER_DIR is not set: run scripts/peer-setup.sh (scripts/test.sh exports PEER_DIR)")
    return Path(peer)


@pytest.fixture(scope="module")
def gguf(peer_dir):
    sys.path.insert(0, str(peer_dir / "gguf-py"))
    import gguf as module  # llama.cpp's gguf-py
    return module


@pytest.fixture(scope="module")
def llama(peer_dir):
    libs = peer_dir / "node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
    ctypes.CDLL(str(libs / "libggml-base.so"), mode=ctypes.RTLD_GLOBAL)
    lib = ctypes.CDLL(str(libs / "libllama.v0.4.0.so"), mode=ctypes.RTLD_GLOBAL)
    lib.llama_model_quantize_default_params.restype = QuantizeParams
    lib.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(QuantizeParams)]
    lib.llama_model_quantize.restype = ctypes.c_uint32
    return lib


def llama_quantize(llama, src: Path, out: Path):
    params = llama.llama_model_quantize_default_params()
    params.nthread = 2
    params.ftype = LLAMA_FTYPE_MOSTLY_Q4_K_M
    assert llama.llama_model_quantize(str(src).encode(), str(out).encode(), ctypes.byref(params)) == 0


def cwm_quantize(src: Path, out: Path):
    cwm_bin = os.environ.get("CWM_BIN")
    if not cwm_bin:
        pytest.fail("CWM_BIN is not set (tests/CMakeLists.txt sets it)")
    proc = subprocess.run([cwm_bin, "quantize", src, out, "--type", "q4_k_m", "-t", "2"], capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr


def make_model(peer_dir, tokenizer_json, out: Path, *args):
    subprocess.run([sys.executable, MAKE_GGUF, "--out", out, "--tokenizer-json", tokenizer_json,
                    "--gguf-py", peer_dir / "gguf-py", *SHAPE, *args], check=True, capture_output=True)


def tensors(gguf, path: Path) -> dict:
    return {t.name: (t.tensor_type, np.asarray(t.data).view(np.uint8).ravel()) for t in gguf.GGUFReader(path).tensors}


def expected_type(gguf, name: str, tied: bool):
    Q = gguf.GGMLQuantizationType
    if name.endswith("norm.weight"):
        return None  # copied as is
    if name == "output.weight" or (tied and name == "token_embd.weight"):
        return Q.Q6_K
    if name.endswith(("attn_v.weight", "ffn_down.weight")) and int(name.split(".")[1]) in MORE_BITS_LAYERS:
        return Q.Q6_K
    return Q.Q4_K


@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_q4_k_m_equals_llama_cpp(peer_dir, gguf, llama, tokenizer_json, dtype, tmp_path):
    src = tmp_path / f"model-{dtype}.gguf"
    make_model(peer_dir, tokenizer_json, src, "--ff", "512", "--dtype", dtype, "--seed", "21")
    llama_quantize(llama, src, tmp_path / "llama.gguf")
    cwm_quantize(src, tmp_path / "cwm.gguf")
    theirs, ours = tensors(gguf, tmp_path / "llama.gguf"), tensors(gguf, tmp_path / "cwm.gguf")
    source = tensors(gguf, src)
    assert ours.keys() == theirs.keys()
    for name, (their_type, their_data) in theirs.items():
        expect = expected_type(gguf, name, tied=False) or source[name][0]
        assert their_type == expect, f"{name}: llama.cpp chose {their_type.name}, this test expects {expect.name}"
        assert ours[name][0] == their_type, f"{name}: ours {ours[name][0].name}, llama.cpp {their_type.name}"
        assert np.array_equal(ours[name][1], their_data), f"{name}: data differs"
    file_type = gguf.GGUFReader(tmp_path / "cwm.gguf").fields["general.file_type"]
    assert int(file_type.parts[file_type.data[0]][0]) == LLAMA_FTYPE_MOSTLY_Q4_K_M


def test_q4_k_m_fallbacks_and_tied_embeddings(peer_dir, gguf, llama, tokenizer_json, tmp_path):
    src = tmp_path / "model.gguf"
    make_model(peer_dir, tokenizer_json, src, "--ff", "288", "--tied", "--seed", "22")
    llama_quantize(llama, src, tmp_path / "llama.gguf")
    cwm_quantize(src, tmp_path / "cwm.gguf")
    theirs, ours = tensors(gguf, tmp_path / "llama.gguf"), tensors(gguf, tmp_path / "cwm.gguf")
    source = tensors(gguf, src)
    Q = gguf.GGMLQuantizationType
    assert "output.weight" not in theirs and theirs["token_embd.weight"][0] == Q.Q6_K
    q5_0 = []
    for name, (their_type, their_data) in theirs.items():
        if their_type == Q.Q5_0:  # llama.cpp's fallback for Q4_K; ours is Q8_0
            assert ours[name][0] == Q.Q8_0, name
            weights = np.frombuffer(source[name][1].tobytes(), dtype=np.float32)
            assert np.array_equal(ours[name][1], gguf.quants.quantize(weights, Q.Q8_0).view(np.uint8).ravel()), name
            q5_0.append(name)
            continue
        assert ours[name][0] == their_type, f"{name}: ours {ours[name][0].name}, llama.cpp {their_type.name}"
        assert np.array_equal(ours[name][1], their_data), f"{name}: data differs"
    # ffn_down (rows of 288): Q6_K -> Q8_0 on the use_more_bits layers, Q4_K -> Q5_0 on the others
    assert sorted(q5_0) == sorted(f"blk.{i}.ffn_down.weight" for i in set(range(8)) - MORE_BITS_LAYERS)
    assert all(theirs[f"blk.{i}.ffn_down.weight"][0] == Q.Q8_0 for i in MORE_BITS_LAYERS)
