#!/usr/bin/env python3
"""Cross-checks libcwm's GGUF code against llama.cpp's own Python library (gguf-py).

gguf-py writes a file with every metadata type and several tensor types; the gguf_dump
tool (tests/tools/gguf_dump.cpp) prints what libcwm's reader sees, which must equal what
was written, and rewrites the file through libcwm's GgufWriter, which must reproduce
gguf-py's bytes exactly. Done once with the default alignment and once with a custom one.

usage: gguf_py_roundtrip.py [--gguf-py DIR] --dump PATH/TO/gguf_dump
gguf-py is found in --gguf-py, else in $CWM_GGUF_PY, else on PYTHONPATH.
Exits 0 when everything matches, 1 on any mismatch or when gguf-py cannot be imported.
"""

import argparse
import difflib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def metadata(V):
    """(key, value type, value, array element type or None to let gguf-py infer it)."""
    return [
        ("t.u8", V.UINT8, 200, None),
        ("t.i8", V.INT8, -100, None),
        ("t.u16", V.UINT16, 60000, None),
        ("t.i16", V.INT16, -30000, None),
        ("t.u32", V.UINT32, 4000000000, None),
        ("t.i32", V.INT32, -2000000000, None),
        ("t.f32", V.FLOAT32, 0.1, None),
        ("t.true", V.BOOL, True, None),
        ("t.false", V.BOOL, False, None),
        ("t.string", V.STRING, 'h\u00e9llo \u4e16\u754c \U0001F600 "q" back\\slash\ttab\nnl\x01', None),
        ("t.empty_string", V.STRING, "", None),
        ("t.u64", V.UINT64, 2**64 - 1, None),
        ("t.i64", V.INT64, -(2**63), None),
        ("t.f64", V.FLOAT64, -1 / 3, None),
        ("tokenizer.ggml.tokens", V.ARRAY, ["a", "", "\u0120the", "<|eot_id|>"], None),
        ("t.i32s", V.ARRAY, [1, -2, 3], None),
        ("t.u8s", V.ARRAY, [0, 255, 7], V.UINT8),
        ("t.u64s", V.ARRAY, [0, 2**64 - 1], V.UINT64),
        ("t.f32s", V.ARRAY, [0.5, -1.25, 3e38], None),
        ("t.bools", V.ARRAY, [True, False, True], None),
        ("t.nested", V.ARRAY, [[1, 2], [3], ["x", "y"]], None),
    ]


def tensors(gguf):
    """(name, numpy array, raw ggml type or None); raw tensors are given as bytes per row."""
    rng = np.random.default_rng(1234)
    Q = gguf.GGMLQuantizationType
    return [
        ("token_embd.weight", (np.arange(24, dtype=np.float32) * 0.5).reshape(4, 6), None),
        ("blk.0.attn_q.weight", rng.standard_normal((3, 5, 2)).astype(np.float16), None),
        ("output_norm.weight", rng.standard_normal(7).astype(np.float32), None),
        ("ids", np.array([[1, -2, 3], [4, 5, -6]], dtype=np.int32), None),
        ("q8", rng.integers(0, 256, (2, 68), dtype=np.uint8), Q.Q8_0),
        ("bf", rng.integers(0, 256, (3, 8), dtype=np.uint8), Q.BF16),
    ]


def elem_type(V, value, sub_type):
    return sub_type if sub_type is not None else V.get_type(value[0])


def type_text(V, vtype, value, sub_type):
    if vtype != V.ARRAY:
        return TYPE_NAMES[vtype]
    return f"array<{TYPE_NAMES[elem_type(V, value, sub_type)]}>"


def value_text(V, vtype, value, sub_type=None):
    """Formats a value exactly as gguf_dump does."""
    if vtype in (V.UINT8, V.INT8, V.UINT16, V.INT16, V.UINT32, V.INT32, V.UINT64, V.INT64):
        return str(int(value))
    if vtype == V.FLOAT32:
        return "%.9g" % float(np.float32(value))
    if vtype == V.FLOAT64:
        return "%.17g" % value
    if vtype == V.BOOL:
        return "true" if value else "false"
    if vtype == V.STRING:
        return json.dumps(value, ensure_ascii=False)
    et = elem_type(V, value, sub_type)
    return "[" + ",".join(value_text(V, et, item) for item in value) + "]"


TYPE_NAMES = ["u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"]


def fnv1a(data):
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def write_with_gguf_py(gguf, path, alignment):
    """Writes the test file and returns the lines gguf_dump must print for it."""
    V = gguf.GGUFValueType
    w = gguf.GGUFWriter(path, "llama")
    expected = ["version 3", f"alignment {alignment or 32}", 'kv general.architecture string "llama"']
    if alignment:
        w.add_custom_alignment(alignment)
        expected.append(f"kv general.alignment u32 {alignment}")
    for key, vtype, value, sub_type in metadata(V):
        w.add_key_value(key, value, vtype, sub_type=sub_type)
        expected.append(f"kv {key} {type_text(V, vtype, value, sub_type)} {value_text(V, vtype, value, sub_type)}")
    for name, array, raw_type in tensors(gguf):
        w.add_tensor(name, array, raw_dtype=raw_type)
        if raw_type is None:
            shape, type_name = array.shape, gguf.GGMLQuantizationType(
                {np.float32: 0, np.float16: 1, np.int32: 26}[array.dtype.type]).name
        else:
            shape, type_name = gguf.quant_shape_from_byte_shape(array.shape, raw_type), raw_type.name
        ne = ",".join(str(d) for d in reversed(shape))
        expected.append(f"tensor {name} {type_name.lower()} ne={ne} bytes={array.nbytes} "
                        f"fnv1a={fnv1a(array.tobytes()):016x}")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return expected


def check(gguf, dump, tmp, alignment):
    original, rewritten = tmp / f"py_{alignment}.gguf", tmp / f"cwm_{alignment}.gguf"
    expected = write_with_gguf_py(gguf, original, alignment)
    run = subprocess.run([dump, str(original), "--rewrite", str(rewritten)], capture_output=True, text=True)
    label = f"alignment {alignment or 'default'}"
    if run.returncode != 0:
        print(f"{label}: gguf_dump failed ({run.returncode}): {run.stderr}")
        return False
    ok = True
    got = run.stdout.splitlines()
    if got != expected:
        print(f"{label}: libcwm's reader disagrees with what gguf-py wrote:")
        sys.stdout.writelines(difflib.unified_diff([e + "\n" for e in expected], [g + "\n" for g in got],
                                                   "gguf-py", "libcwm"))
        ok = False
    if original.read_bytes() != rewritten.read_bytes():
        print(f"{label}: libcwm's writer did not reproduce gguf-py's file byte for byte")
        ok = False
    if ok:
        print(f"{label}: {len(expected)} lines match, rewrite is byte-identical")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf-py", default=os.environ.get("CWM_GGUF_PY"),
                    help="directory holding llama.cpp's gguf package (default: $CWM_GGUF_PY, else PYTHONPATH)")
    ap.add_argument("--dump", required=True, help="the gguf_dump executable")
    args = ap.parse_args()
    if args.gguf_py:
        sys.path.insert(0, args.gguf_py)
    try:
        import gguf
    except ImportError as e:
        print(f"gguf_py_roundtrip: cannot import gguf-py ({e}); pass --gguf-py or set CWM_GGUF_PY")
        return 1

    with tempfile.TemporaryDirectory(prefix="cwm_gguf_py_") as tmp:
        results = [check(gguf, args.dump, Path(tmp), alignment) for alignment in (None, 64)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
