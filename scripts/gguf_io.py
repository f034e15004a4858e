"""A small, self-contained GGUF v3 writer and reader (Python + numpy).

Written from the GGUF specification, independent of llama.cpp's gguf-py, so the two can check
each other. Layout of a file:

    magic "GGUF" | u32 version (3) | u64 tensor count | u64 kv count
    kv pairs:      string key | u32 value type | value
    tensor infos:  string name | u32 n_dims | u64 ne[n_dims] | u32 ggml type | u64 data offset
    padding to the alignment | data section (each tensor at an aligned offset)

Strings are a u64 byte length followed by UTF-8 bytes; an array is a u32 element type, a u64
count and the elements (arrays may nest). Everything is little-endian.

Shapes: `ne` is ggml order, innermost first. This module speaks numpy order at its interface
(outermost first), so a numpy array of shape (rows, cols) is stored with ne = [cols, rows].
Tensor types: f32 (0), f16 (1), bf16 (30). bf16 is the top 16 bits of an f32, rounded to
nearest even.
"""

import enum
import os
import struct
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

MAGIC = b"GGUF"
VERSION = 3
DEFAULT_ALIGNMENT = 32


class ValueType(enum.IntEnum):
    UINT8 = 0
    INT8 = 1
    UINT16 = 2
    INT16 = 3
    UINT32 = 4
    INT32 = 5
    FLOAT32 = 6
    BOOL = 7
    STRING = 8
    ARRAY = 9
    UINT64 = 10
    INT64 = 11
    FLOAT64 = 12


class TensorType(enum.IntEnum):
    F32 = 0
    F16 = 1
    BF16 = 30


_SCALAR_DTYPES = {
    ValueType.UINT8: np.dtype("<u1"),
    ValueType.INT8: np.dtype("<i1"),
    ValueType.UINT16: np.dtype("<u2"),
    ValueType.INT16: np.dtype("<i2"),
    ValueType.UINT32: np.dtype("<u4"),
    ValueType.INT32: np.dtype("<i4"),
    ValueType.FLOAT32: np.dtype("<f4"),
    ValueType.BOOL: np.dtype("<u1"),
    ValueType.UINT64: np.dtype("<u8"),
    ValueType.INT64: np.dtype("<i8"),
    ValueType.FLOAT64: np.dtype("<f8"),
}

_TENSOR_STORAGE = {
    TensorType.F32: np.dtype("<f4"),
    TensorType.F16: np.dtype("<f2"),
    TensorType.BF16: np.dtype("<u2"),
}


@dataclass
class Value:
    """A typed GGUF metadata value.

    Scalars: `data` is a Python bool/int/float/str. Arrays: `type` is ARRAY, `elem_type` the
    element type and `data` a list of plain Python values, or of `Value`s when the elements
    are themselves arrays (nested arrays).
    """

    type: ValueType
    data: Any
    elem_type: ValueType | None = None

    def plain(self) -> Any:
        """The value without type information (nested arrays become nested lists)."""
        if self.type != ValueType.ARRAY:
            return self.data
        return [v.plain() if isinstance(v, Value) else v for v in self.data]


def scalar(vtype: ValueType, data: Any) -> Value:
    return Value(ValueType(vtype), data)


def array(elem_type: ValueType, items: Iterable[Any]) -> Value:
    return Value(ValueType.ARRAY, list(items), ValueType(elem_type))


# ---------------------------------------------------------------------------------------------
# bf16


def f32_to_bf16_bits(x: np.ndarray) -> np.ndarray:
    """Round float32 values to bf16 (nearest, ties to even); returns the uint16 bit patterns."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16)
    quiet_nan = (bits >> np.uint32(16)) | np.uint32(0x0040)
    return np.where(np.isnan(x), quiet_nan, rounded).astype(np.uint16)


def bf16_bits_to_f32(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def encode_tensor(x: np.ndarray, ttype: TensorType) -> np.ndarray:
    """The stored (little-endian) representation of `x` in `ttype`."""
    if ttype == TensorType.BF16:
        return f32_to_bf16_bits(np.asarray(x, dtype=np.float32))
    return np.asarray(x).astype(_TENSOR_STORAGE[ttype])


# ---------------------------------------------------------------------------------------------
# Writer


@dataclass
class TensorSpec:
    """A tensor to write: numpy-order `shape`, GGUF `type`, and `make()` producing its values
    (any float array of that shape), called only when the tensor's turn comes."""

    name: str
    shape: tuple[int, ...]
    type: TensorType
    make: Callable[[], np.ndarray]

    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * _TENSOR_STORAGE[self.type].itemsize


def _pack_string(s: str) -> bytes:
    raw = s.encode("utf-8")
    return struct.pack("<Q", len(raw)) + raw


def _pack_array(elem_type: ValueType, items: list) -> bytes:
    head = struct.pack("<IQ", elem_type, len(items))
    if elem_type in _SCALAR_DTYPES:
        return head + np.asarray(items).astype(_SCALAR_DTYPES[elem_type]).tobytes()
    if elem_type == ValueType.STRING:
        return head + b"".join(_pack_string(s) for s in items)
    return head + b"".join(_pack_array(v.elem_type, v.data) for v in items)


def _pack_value(v: Value) -> bytes:
    if v.type == ValueType.STRING:
        return _pack_string(v.data)
    if v.type == ValueType.ARRAY:
        return _pack_array(v.elem_type, v.data)
    return np.asarray(v.data).astype(_SCALAR_DTYPES[v.type]).tobytes()


def _padding(offset: int, alignment: int) -> int:
    return -offset % alignment


def _header(kv: dict[str, Value], tensors: list[TensorSpec], alignment: int) -> bytes:
    parts = [MAGIC, struct.pack("<IQQ", VERSION, len(tensors), len(kv))]
    for key, value in kv.items():
        parts += [_pack_string(key), struct.pack("<I", value.type), _pack_value(value)]
    offset = 0
    for t in tensors:
        ne = list(reversed(t.shape))
        parts += [_pack_string(t.name), struct.pack(f"<I{len(ne)}Q", len(ne), *ne)]
        parts.append(struct.pack("<IQ", t.type, offset))
        offset += t.nbytes() + _padding(t.nbytes(), alignment)
    header = b"".join(parts)
    return header + bytes(_padding(len(header), alignment))


def _write_tensor(f, t: TensorSpec, alignment: int, rows_per_chunk: int = 4096) -> None:
    data = t.make()
    if tuple(data.shape) != tuple(t.shape):
        raise ValueError(f"{t.name}: made shape {data.shape}, declared {t.shape}")
    flat_rows = data.reshape(-1, data.shape[-1]) if data.ndim > 1 else data.reshape(1, -1)
    for start in range(0, flat_rows.shape[0], rows_per_chunk):
        f.write(encode_tensor(flat_rows[start:start + rows_per_chunk], t.type).tobytes())
    f.write(bytes(_padding(t.nbytes(), alignment)))


def write_gguf(path: str, kv: dict[str, Value], tensors: list[TensorSpec],
               alignment: int = DEFAULT_ALIGNMENT,
               on_tensor: Callable[[int, TensorSpec], None] | None = None) -> None:
    """Write a GGUF v3 file, one tensor at a time, to a temporary file renamed into place.

    A non-default alignment is recorded as `general.alignment`. `on_tensor(i, spec)` is called
    before each tensor is made (for progress reports).
    """
    kv = dict(kv)
    if alignment != DEFAULT_ALIGNMENT:
        kv["general.alignment"] = scalar(ValueType.UINT32, alignment)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(_header(kv, tensors, alignment))
            for i, t in enumerate(tensors):
                if on_tensor:
                    on_tensor(i, t)
                _write_tensor(f, t, alignment)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# ---------------------------------------------------------------------------------------------
# Reader


@dataclass
class TensorInfo:
    name: str
    shape: tuple[int, ...]  # numpy order (ne reversed)
    type: int               # ggml type id (may be one this module cannot decode)
    offset: int             # absolute offset of the data in the file


class _Cursor:
    def __init__(self, buf: np.ndarray):
        self.buf = buf
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise ValueError(f"GGUF: truncated file (need {n} bytes at {self.pos})")
        out = self.buf[self.pos:self.pos + n].tobytes()
        self.pos += n
        return out

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def string(self) -> str:
        (n,) = self.unpack("<Q")
        return self.take(n).decode("utf-8")

    def numbers(self, dtype: np.dtype, count: int) -> np.ndarray:
        return np.frombuffer(self.take(dtype.itemsize * count), dtype=dtype)


def _read_scalar(cur: _Cursor, vtype: ValueType) -> Any:
    if vtype == ValueType.STRING:
        return cur.string()
    (x,) = cur.numbers(_SCALAR_DTYPES[vtype], 1).tolist()
    return bool(x) if vtype == ValueType.BOOL else x


def _read_array(cur: _Cursor) -> Value:
    elem_type, count = cur.unpack("<IQ")
    elem_type = ValueType(elem_type)
    if elem_type in _SCALAR_DTYPES:
        items = cur.numbers(_SCALAR_DTYPES[elem_type], count).tolist()
        items = [bool(x) for x in items] if elem_type == ValueType.BOOL else items
    elif elem_type == ValueType.STRING:
        items = [cur.string() for _ in range(count)]
    else:
        items = [_read_array(cur) for _ in range(count)]
    return Value(ValueType.ARRAY, items, elem_type)


def _read_value(cur: _Cursor) -> Value:
    (vtype,) = cur.unpack("<I")
    vtype = ValueType(vtype)
    if vtype == ValueType.ARRAY:
        return _read_array(cur)
    return Value(vtype, _read_scalar(cur, vtype))


class GGUFFile:
    """A GGUF file opened for reading (memory-mapped; tensors are decoded on demand)."""

    def __init__(self, path: str):
        self.path = path
        self._map = np.memmap(path, dtype=np.uint8, mode="r")
        cur = _Cursor(self._map)
        if cur.take(4) != MAGIC:
            raise ValueError(f"{path}: not a GGUF file (bad magic)")
        version, n_tensors, n_kv = cur.unpack("<IQQ")
        if version != VERSION:
            raise ValueError(f"{path}: GGUF version {version}, only {VERSION} is supported")
        self.kv: dict[str, Value] = {}
        for _ in range(n_kv):
            key = cur.string()
            self.kv[key] = _read_value(cur)
        infos = [self._read_tensor_info(cur) for _ in range(n_tensors)]
        self.alignment = self._alignment()
        data_start = cur.pos + _padding(cur.pos, self.alignment)
        self.tensors: dict[str, TensorInfo] = {}
        for name, shape, ttype, rel in infos:
            if rel % self.alignment:
                raise ValueError(f"{path}: tensor {name} offset {rel} is not aligned")
            self.tensors[name] = TensorInfo(name, shape, ttype, data_start + rel)

    @staticmethod
    def _read_tensor_info(cur: _Cursor) -> tuple[str, tuple[int, ...], int, int]:
        name = cur.string()
        (n_dims,) = cur.unpack("<I")
        ne = cur.unpack(f"<{n_dims}Q")
        ttype, offset = cur.unpack("<IQ")
        return name, tuple(reversed(ne)), ttype, offset

    def _alignment(self) -> int:
        value = self.kv.get("general.alignment")
        if value is None:
            return DEFAULT_ALIGNMENT
        if value.type != ValueType.UINT32 or value.data <= 0 or value.data & (value.data - 1):
            raise ValueError(f"{self.path}: bad general.alignment {value}")
        return value.data

    def get(self, key: str, default: Any = None) -> Any:
        """A metadata value as plain Python data, or `default` when the key is absent."""
        value = self.kv.get(key)
        return default if value is None else value.plain()

    def tensor(self, name: str) -> np.ndarray:
        """A tensor's values as a float32 numpy array in numpy order."""
        info = self.tensors[name]
        if info.type not in _TENSOR_STORAGE:
            raise ValueError(f"{self.path}: tensor {name} has unsupported type {info.type}")
        storage = _TENSOR_STORAGE[TensorType(info.type)]
        count = int(np.prod(info.shape, dtype=np.int64))
        end = info.offset + count * storage.itemsize
        if end > len(self._map):
            raise ValueError(f"{self.path}: tensor {name} runs past the end of the file")
        raw = self._map[info.offset:end].view(storage).reshape(info.shape)
        if info.type == TensorType.BF16:
            return bf16_bits_to_f32(raw)
        return raw.astype(np.float32)


def read_gguf(path: str) -> GGUFFile:
    return GGUFFile(path)
