"""`cwm convert`: checkpoints in facebook/cwm's Hugging Face layout (random weights, CWM's
config keys, several shards, the real Llama-3 tokenizer.json; scripts/make_hf_checkpoint.py)
converted to GGUF and run by the engine, against the PyTorch reference's logits on the HF
weights themselves (rotate-half RoPE, no permutation): the oracle for names, shapes, the q/k
permutation, RoPE scaling, the layer pattern and the window. Also: quantized conversions equal
`cwm quantize` of the bf16 conversion, the tokenizer comes through, bad checkpoints give clear
errors and leave no file, an interrupted conversion leaves no file, and memory stays bounded
on a checkpoint several times larger than the bound.

Run (from the repository root):

    CWM_BIN=build/cwm CWM_DUMP_LOGITS=build/tests/dump_logits CWM_LIBRARY=$PWD/build/libcwm.so.0 \\
        /usr/bin/python3 -m pytest tests/integration/test_convert_hf.py -v -s
"""

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "bindings" / "python"))

import make_hf_checkpoint as hf  # noqa: E402
from test_reference import error_bound, run_dump_logits  # noqa: E402

# 40 tokens: past the generated models' window of 16, so local layers differ from global ones.
TOKENS = [128000] + np.random.default_rng(7).integers(0, 128000, 39).tolist()


def cwm_bin() -> str:
    path = os.environ.get("CWM_BIN")
    if not path:
        pytest.fail("CWM_BIN is not set (ctest sets it; e.g. CWM_BIN=build/cwm)")
    return path


def make_checkpoint(out: Path, *options: str) -> Path:
    hf.main(["--out", str(out), *options])
    return out


def convert(hf_dir: Path, out: Path, *options: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([cwm_bin(), "convert", str(hf_dir), str(out), *options], capture_output=True, text=True,
                          timeout=900)
    if check and proc.returncode != 0:
        pytest.fail(f"cwm convert exited with {proc.returncode}:\n{proc.stderr}")
    return proc


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp" in p.name)


# Checkpoint options, and the conversion's --type: the checkpoint's own (lossless).
VARIANTS = {
    "cwm-3-shards-bf16": (["--shards", "3"], "bf16"),
    "rope-parameters": (["--rope-parameters", "--shards", "2"], "bf16"),
    "no-layer-types": (["--no-layer-types", "--layers", "5"], "bf16"),
    "llama-type-f16": (["--model-type", "llama", "--no-layer-types", "--dtype", "f16"], "f16"),
    "f32-no-scaling": (["--dtype", "f32", "--no-rope-scaling", "--head-dim", "48"], "f32"),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_converted_logits_match_the_reference(variant, tmp_path):
    options, wtype = VARIANTS[variant]
    ckpt = make_checkpoint(tmp_path / "hf", *options)
    proc = convert(ckpt, tmp_path / "model.gguf", "--type", wtype)
    ref = hf.load_reference(str(ckpt)).logits(TOKENS)
    raw = run_dump_logits(tmp_path / "model.gguf", TOKENS, "prefill", tmp_path / "logits.f32")
    err = np.abs(raw.reshape(ref.shape).astype(np.float64) - ref).max()
    print(f"{variant}: max abs err {err:.3g}, bound {error_bound(ref):.3g}, logits std {ref.std():.3g}")
    assert err <= error_bound(ref)
    if variant in ("no-layer-types", "llama-type-f16"):
        assert "layer_types: absent" in proc.stderr  # the assumption is reported


def test_layer_pattern_and_tokenizer_come_through(tmp_path):
    import cwm
    ckpt = make_checkpoint(tmp_path / "hf", "--layers", "6", "--no-layer-types")
    proc = convert(ckpt, tmp_path / "model.gguf")
    assert "reserved_special_token" in proc.stderr  # 128008 is not <|eom_id|> in Llama-3's file
    with cwm.Model(tmp_path / "model.gguf") as model:
        assert [model.layer_is_local(i) for i in range(6)] == [False, True, True, True, False, False]
        assert model.info.arch == "cwm" and model.info.window == 16
        assert model.is_stop(128009) and model.is_stop(128001)
        # Published Llama-3 ids (shared/docs/cwm-model.md), through the converted vocabulary.
        ids = model.tokenizer.encode("Hello world, this is a test of the llama tokenizer.", add_bos=False)
        assert ids == [9906, 1917, 11, 420, 374, 264, 1296, 315, 279, 94776, 47058, 13]
        assert model.tokenizer.find("<|eot_id|>") == 128009
        assert "{{" in model.chat_template


@pytest.mark.parametrize("qtype", ["q8_0", "q4_0", "q4_k_m"])
def test_quantized_conversion_equals_quantizing_the_bf16_conversion(qtype, tmp_path):
    """Converting straight to a quantized type must give the same file as `cwm quantize` (itself
    checked against llama.cpp) applied to the bf16 conversion: same choices, same bits."""
    ckpt = make_checkpoint(tmp_path / "hf", "--shards", "2")
    convert(ckpt, tmp_path / "bf16.gguf")
    convert(ckpt, tmp_path / "direct.gguf", "--type", qtype)
    subprocess.run([cwm_bin(), "quantize", str(tmp_path / "bf16.gguf"), str(tmp_path / "two-step.gguf"),
                    "--type", qtype], check=True, capture_output=True, timeout=300)
    # The headers differ in general.file_type (quantize writes it): compare tensor list and data.
    from gguf_io import GGUFFile  # noqa: E402
    a, b = GGUFFile(str(tmp_path / "direct.gguf")), GGUFFile(str(tmp_path / "two-step.gguf"))
    assert [(t.name, t.shape, t.type) for t in a.tensors.values()] == \
        [(t.name, t.shape, t.type) for t in b.tensors.values()]
    data_a = np.asarray(a._map[min(t.offset for t in a.tensors.values()):])
    data_b = np.asarray(b._map[min(t.offset for t in b.tensors.values()):])
    assert np.array_equal(data_a, data_b)


# Mean KL divergence from the f16 file, docs/quantization.md's stress-test figures on a random
# 1.5B model (logits std 8): the documented distance of each type. The converted checkpoints
# here are gentler (logits std ~1), so they must land within it.
DOCUMENTED_KLD = {"q8_0": 0.0187, "q4_0": 2.53, "q4_k_m": 1.49}


def kl_divergence(model: Path, reference: Path, text: Path) -> float:
    proc = subprocess.run([cwm_bin(), "perplexity", "-m", str(model), "-f", str(text), "-c", "256", "--chunks", "2",
                           "--kl-reference", str(reference)], capture_output=True, text=True, timeout=600, check=True)
    return float(proc.stdout.split("kld=")[1].split()[0])


def test_quantized_conversions_land_within_their_documented_distance(tmp_path):
    ckpt = make_checkpoint(tmp_path / "hf", "--shards", "2")
    convert(ckpt, tmp_path / "bf16.gguf")
    text = ROOT / "docs" / "design.md"
    measured = {}
    for qtype, documented in DOCUMENTED_KLD.items():
        convert(ckpt, tmp_path / f"{qtype}.gguf", "--type", qtype)
        measured[qtype] = kl_divergence(tmp_path / f"{qtype}.gguf", tmp_path / "bf16.gguf", text)
        assert 0 < measured[qtype] <= documented, f"{qtype}: mean KLD {measured[qtype]:.4g} > {documented}"
    print("mean KLD vs bf16:", {k: f"{v:.4g}" for k, v in measured.items()})
    assert measured["q8_0"] < measured["q4_k_m"] < measured["q4_0"]


def corrupt_truncated_shard(ckpt: Path) -> str:
    shard = sorted(ckpt.glob("model-*.safetensors"))[1]
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) - 1000])
    return shard.name


def corrupt_header_length(ckpt: Path) -> str:
    shard = sorted(ckpt.glob("model-*.safetensors"))[0]
    data = bytearray(shard.read_bytes())
    data[0:8] = (len(data) * 4).to_bytes(8, "little")
    shard.write_bytes(bytes(data))
    return "header"


def corrupt_overlap(ckpt: Path) -> str:
    shard = sorted(ckpt.glob("model-*.safetensors"))[1]
    data = shard.read_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    size = {k: v["data_offsets"][1] - v["data_offsets"][0] for k, v in header.items() if k != "__metadata__"}
    first = next(k for k in size if list(size.values()).count(size[k]) > 1)
    second = next(k for k in size if k != first and size[k] == size[first])
    header[second]["data_offsets"] = header[first]["data_offsets"]  # same size, same bytes
    text = json.dumps(header, separators=(",", ":")).encode().ljust(n)
    assert len(text) == n
    shard.write_bytes(data[:8] + text + data[8 + n:])
    return "overlap"


def corrupt_missing_index_entry(ckpt: Path) -> str:
    index_path = ckpt / "model.safetensors.index.json"
    index = json.loads(index_path.read_text())
    del index["weight_map"]["model.layers.1.mlp.up_proj.weight"]
    index_path.write_text(json.dumps(index))
    return "model.layers.1.mlp.up_proj.weight"


def corrupt_missing_shard(ckpt: Path) -> str:
    shard = sorted(ckpt.glob("model-*.safetensors"))[2]
    shard.unlink()
    return shard.name


def corrupt_shape(ckpt: Path) -> str:
    config = json.loads((ckpt / "config.json").read_text())
    config["intermediate_size"] = 1024
    (ckpt / "config.json").write_text(json.dumps(config))
    return "shape"


def corrupt_dtype(ckpt: Path) -> str:
    shard = sorted(ckpt.glob("model-*.safetensors"))[1]
    data = shard.read_bytes()
    n = int.from_bytes(data[:8], "little")
    text = data[8:8 + n].replace(b'"BF16"', b'"I16"', 1).ljust(n)  # same element size
    shard.write_bytes(data[:8] + text + data[8 + n:])
    return "has dtype I16"


def corrupt_architecture(ckpt: Path) -> str:
    config = json.loads((ckpt / "config.json").read_text())
    config["model_type"] = "mistral"
    (ckpt / "config.json").write_text(json.dumps(config))
    return "'model_type' is 'mistral'"


CORRUPTIONS = {
    "truncated shard": corrupt_truncated_shard,
    "bad header length": corrupt_header_length,
    "overlapping offsets": corrupt_overlap,
    "missing index entry": corrupt_missing_index_entry,
    "missing shard": corrupt_missing_shard,
    "wrong shape": corrupt_shape,
    "wrong dtype": corrupt_dtype,
    "unknown architecture": corrupt_architecture,
}


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory):
    return make_checkpoint(tmp_path_factory.mktemp("good") / "hf", "--shards", "3")


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_bad_checkpoints_give_an_error_and_no_file(corruption, good_checkpoint, tmp_path):
    ckpt = tmp_path / "hf"
    ckpt.mkdir()
    for f in good_checkpoint.iterdir():
        (ckpt / f.name).write_bytes(f.read_bytes())
    expected = CORRUPTIONS[corruption](ckpt)
    out = tmp_path / "out"
    out.mkdir()
    proc = convert(ckpt, out / "model.gguf", check=False)
    print(f"{corruption}: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode != 0
    assert expected in proc.stderr
    assert list(out.iterdir()) == []


def test_interrupted_conversion_leaves_no_file(tmp_path):
    ckpt = make_checkpoint(tmp_path / "hf", "--large-gb", "1", "--hidden", "512", "--dtype", "f32",
                           "--shards", "2")
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen([cwm_bin(), "convert", str(ckpt), str(out / "model.gguf"), "--type", "q4_k_m",
                             "-t", "1"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not leftovers(out):  # started writing
        time.sleep(0.05)
    assert leftovers(out), "the conversion never started writing"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "cancelled" in stderr
    assert list(out.iterdir()) == []


def test_peak_memory_is_bounded_on_a_large_checkpoint(tmp_path):
    """A generated checkpoint of ~4 GB, several times the memory the converter may use: peak RSS
    (measured by the kernel for the child process) stays under 256 MB plus twice the largest
    tensor (its source and its converted form), far below the checkpoint's size. (The issue's
    bound, 2 GB plus the largest tensor, is looser.)"""
    ckpt = make_checkpoint(tmp_path / "hf", "--large-gb", "4", "--hidden", "1024", "--shards", "4")
    size = sum(f.stat().st_size for f in ckpt.glob("*.safetensors"))
    largest = max(t.n_bytes for shard in ckpt.glob("*.safetensors") for t in hf_tensors(shard))
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    proc = subprocess.run([sys.executable, "-c", probe, cwm_bin(), "convert", str(ckpt), str(tmp_path / "model.gguf")],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr
    peak = int(proc.stdout.split()[-1]) * 1024
    bound = 256 * 2**20 + 2 * largest
    print(f"checkpoint {size / 2**30:.2f} GiB, largest tensor {largest / 2**20:.0f} MiB, "
          f"peak RSS {peak / 2**20:.0f} MiB, bound {bound / 2**20:.0f} MiB")
    assert size > 4 * bound
    assert peak < bound


class _Tensor:
    def __init__(self, n_bytes: int):
        self.n_bytes = n_bytes


def hf_tensors(shard: Path) -> list[_Tensor]:
    with open(shard, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
    return [_Tensor(v["data_offsets"][1] - v["data_offsets"][0]) for k, v in header.items() if k != "__metadata__"]
