"""scripts/make_hf_checkpoint.py: random checkpoints in facebook/cwm's Hugging Face layout, and
the reference logits they are converted against.

Checked here: the files (read back with a small safetensors reader of this test's own), the
index, config.json variants and the reference Config read from them, and the oracle the GGUF
converter relies on: the reference on the HF weights with rotate-half RoPE equals the reference
on the same weights with q/k rows permuted as llama.cpp's converter does, with interleaved RoPE.

Run (from the repository root):

    /usr/bin/python3 -m pytest tests/integration/test_hf_checkpoint.py -v -s

Environment: CWM_TEST_DATA, where scripts/fetch-test-data.sh put the Llama-3 tokenizer.json
(if unset, the script is run).
"""

import dataclasses
import json
import math
import re
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE.parents[1] / "scripts"
SCRIPT = SCRIPTS / "make_hf_checkpoint.py"
sys.path.insert(0, str(SCRIPTS))
sys.path.insert(0, str(HERE))

import cwm_reference  # noqa: E402
import make_hf_checkpoint as hf  # noqa: E402
from test_llama_cpp import tokenizer_json  # noqa: E402,F401  (a fixture)

# 48 positions: past the default window (16) and through CWM's special-token range.
TOKENS = [128000] + [(7919 * i) % 128256 for i in range(1, 46)] + [128006, 128009]
ORACLE_BOUND = 1e-9  # |rotate_half - permuted interleaved|: float64 rounding only

# name: options. "default" is CWM's config with the older rope_scaling form, sharded in 3;
# "llama_f16" is an early-CWM-style llama config that still lists layer_types, RoPE in the newer
# rope_parameters form, a head dim with n_head * head_dim != hidden, one file.
CHECKPOINTS = {
    "default": ["--shards", "3", "--seed", "1"],
    "llama_f16": ["--model-type", "llama", "--rope-parameters", "--dtype", "f16", "--layers", "3",
                  "--hidden", "128", "--heads", "4", "--kv-heads", "1", "--head-dim", "48",
                  "--ff", "320", "--window", "12", "--rope-orig-ctx", "32", "--seed", "7"],
}

ITEMSIZE = {"BF16": 2, "F16": 2, "F32": 4}


def run_script(*args) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, timeout=600)
    if proc.returncode:
        pytest.fail(f"make_hf_checkpoint.py {' '.join(map(str, args))} failed:\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture(scope="module", params=list(CHECKPOINTS))
def checkpoint(request, tokenizer_json, tmp_path_factory):  # noqa: F811
    """(name, directory, logits the script computed for TOKENS)."""
    name = request.param
    out = tmp_path_factory.mktemp(f"hf_{name}")
    run_script("--out", out / "model", "--tokenizer-json", tokenizer_json, *CHECKPOINTS[name],
               "--reference-logits", out / "logits.npy", "--tokens", ",".join(map(str, TOKENS)))
    yield name, out / "model", np.load(out / "logits.npy")
    shutil.rmtree(out)


# ---------------------------------------------------------------------------------------------
# An independent safetensors reader


def read_safetensors_raw(path: Path) -> dict[str, tuple[str, list[int], bytes]]:
    """{name: (dtype, shape, bytes)}, asserting the format: u64 LE header size (a multiple of 8,
    the JSON padded with spaces), "__metadata__" {"format": "pt"}, data offsets tiling the rest
    of the file without gaps or overlaps, each tensor numel * itemsize bytes."""
    blob = path.read_bytes()
    (n,) = struct.unpack_from("<Q", blob)
    text = blob[8:8 + n].decode("utf-8")
    assert n % 8 == 0 and text.rstrip(" ").endswith("}"), "JSON padded with spaces to 8 bytes"
    header = json.loads(text)
    assert header.pop("__metadata__") == {"format": "pt"}
    data = blob[8 + n:]
    entries = sorted(header.items(), key=lambda item: item[1]["data_offsets"][0])
    end = 0
    for name, info in entries:
        begin, stop = info["data_offsets"]
        assert begin == end, f"{path.name}: {name} starts at {begin}, previous tensor ends at {end}"
        assert stop - begin == math.prod(info["shape"]) * ITEMSIZE[info["dtype"]], name
        end = stop
    assert end == len(data), f"{path.name}: tensors end at {end}, data is {len(data)} bytes"
    return {name: (info["dtype"], info["shape"], data[slice(*info["data_offsets"])])
            for name, info in header.items()}


def decode(dtype: str, shape: list[int], raw: bytes) -> np.ndarray:
    if dtype == "BF16":
        return (np.frombuffer(raw, "<u2").astype("<u4") << 16).view("<f4").reshape(shape)
    return np.frombuffer(raw, {"F16": "<f2", "F32": "<f4"}[dtype]).astype(np.float32).reshape(shape)


def hf_names(n_layer: int) -> list[str]:
    """Every tensor of a checkpoint, in state-dict (layer) order."""
    names = ["model.embed_tokens.weight"]
    for i in range(n_layer):
        names += [f"model.layers.{i}.{part}.weight" for part in (
            "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
            "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj", "input_layernorm",
            "post_attention_layernorm")]
    return names + ["model.norm.weight", "lm_head.weight"]


def weight_files(model: Path) -> list[Path]:
    index = model / "model.safetensors.index.json"
    if not index.exists():
        return [model / "model.safetensors"]
    return sorted({model / f for f in json.loads(index.read_text())["weight_map"].values()})


# ---------------------------------------------------------------------------------------------
# Files


def test_files_and_configs(checkpoint, tokenizer_json):  # noqa: F811
    name, model, _ = checkpoint
    assert (model / "tokenizer.json").read_bytes() == Path(tokenizer_json).read_bytes()
    config = json.loads((model / "config.json").read_text())
    assert config["vocab_size"] == 128256 and config["tie_word_embeddings"] is False
    assert config["eos_token_id"] == [128001, 128008, 128009] and config["bos_token_id"] == 128000
    assert not config["attention_bias"] and not config["mlp_bias"]
    if name == "default":
        assert config["architectures"] == ["CwmForCausalLM"] and config["model_type"] == "cwm"
        assert config["torch_dtype"] == "bfloat16" and "rope_parameters" not in config
        assert config["rope_scaling"]["rope_type"] == "llama3" and config["rope_theta"] == 1e6
        assert config["layer_types"] == ["full_attention", "sliding_attention",
                                         "sliding_attention", "full_attention"]
    else:
        assert config["architectures"] == ["LlamaForCausalLM"] and config["model_type"] == "llama"
        assert config["torch_dtype"] == "float16"
        assert "rope_theta" not in config and "rope_scaling" not in config
        assert config["rope_parameters"]["rope_theta"] == 1e6
        assert config["layer_types"] == ["full_attention", "sliding_attention", "full_attention"]
    generation = json.loads((model / "generation_config.json").read_text())
    assert generation["eos_token_id"] == [128001, 128008, 128009]
    tok_config = json.loads((model / "tokenizer_config.json").read_text())
    assert tok_config["bos_token"] == "<|begin_of_text|>" and tok_config["add_bos_token"] is True
    assert len(tok_config["added_tokens_decoder"]) == 256
    assert tok_config["added_tokens_decoder"]["128009"]["content"] == "<|eot_id|>"
    assert "<|start_header_id|>" in tok_config["chat_template"]


def test_weight_files_parse_and_cover_every_tensor_once(checkpoint):
    name, model, _ = checkpoint
    config = json.loads((model / "config.json").read_text())
    files = weight_files(model)
    contents = {f.name: read_safetensors_raw(f) for f in files}
    expected = hf_names(config["num_hidden_layers"])
    seen = [t for tensors in contents.values() for t in tensors]
    assert sorted(seen) == sorted(expected), "each tensor exactly once over all files"
    dtype = {"bfloat16": "BF16", "float16": "F16"}[config["torch_dtype"]]
    assert {d for tensors in contents.values() for d, _, _ in tensors.values()} == {dtype}
    if name == "default":
        index = json.loads((model / "model.safetensors.index.json").read_text())
        assert [f.name for f in files] == [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
        assert index["weight_map"] == {t: f for f, tensors in contents.items() for t in tensors}
        assert index["metadata"]["total_size"] == sum(
            len(raw) for tensors in contents.values() for _, _, raw in tensors.values())
        # contiguous groups in layer order: file k holds a run of the state-dict order
        runs = [sorted(expected.index(t) for t in contents[f.name]) for f in files]
        assert [i for run in runs for i in run] == list(range(len(expected)))
    else:
        assert files == [model / "model.safetensors"]
        assert not (model / "model.safetensors.index.json").exists()


def test_shapes_and_value_spreads(checkpoint):
    _, model, _ = checkpoint
    config = json.loads((model / "config.json").read_text())
    h, q_dim = config["hidden_size"], config["num_attention_heads"] * config["head_dim"]
    kv_dim = config["num_key_value_heads"] * config["head_dim"]
    tensors = {}
    for f in weight_files(model):
        tensors.update({k: decode(*v) for k, v in read_safetensors_raw(f).items()})
    assert tensors["model.embed_tokens.weight"].shape == (128256, h)
    assert tensors["lm_head.weight"].shape == (128256, h)
    assert tensors["model.layers.0.self_attn.q_proj.weight"].shape == (q_dim, h)
    assert tensors["model.layers.0.self_attn.k_proj.weight"].shape == (kv_dim, h)
    assert tensors["model.layers.0.self_attn.o_proj.weight"].shape == (h, q_dim)
    assert tensors["model.layers.0.mlp.down_proj.weight"].shape == (h, config["intermediate_size"])
    norm = tensors["model.layers.0.input_layernorm.weight"]
    assert abs(norm.mean() - 1) < 0.08 and 0.15 < norm.std() < 0.25
    for name in ("model.layers.0.self_attn.o_proj.weight", "model.layers.0.mlp.down_proj.weight"):
        w = tensors[name]
        assert abs(w.std() * math.sqrt(w.shape[1]) - 1) < 0.05, name
    # the script's reader widens exactly what this reader decodes
    for name, x in hf.read_checkpoint(str(model)).items():
        np.testing.assert_array_equal(x, tensors[name])


@pytest.mark.parametrize("dtype", ["bf16", "f16", "f32"])
def test_writer_values_every_dtype(dtype, tmp_path):
    """Values are N(0, std^2) from the tensor's own seed, rounded to nearest (torch's rounding
    as the independent check), and deterministic."""
    tensors = [hf.Tensor("b.weight", (24, 40), 3), hf.Tensor("a.weight", (40,), 5)]
    for path in (tmp_path / "1.safetensors", tmp_path / "2.safetensors"):
        hf.write_safetensors(str(path), tensors, hf.Values(11, dtype, tiled=False))
    assert (tmp_path / "1.safetensors").read_bytes() == (tmp_path / "2.safetensors").read_bytes()
    got = read_safetensors_raw(tmp_path / "1.safetensors")
    assert list(got) == ["a.weight", "b.weight"]  # sorted by name, data in the same order
    torch_dtype = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}[dtype]
    normal = np.random.default_rng([11, 3]).standard_normal((24, 40), dtype=np.float32)
    x = np.float32(1 / math.sqrt(40)) * normal
    expected = torch.from_numpy(x).to(torch_dtype).to(torch.float32).numpy()
    np.testing.assert_array_equal(decode(*got["b.weight"]), expected)


def test_shard_groups_are_contiguous_and_never_empty():
    for sizes, k in [([100, 1, 1, 1, 1, 100], 3), ([100, 1, 1, 1, 1, 100], 6), ([5] * 10, 4),
                     ([1000, 1, 1], 3), ([1, 1, 1000], 2)]:
        groups = hf.shard_groups(sizes, k)
        assert len(groups) == k and all(groups)
        assert [i for g in groups for i in g] == list(range(len(sizes)))
    assert hf.shard_groups([100, 1, 1, 1, 1, 100], 3) == [[0], [1, 2, 3, 4], [5]]


# ---------------------------------------------------------------------------------------------
# config.json variants -> reference Config


def config_for(*options) -> dict:
    args = hf.parse_args(["--out", "unused", *options])
    args.vocab = 128256
    return hf.hf_config(args)


def test_config_variants_give_the_right_reference_config():
    default = hf.reference_config(config_for())
    assert default.pair_layout == "rotate_half" and default.window == 16
    assert default.local_layers == [False, True, True, False]
    assert (default.n_layer, default.n_embd, default.n_ff, default.n_head, default.n_head_kv,
            default.head_dim, default.rope_dim, default.n_vocab) == (4, 256, 512, 8, 2, 32, 32, 128256)
    assert default.rope_theta == 1e6 and default.eps == 1e-5
    assert default.rope_scaling == cwm_reference.RopeScaling(16.0, 1.0, 4.0, 64)

    newer = config_for("--rope-parameters")
    assert "rope_theta" not in newer and "rope_scaling" not in newer
    assert newer["rope_parameters"] == {"rope_theta": 1e6, "rope_type": "llama3", "factor": 16.0,
                                        "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                        "original_max_position_embeddings": 64}
    assert hf.reference_config(newer) == default

    six = ["--layers", "6"]
    cwm_rule = config_for("--no-layer-types", *six)
    assert "layer_types" not in cwm_rule and cwm_rule["sliding_window"] == 16
    assert hf.reference_config(cwm_rule).local_layers == [False, True, True, True, False, False]
    listed = hf.reference_config(config_for(*six))
    assert listed.local_layers == [False, True, True, True, False, False]

    plain_llama = config_for("--model-type", "llama", "--no-layer-types", *six)
    assert plain_llama["architectures"] == ["LlamaForCausalLM"] and plain_llama["model_type"] == "llama"
    assert "sliding_window" not in plain_llama and "layer_types" not in plain_llama
    # Absent layer_types and sliding_window take CWM's documented values, as `cwm convert` does.
    assert hf.reference_config(plain_llama).local_layers == [False, True, True, True, False, False]
    assert hf.reference_config(plain_llama).window == 8192
    listed_llama = config_for("--model-type", "llama", *six)
    assert hf.reference_config(listed_llama).local_layers == [False, True, True, True, False, False]

    for form in ([], ["--rope-parameters"]):
        plain = hf.reference_config(config_for("--no-rope-scaling", "--rope-theta", "5e5", *form))
        assert plain.rope_scaling is None and plain.rope_theta == 5e5


def test_reference_config_rejects_what_it_cannot_run():
    with pytest.raises(ValueError, match="rope type"):
        hf.reference_config({**config_for(), "rope_scaling": {"rope_type": "yarn", "factor": 4.0}})
    with pytest.raises(ValueError, match="layer_types"):
        hf.reference_config({**config_for(), "layer_types": ["full_attention"] * 3})


def test_default_rope_scaling_changes_the_frequencies():
    """The defaults put frequencies in all three llama3 regimes (kept, blended, divided)."""
    cfg = hf.reference_config(config_for())
    scaled = cwm_reference.rope_frequencies(cfg, None)
    i = torch.arange(cfg.rope_dim // 2, dtype=torch.float64)
    plain = cfg.rope_theta ** (-2 * i / cfg.rope_dim)
    ratio = plain / scaled
    kept = torch.isclose(ratio, torch.tensor(1.0, dtype=torch.float64))
    divided = torch.isclose(ratio, torch.tensor(16.0, dtype=torch.float64))
    assert kept.sum() >= 1 and divided.sum() >= 1 and (~kept & ~divided).sum() >= 1


# ---------------------------------------------------------------------------------------------
# The oracle: HF rotate-half weights == permuted weights with interleaved RoPE


def to_interleaved(w: torch.Tensor, n_head: int) -> torch.Tensor:
    """llama.cpp's converter: per head, rows (i, i + d/2) become rows (2i, 2i + 1)."""
    rows, cols = w.shape
    return w.reshape(n_head, 2, rows // n_head // 2, cols).transpose(1, 2).reshape(rows, cols)


def test_rotate_half_equals_permuted_interleaved(checkpoint):
    _, model, script_logits = checkpoint
    ref = hf.load_reference(str(model))
    cfg = ref.cfg
    assert len(TOKENS) > cfg.window and any(cfg.local_layers) and cfg.rope_scaling is not None
    logits = ref.logits(TOKENS)
    np.testing.assert_array_equal(logits, script_logits)  # the CLI ran the same computation

    permuted = dict(ref.w)
    for i in range(cfg.n_layer):
        for kind, heads in (("q", cfg.n_head), ("k", cfg.n_head_kv)):
            name = f"blk.{i}.attn_{kind}.weight"
            permuted[name] = to_interleaved(ref.w[name], heads)
    interleaved_cfg = dataclasses.replace(cfg, pair_layout="interleaved")
    interleaved = cwm_reference.Reference(interleaved_cfg, permuted).logits(TOKENS)
    unpermuted = cwm_reference.Reference(interleaved_cfg, ref.w).logits(TOKENS)

    diff = np.abs(interleaved - logits).max()
    print(f"\n{model.parent.name}: logits std {logits.std():.3f}, |rotate_half - permuted "
          f"interleaved| {diff:.2e}, without the permutation {np.abs(unpermuted - logits).max():.2f}")
    assert logits.std() > 0.5
    assert diff <= ORACLE_BOUND
    assert np.abs(unpermuted - logits).max() > 0.1  # the check can fail


def test_from_dir_recomputes_the_same_logits(checkpoint, tmp_path):
    _, model, script_logits = checkpoint
    run_script("--from-dir", model, "--reference-logits", tmp_path / "again.npy",
               "--tokens", ",".join(map(str, TOKENS)))
    np.testing.assert_array_equal(np.load(tmp_path / "again.npy"), script_logits)


# ---------------------------------------------------------------------------------------------
# --large-gb


def test_large_mode_streams_a_checkpoint_of_the_requested_size(tokenizer_json, tmp_path):  # noqa: F811
    """0.4 GB in bf16 with a 512-wide model: the embedding and output matrices alone would
    take 0.4 GB as float32 + bf16 copies; streaming keeps the process far below. (The peak is
    VmHWM: ru_maxrss would include this test process's own, inherited across fork + exec.)"""
    out, gb = tmp_path / "large", 0.4
    options = ["--out", out, "--tokenizer-json", tokenizer_json, "--large-gb", gb, "--hidden", 512,
               "--ff", 1024, "--heads", 8, "--kv-heads", 2, "--head-dim", 64, "--shards", 2]
    runner = ("import runpy, sys; sys.argv = sys.argv[1:]; "
              "runpy.run_path(sys.argv[0], run_name='__main__'); "
              "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])")
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", runner, str(SCRIPT), *map(str, options)],
                          capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr[-3000:]
    peak_mb = int(proc.stdout.split()[-1]) / 1024
    try:
        files = weight_files(out)
        index = json.loads((out / "model.safetensors.index.json").read_text())
        config = json.loads((out / "config.json").read_text())
        tensors = {}
        for f in files:
            tensors.update(read_safetensors_raw(f))
        assert sorted(tensors) == sorted(hf_names(config["num_hidden_layers"]))
        total = index["metadata"]["total_size"]
        layer = sum(len(raw) for t, (_, _, raw) in tensors.items() if t.startswith("model.layers.0."))
        print(f"\n--large-gb {gb}: {config['num_hidden_layers']} layers, {total / 1e9:.3f} GB in "
              f"{seconds:.1f} s, peak RSS {peak_mb:.0f} MB; progress:\n{proc.stderr}")
        assert abs(total - gb * 1e9) <= layer / 2
        assert (out / "tokenizer.json").exists() and (out / "tokenizer_config.json").exists()
        assert len(re.findall(r"GB written", proc.stderr)) >= 5
        # distinct tensors, although tiled from one block
        q0, q1 = (tensors[f"model.layers.{i}.self_attn.q_proj.weight"][2] for i in (0, 1))
        assert q0 != q1
        assert peak_mb < 250
    finally:
        shutil.rmtree(out)
