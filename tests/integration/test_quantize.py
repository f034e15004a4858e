"""`cwm quantize` against llama.cpp's own Python quantizer (gguf-py's gguf.quants, a port of
ggml's reference quantize_row_q8_0 / q4_0): for the same input weights the blocks must be
byte-identical, everything else copied unchanged; and failures leave no output file.

Environment: CWM_BIN (the cwm program), CWM_GGUF_PY (directory holding llama.cpp's gguf-py
package; scripts/test.sh sets both through ctest).
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def env_path(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set (scripts/test.sh sets it)")
    return value


@pytest.fixture(scope="module")
def gguf():
    sys.path.insert(0, env_path("CWM_GGUF_PY"))
    import gguf as module  # llama.cpp's gguf-py
    return module


def cwm(*args, check=True):
    proc = subprocess.run([env_path("CWM_BIN"), *map(str, args)], capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        pytest.fail(f"cwm {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module", params=["f32", "f16"])
def source(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("src") / f"model-{request.param}.gguf"
    subprocess.run([sys.executable, ROOT / "scripts/make_random_model.py", "--out", path, "--arch", "cwm",
                    "--layers", "2", "--embd", "64", "--ff", "160", "--heads", "4", "--kv-heads", "2",
                    "--vocab", "300", "--window", "8", "--dtype", request.param, "--seed", "5"],
                   check=True, capture_output=True)
    return path


@pytest.mark.parametrize("qtype", ["q8_0", "q4_0"])
def test_blocks_equal_llama_cpp_quantizer(gguf, source, qtype, tmp_path):
    out = tmp_path / f"{qtype}.gguf"
    cwm("quantize", source, out, "--type", qtype, "-t", "2")
    target = {"q8_0": gguf.GGMLQuantizationType.Q8_0, "q4_0": gguf.GGMLQuantizationType.Q4_0}[qtype]
    before = {t.name: t for t in gguf.GGUFReader(source).tensors}
    after = gguf.GGUFReader(out)
    quantized = 0
    for t in after.tensors:
        src = before[t.name]
        if t.tensor_type == target:
            weights = np.asarray(src.data, dtype=np.float32)
            expected = gguf.quants.quantize(weights, target)
            assert np.array_equal(np.asarray(t.data).view(np.uint8).ravel(), expected.view(np.uint8).ravel()), t.name
            quantized += 1
        else:
            assert t.tensor_type == src.tensor_type, t.name
            assert np.array_equal(np.asarray(t.data), np.asarray(src.data)), t.name
            assert t.name.endswith("norm.weight"), f"{t.name} was left unquantized"
    assert quantized == 2 * 7 + 2  # 7 matrices per layer, embedding and output
    file_type = after.fields["general.file_type"]
    assert int(file_type.parts[file_type.data[0]][0]) == {"q8_0": 7, "q4_0": 2}[qtype]


def test_quantized_model_runs_close_to_its_source(source, tmp_path):
    out = tmp_path / "q8.gguf"
    cwm("quantize", source, out, "--type", "q8_0")
    text = tmp_path / "prompt.txt"
    text.write_text("def add(a, b):\n    return a + b\n" * 40)
    ppl = [float(cwm("perplexity", "-m", m, "-f", text, "-c", "64").stdout.split()[0].split("=")[1])
           for m in (source, out)]
    assert abs(ppl[1] / ppl[0] - 1) < 0.02, ppl


def test_failures_leave_no_file(source, tmp_path):
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(source.read_bytes()[:5000])
    out = tmp_path / "out.gguf"
    proc = cwm("quantize", truncated, out, check=False)
    assert proc.returncode != 0 and "truncated.gguf" in proc.stderr
    proc = cwm("quantize", source, tmp_path / "missing-dir" / "out.gguf", check=False)
    assert proc.returncode != 0 and "missing-dir" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["truncated.gguf"]
