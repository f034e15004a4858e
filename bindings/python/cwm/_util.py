"""Shared plumbing of the Python API (cwm._model, _context, _generation, _tools): status checks,
argument conversion, reading C buffers, and the handle base classes.

Lifetimes: every object frees its C handle in close() (also called by `with` and by garbage
collection). A Context or a model's Tokenizer holds a reference to its Model, and closing a
Model only marks it closed (using it then raises ClosedError): the C model is freed once its
last Context and Tokenizer view are closed too. Using any closed object raises ClosedError
instead of passing a dangling handle to C.

Threads: as in cwm.h a Model may be shared by any number of threads; a Context or Sampler must
be used by one thread at a time (a second thread gets RuntimeError instead of corrupting it),
except Context.cancel(), which any thread may call at any time. ctypes releases the GIL during
every C call, so decoding in one thread does not stop other Python threads.
"""

from __future__ import annotations

import contextlib
import ctypes
import enum
import os
import threading
from ctypes import POINTER, byref, c_int32, c_size_t
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple, Union, TYPE_CHECKING

from . import _lib as L
from ._errors import ClosedError, InvalidArgumentError, Status, error_for


try:  # numpy is optional: logits are numpy arrays with it, lists without.
    import numpy as _np
except ImportError:  # pragma: no cover - exercised by monkeypatching _np in the tests
    _np = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import numpy

_lib = L.lib

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
Tokens = Union[Sequence[int], "numpy.ndarray"]
Text = Union[str, bytes]

_INT32_MIN, _INT32_MAX = -(2 ** 31), 2 ** 31 - 1


class LogLevel(enum.IntEnum):
    """cwm_log_level."""

    DEBUG = 0
    INFO = 1
    WARN = 2


class WeightType(enum.IntEnum):
    """cwm_weight_type: what quantize() (the quantized types) and convert_hf() (all) write."""

    F32 = 0
    F16 = 1
    BF16 = 30
    Q4_0 = 2
    Q8_0 = 8
    Q4_K_M = 12


class AttentionLayout(enum.IntEnum):
    """cwm_attention_layout: the local/global attention layout a model runs with."""

    FROM_FILE = 0
    CWM = 1
    GLOBAL = 2


_ATTENTION_NAMES = {"file": AttentionLayout.FROM_FILE, "cwm": AttentionLayout.CWM, "global": AttentionLayout.GLOBAL}


# ---- helpers ------------------------------------------------------------------------------


def _check(status: int) -> None:
    """Raises the Error for a failed call (reads cwm_last_error on this thread, right away)."""
    if status != 0:
        message = _lib.cwm_last_error()
        raise error_for(status, message.decode("utf-8", "replace") if message else "")


def _raise_pending(errors: List[BaseException]) -> None:
    """Re-raises the first exception a Python callback raised inside a C call."""
    if errors:
        first = errors[0]
        errors.clear()
        raise first


def _cstr(value: Union[str, bytes], what: str) -> bytes:
    """A NUL-terminated C string argument; TypeError / InvalidArgumentError for bad values."""
    if isinstance(value, str):
        data = value.encode("utf-8", "surrogateescape")
    elif isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    else:
        raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")
    if b"\0" in data:
        raise InvalidArgumentError(f"{what} contains a NUL character")
    return data


def _path(path: PathLike) -> bytes:
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be str, bytes or os.PathLike, not {type(path).__name__}")
    return _cstr(os.fsencode(path), "path")


def _text_bytes(text: Text) -> bytes:
    """UTF-8 bytes of text given as str (encoded here) or bytes (passed as they are)."""
    if isinstance(text, str):
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidArgumentError(f"text is not valid Unicode: {e}") from None
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError(f"text must be str or bytes, not {type(text).__name__}")


def _token_array(tokens: Tokens) -> Tuple[Any, int, Any]:
    """(pointer to int32 ids, count, object keeping the memory alive)."""
    if _np is not None and isinstance(tokens, _np.ndarray):
        if tokens.ndim != 1 or tokens.dtype.kind not in "iu":
            raise TypeError(f"token ids must be a 1-D integer array, not {tokens.ndim}-D {tokens.dtype}")
        if tokens.size and (tokens.min() < _INT32_MIN or tokens.max() > _INT32_MAX):
            raise InvalidArgumentError("a token id does not fit in 32 bits")
        arr = _np.ascontiguousarray(tokens, dtype=_np.int32)
        return arr.ctypes.data_as(POINTER(c_int32)), int(arr.size), arr
    if isinstance(tokens, (str, bytes)):
        raise TypeError("token ids must be a sequence of ints, not text (tokenize it first)")
    ids = list(tokens)
    for t in ids:
        if not isinstance(t, int) or isinstance(t, bool):
            if _np is not None and isinstance(t, _np.integer):
                continue
            raise TypeError(f"token ids must be ints, not {type(t).__name__}")
        if not _INT32_MIN <= t <= _INT32_MAX:
            raise InvalidArgumentError(f"token id {t} does not fit in 32 bits")
    arr = (c_int32 * len(ids))(*ids)
    return arr, len(ids), arr


def _token(t: int) -> int:
    if not isinstance(t, int) or isinstance(t, bool):
        if _np is not None and isinstance(t, _np.integer):
            t = int(t)
        else:
            raise TypeError(f"a token id must be an int, not {type(t).__name__}")
    if not _INT32_MIN <= t <= _INT32_MAX:
        raise InvalidArgumentError(f"token id {t} does not fit in 32 bits")
    return t


def _read_bytes(fill: Callable[[Any, int, Any], int], guess: int = 256) -> bytes:
    """Runs a buffer-contract call (cwm.h): once with a guess, again with the size it asks for."""
    size = guess
    while True:
        buf = ctypes.create_string_buffer(size)
        n = c_size_t(0)
        status = fill(buf, size, byref(n))
        if status == Status.BUFFER_TOO_SMALL and n.value + 1 > size:
            size = n.value + 1
            continue
        _check(status)
        return buf.raw[:n.value]


def _read_tokens(fill: Callable[[Any, int, Any], int], guess: int) -> List[int]:
    size = max(guess, 1)
    while True:
        buf = (c_int32 * size)()
        n = c_size_t(0)
        status = fill(buf, size, byref(n))
        if status == Status.BUFFER_TOO_SMALL and n.value > size:
            size = n.value
            continue
        _check(status)
        return list(buf[:n.value])


def _callback_result(value: Any) -> int:
    """Python callbacks return False to stop (None or anything else continues): C's nonzero."""
    return 1 if value is False else 0


class _UseLock:
    """One user at a time (cwm.h's rule for contexts and samplers): a second user gets
    RuntimeError instead of waiting or corrupting the object; close() waits for the user,
    except from the using thread itself (a callback closing its own context), which raises."""

    def __init__(self, what: str) -> None:
        self._lock = threading.Lock()
        self._owner: Optional[int] = None
        self._what = what

    def try_acquire(self) -> None:
        if not self._lock.acquire(blocking=False):
            raise RuntimeError(f"the {self._what} is in use by another thread or a running call "
                               "(cwm.h: one thread at a time; only Context.cancel() may be called concurrently)")
        self._owner = threading.get_ident()

    def release(self) -> None:
        self._owner = None
        self._lock.release()

    @contextlib.contextmanager
    def held_for_close(self) -> Iterator[None]:
        if self._owner == threading.get_ident():
            raise RuntimeError(f"cannot close the {self._what} from inside a call that uses it")
        with self._lock:
            yield


class _Closing:
    """close() on leaving a `with` block and on garbage collection (never raising from __del__)."""

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class _Handle(_Closing):
    """An owned C handle: close() frees it, and using it afterwards raises ClosedError."""

    _kind = "object"
    _ptr: Any = None

    def _get(self) -> Any:
        ptr = self._ptr
        if not ptr:
            raise ClosedError(f"the {self._kind} is closed")
        return ptr

    @property
    def closed(self) -> bool:
        return not self._ptr

    def __enter__(self):
        self._get()  # a closed object cannot be entered
        return self


# ---- models -------------------------------------------------------------------------------

def _attention(layout: Union[str, int], sliding_window: int) -> Tuple[int, int]:
    """(cwm_attention_layout, window) from "file" / "cwm" / "global" or an AttentionLayout, and a
    window; the library itself refuses an int outside the enum and a window it cannot use."""
    if isinstance(layout, str):
        try:
            value = int(_ATTENTION_NAMES[layout.lower()])
        except KeyError:
            raise InvalidArgumentError(f"unknown attention layout {layout!r} (one of file, cwm, global)") from None
    elif isinstance(layout, int) and not isinstance(layout, bool):
        value = int(layout)
        if not _INT32_MIN <= value <= _INT32_MAX:
            raise InvalidArgumentError(f"attention layout {value} is not a cwm_attention_layout")
    else:
        raise TypeError("attention must be 'file', 'cwm', 'global' or an AttentionLayout")
    window = _count(sliding_window, "sliding_window")
    if window > 0xFFFFFFFF:
        raise InvalidArgumentError("sliding_window must fit in 32 bits")
    return value, window


def _count(value: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise InvalidArgumentError(f"{name} must not be negative")
    return value
