"""quantize(), convert_hf(), measure_read_bandwidth(), the example script and installing the package with pip."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import cwm
from conftest import PACKAGE_ROOT, REPO_ROOT, some_tokens


def test_quantize_reports_progress_and_writes_a_working_model(tiny, tiny_path, tmp_path):
    out = tmp_path / "q8.gguf"
    calls = []
    cwm.quantize(tiny_path, out, "q8_0", n_threads=1, progress=lambda *a: calls.append(a))
    n_tensors = len(tiny.tensors())
    assert [c[0] for c in calls] == list(range(1, n_tensors + 1))
    assert all(c[1] == n_tensors for c in calls) and calls[-1][2] == calls[-1][3]
    with cwm.Model(out) as q:
        types = {t.name: t.type for t in q.tensors()}
        assert types["token_embd.weight"] == "q8_0" and types["blk.0.attn_norm.weight"] == "f32"
        with cwm.Context(q, n_ctx=64, n_threads=1) as c, cwm.Context(tiny, n_ctx=64, n_threads=1) as ref:
            c.decode(some_tokens(8))
            ref.decode(some_tokens(8))
            # q8_0 of the same weights: close to the f16 model's logits, far from noise.
            assert np.corrcoef(c.logits(), ref.logits())[0, 1] > 0.99
    q4 = tmp_path / "q4.gguf"
    cwm.quantize(tiny_path, q4, cwm.WeightType.Q4_0)
    with cwm.Model(q4) as q:
        assert q.tensors()[0].type == "q4_0"


def test_quantize_cancel_and_errors_leave_no_file(tiny_path, tmp_path):
    out = tmp_path / "cancelled.gguf"
    calls = []
    with pytest.raises(cwm.CancelledError):
        cwm.quantize(tiny_path, out, progress=lambda done, n, b, t: calls.append(done) or len(calls) < 3)
    assert len(calls) == 3 and not out.exists()

    with pytest.raises(ZeroDivisionError) as e:
        cwm.quantize(tiny_path, out, progress=lambda *a: 1 / 0)
    assert isinstance(e.value.__cause__, cwm.CancelledError) and not out.exists()

    with pytest.raises(cwm.InvalidArgumentError):
        cwm.quantize(tiny_path, out, "q3_k")
    with pytest.raises(cwm.InvalidArgumentError):
        cwm.quantize(tiny_path, out, 14)  # not a type libcwm writes: refused by C
    with pytest.raises(cwm.FileError):
        cwm.quantize("/nonexistent/in.gguf", out)
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p != "cancelled.gguf"]  # no temporary left


@pytest.fixture(scope="module")
def hf_checkpoint(tmp_path_factory, llama3_json):
    """A small checkpoint in facebook/cwm's Hugging Face layout (scripts/make_hf_checkpoint.py)."""
    sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))
    import make_hf_checkpoint
    out = tmp_path_factory.mktemp("hf") / "cwm-hf"
    make_hf_checkpoint.main(["--out", str(out), "--shards", "2", "--layers", "2", "--hidden", "64", "--ff", "128",
                             "--heads", "4", "--kv-heads", "2", "--head-dim", "16", "--no-layer-types",
                             "--tokenizer-json", llama3_json])
    return out


def test_convert_hf_reports_progress_and_notes(hf_checkpoint, tmp_path):
    out, progress, notes = tmp_path / "m.gguf", [], []
    cwm.convert_hf(hf_checkpoint, out, "q8_0", n_threads=1, progress=lambda d, t: progress.append((d, t)),
                   note=notes.append)
    assert progress and progress[-1][0] == progress[-1][1]
    assert all(a[0] <= b[0] for a, b in zip(progress, progress[1:]))
    assert any("layer_types: absent" in n for n in notes)
    with cwm.Model(out) as m:
        assert m.info.arch == "cwm" and m.info.n_layer == 2
        assert {t.name: t.type for t in m.tensors()}["blk.0.attn_q.weight"] == "q8_0"


def test_convert_hf_cancel_and_errors_leave_no_file(hf_checkpoint, tmp_path):
    out = tmp_path / "m.gguf"
    with pytest.raises(cwm.CancelledError):
        cwm.convert_hf(hf_checkpoint, out, progress=lambda d, t: False)
    with pytest.raises(KeyError) as e:  # a raising callback cancels and is re-raised
        cwm.convert_hf(hf_checkpoint, out, note=lambda line: {}["boom"])
    assert isinstance(e.value.__cause__, cwm.CancelledError)
    with pytest.raises(cwm.InvalidArgumentError):
        cwm.convert_hf(hf_checkpoint, out, "q3_k")
    with pytest.raises(cwm.FileError):
        cwm.convert_hf(tmp_path / "nowhere", out)
    assert os.listdir(tmp_path) == []


def test_measure_read_bandwidth():
    gbs = cwm.measure_read_bandwidth(8 << 20, 1, 2)
    assert 0 < gbs < 10000
    with pytest.raises(cwm.InvalidArgumentError) as e:
        cwm.measure_read_bandwidth(4096, 1, 1)
    assert "1 MiB" in e.value.message
    with pytest.raises(cwm.InvalidArgumentError):
        cwm.measure_read_bandwidth(8 << 20, 1, 1001)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CWM_LIBRARY")}
    env.update(extra)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INDEX"] = "1"
    return env


def test_the_example_script_streams_a_generation(tiny_path):
    script = os.path.join(REPO_ROOT, "examples", "python", "generate.py")
    r = subprocess.run([sys.executable, script, tiny_path, "-n", "12", "-t", "1", "-p", "def f(x):"],
                       env=clean_env(CWM_LIBRARY=os.environ["CWM_LIBRARY"]), capture_output=True, text=True,
                       timeout=60, cwd=REPO_ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("def f(x):")
    assert "<|start_header_id|>user<|end_header_id|>" in r.stderr  # the chat rendering
    assert "tokens in" in r.stderr
    # The streamed text is exactly what greedy generation through the API gives.
    with cwm.Model(tiny_path) as m, cwm.Context(m, n_ctx=4096, n_threads=1) as c:
        expected = "".join(c.generate("def f(x):", 12))
    assert r.stdout == "def f(x):" + expected + "\n"

    r = subprocess.run([sys.executable, script, tiny_path, "-n", "4", "-t", "1", "--chat", "hi"],
                       env=clean_env(CWM_LIBRARY=os.environ["CWM_LIBRARY"]), capture_output=True, text=True,
                       timeout=60, cwd=REPO_ROOT)
    assert r.returncode == 0, r.stderr


def test_pip_installs_the_package_offline(tmp_path):
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        pytest.skip("pip is not installed")
    # Built from a copy: setuptools writes build/ and *.egg-info next to the sources.
    src = tmp_path / "src"
    shutil.copytree(PACKAGE_ROOT, src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info",
                                                                     "libcwm.so*", ".pytest_cache"))
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                        "--target", str(target), str(src)], env=clean_env(), capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (target / "cwm" / "__init__.py").exists() and (target / "cwm" / "py.typed").exists()
    assert not list((target / "cwm").glob("libcwm.so*"))  # no library bundled unless copied in
    code = "import cwm, sys; print(cwm.__file__); print(cwm.version())"
    r = subprocess.run([sys.executable, "-c", code], env=clean_env(PYTHONPATH=str(target),
                                                                    CWM_LIBRARY=os.environ["CWM_LIBRARY"]),
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [str(target / "cwm" / "__init__.py"), cwm.version()]


def test_convert_gguf_writes_a_cwm_file_that_loads_with_cwms_layout(models_dir, tiny, tmp_path):
    out = tmp_path / "converted.gguf"
    calls = []
    cwm.convert_gguf(os.path.join(models_dir, "tiny-llama.gguf"), out, "cwm", sliding_window=6,
                     progress=lambda *a: calls.append(a))
    assert len(calls) == 48 and calls[-1][0] == calls[-1][1] == 48
    with cwm.Model(out) as m, cwm.Context(m, n_ctx=64, n_threads=1) as c, \
            cwm.Context(tiny, n_ctx=64, n_threads=1) as ref:
        assert m.metadata["general.architecture"] == "cwm" and m.metadata["cwm.attention.sliding_window"] == "6"
        assert m.info.n_local_layers == 3
        c.decode(list(range(1, 21)))
        ref.decode(list(range(1, 21)))
        assert list(c.logits()) == list(ref.logits())


def test_convert_gguf_refuses_the_input_as_output_and_leaves_no_file(models_dir, tmp_path):
    src = tmp_path / "in.gguf"
    shutil.copy(os.path.join(models_dir, "tiny-llama.gguf"), src)
    with pytest.raises(cwm.InvalidArgumentError, match="is the input file"):
        cwm.convert_gguf(src, src)
    with pytest.raises(cwm.InvalidArgumentError, match="must be cwm or global"):
        cwm.convert_gguf(src, tmp_path / "out.gguf", "file")
    with pytest.raises(cwm.CancelledError):
        cwm.convert_gguf(src, tmp_path / "out.gguf", progress=lambda done, *_: done < 2)
    assert os.listdir(tmp_path) == ["in.gguf"]
