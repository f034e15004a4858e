"""Finding libcwm, the ABI check, and that every function of cwm.h is declared to ctypes."""

import ctypes
import os
import re
import shutil
import subprocess
import sys

import pytest

import cwm
from cwm import _lib
from conftest import PACKAGE_ROOT, REPO_ROOT


def run_python(code, env_update, cwd=None):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    for k, v in env_update.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def header_functions():
    with open(os.path.join(REPO_ROOT, "include", "cwm.h")) as f:
        text = f.read()
    return re.findall(r"^CWM_API\s+[^(]*?\b(cwm_\w+)\s*\(", text, re.M)


def test_every_function_of_the_header_is_declared():
    names = header_functions()
    with open(os.path.join(REPO_ROOT, "include", "cwm.h")) as f:
        assert len(names) == f.read().count("\nCWM_API ")  # the pattern missed no declaration
    assert sorted(names) == sorted(_lib.PROTOTYPES)
    for name in names:
        fn = getattr(_lib.lib, name)
        assert fn.argtypes is not None, name
        # The argument count matches the header's prototype.
        with open(os.path.join(REPO_ROOT, "include", "cwm.h")) as f:
            proto = re.search(r"^CWM_API[^;]*?\b" + name + r"\s*\(([^)]*)\)", f.read(), re.M).group(1).strip()
        n_args = 0 if proto in ("void", "") else proto.count(",") + 1
        assert len(fn.argtypes) == n_args, name


STRUCTS = ["cwm_model_params", "cwm_model_info", "cwm_tensor_info", "cwm_chat_message", "cwm_chat_params",
           "cwm_context_params", "cwm_sampler_params", "cwm_quantize_params", "cwm_convert_gguf_params"]


def test_structs_match_the_c_compilers_layout(tmp_path):
    """sizeof and offsetof of every field, as the C compiler lays them out from cwm.h."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <cwm.h>", "int main(void) {"]
    for s in STRUCTS:
        lines.append(f'printf("{s} SIZEOF %zu\\n", sizeof({s}));')
        for name, _ in getattr(_lib, s)._fields_:
            lines.append(f'printf("{s} {name} %zu\\n", offsetof({s}, {name}));')
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.run([cc, "-I", os.path.join(REPO_ROOT, "include"), str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    c_layout = {(st, f): int(v) for st, f, v in (line.split() for line in out.splitlines())}
    for s in STRUCTS:
        cls = getattr(_lib, s)
        assert ctypes.sizeof(cls) == c_layout[(s, "SIZEOF")], s
        for name, _ in cls._fields_:
            assert getattr(cls, name).offset == c_layout[(s, name)], (s, name)


def test_a_wrong_call_is_a_python_error_not_a_crash(tiny):
    with pytest.raises(ctypes.ArgumentError):
        _lib.lib.cwm_model_tensor_count("not a model")
    with pytest.raises(TypeError):
        tiny.tokenize(12)
    with pytest.raises(TypeError):
        tiny.detokenize(["a"])
    with pytest.raises(TypeError):
        tiny.detokenize([1.5])
    with pytest.raises(TypeError):
        cwm.Context("model.gguf")


def test_versions():
    assert cwm.abi_version() == cwm.ABI_VERSION == 1
    assert re.fullmatch(r"\d+\.\d+\.\d+", cwm.version())
    assert cwm.status_name(cwm.Status.IO) == "CWM_ERR_IO"
    assert cwm.library_path() == os.environ["CWM_LIBRARY"]


def test_a_missing_library_names_every_place_tried(tmp_path):
    code = "import sys; sys.path.insert(0, %r); import cwm; cwm.version()" % PACKAGE_ROOT
    r = run_python(code, {"CWM_LIBRARY": str(tmp_path / "nope.so.0")})
    assert r.returncode != 0
    assert "ImportError" in r.stderr and str(tmp_path / "nope.so.0") in r.stderr
    assert "CWM_LIBRARY" in r.stderr

    # Without CWM_LIBRARY (and nothing in the package or the system): all three places named.
    pkg = tmp_path / "pkg"
    shutil.copytree(os.path.join(PACKAGE_ROOT, "cwm"), pkg / "cwm",
                    ignore=shutil.ignore_patterns("libcwm.so*", "__pycache__"))
    r = run_python("import sys; sys.path.insert(0, %r); from cwm import Model" % str(pkg),
                   {"CWM_LIBRARY": None, "LD_LIBRARY_PATH": None})
    if r.returncode == 0:
        pytest.skip("a libcwm is installed system-wide")
    assert "package directory" in r.stderr and str(pkg / "cwm") in r.stderr
    assert "find_library" in r.stderr and "system (dynamic loader): libcwm.so.0" in r.stderr


def test_a_library_copied_into_the_package_is_found(tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(os.path.join(PACKAGE_ROOT, "cwm"), pkg / "cwm",
                    ignore=shutil.ignore_patterns("libcwm.so*", "__pycache__"))
    real = os.path.realpath(os.environ["CWM_LIBRARY"])
    shutil.copy(real, pkg / "cwm" / "libcwm.so.0")
    r = run_python("import sys; sys.path.insert(0, %r); import cwm; print(cwm.library_path())" % str(pkg),
                   {"CWM_LIBRARY": None})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(pkg / "cwm" / "libcwm.so.0")


def test_an_abi_mismatch_is_refused():
    # A library reporting another ABI version: ctypes.CDLL wrapped to return one that lies.
    code = """
import ctypes, sys
sys.path.insert(0, %r)
real_cdll = ctypes.CDLL
def fake(path, *a, **k):
    lib = real_cdll(path, *a, **k)
    lie = lambda: 2
    lib.cwm_abi_version = lie
    return lib
ctypes.CDLL = fake
try:
    import cwm
    cwm.Model
except ImportError as e:
    print("REFUSED:", e)
""" % PACKAGE_ROOT
    r = run_python(code, {})
    assert r.returncode == 0, r.stderr
    assert "REFUSED:" in r.stdout and "ABI version 2" in r.stdout and "ABI version 1" in r.stdout


def test_errors_carry_status_name_and_message():
    with pytest.raises(cwm.FileError) as e:
        cwm.Model("/nonexistent/model.gguf")
    assert e.value.status == cwm.Status.IO == 2
    assert e.value.status_name == "CWM_ERR_IO"
    assert "/nonexistent/model.gguf" in e.value.message
    assert str(e.value).startswith("CWM_ERR_IO: ")
    assert isinstance(e.value, cwm.Error)
    assert issubclass(cwm.InvalidArgumentError, ValueError)


def test_the_tracer_works_without_the_native_library(tmp_path):
    program = tmp_path / "p.py"
    program.write_text("def f(a):  # << START_OF_TRACE\n    return a + 1\n\nf(1)\n")
    r = subprocess.run([sys.executable, "-m", "cwm.tracer", str(program)], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": PACKAGE_ROOT, "CWM_LIBRARY": str(tmp_path / "none.so")})
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith('<|return_sep|><|action_sep|>    return a + 1\n<|arg_sep|>"2"<|frame_sep|><|end_of_text|>')
