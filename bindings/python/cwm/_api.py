"""The Python API over the C ABI: Model, Tokenizer, Context, Sampler, Generation and functions.

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

import atexit
import contextlib
import ctypes
import dataclasses
import enum
import os
import queue
import threading
import weakref
from ctypes import POINTER, byref, c_char_p, c_double, c_float, c_int, c_int32, c_size_t
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union,
                    TYPE_CHECKING)

from . import _lib as L
from ._errors import ClosedError, Error, InvalidArgumentError, Status, error_for

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
    """cwm_weight_type: what quantize() can write."""

    Q4_0 = 2
    Q8_0 = 8
    Q4_K_M = 12


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


class _Handle:
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

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self):
        self._get()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


# ---- models -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """cwm_model_info: the model's architecture and sizes (bos / eos are -1 when absent)."""

    arch: str
    n_vocab: int
    n_ctx_train: int
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    n_local_layers: int
    window: int
    file_bytes: int
    weight_bytes: int
    bos: int
    eos: int


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """One tensor of the file: `shape` in ggml order (shape[0] is the contiguous dimension)."""

    name: str
    type: str
    shape: Tuple[int, ...]
    offset: int
    n_bytes: int


class Metadata(Mapping[str, str]):
    """The model's GGUF metadata, read-only and in file order; values rendered as text."""

    def __init__(self, model: "Model") -> None:
        self._model = model

    def keys_list(self) -> List[str]:
        ptr = self._model._get()
        out = []
        for i in range(_lib.cwm_model_meta_count(ptr)):
            key = c_char_p()
            _check(_lib.cwm_model_meta_key(ptr, i, byref(key)))
            out.append((key.value or b"").decode("utf-8", "replace"))
        return out

    def get_value(self, key: str, max_items: int = 0) -> str:
        """The value of `key`, arrays abbreviated after `max_items` items (0: all)."""
        ptr = self._model._get()
        ckey = _cstr(key, "key")
        data = _read_bytes(lambda buf, size, n: _lib.cwm_model_meta_value(ptr, ckey, max_items, buf, size, n))
        return data.decode("utf-8", "replace")

    def __getitem__(self, key: str) -> str:
        if not isinstance(key, str):
            raise KeyError(key)
        return self.get_value(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys_list())

    def __len__(self) -> int:
        return int(_lib.cwm_model_meta_count(self._model._get()))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.keys_list()

    def __repr__(self) -> str:
        return f"<cwm.Metadata of {len(self)} keys>"


class _Parent(_Handle):
    """A handle that child objects (contexts, tokenizer views) keep alive: close() marks it
    closed at once and frees the C object when the last child is closed."""

    def _init_parent(self) -> None:
        self._closing = False
        self._children: "weakref.WeakSet[_Handle]" = weakref.WeakSet()

    def _get(self) -> Any:
        if self._closing:
            raise ClosedError(f"the {self._kind} is closed")
        return super()._get()

    @property
    def closed(self) -> bool:
        return self._closing or not self._ptr

    def _adopt(self, child: _Handle) -> None:
        self._children.add(child)

    def _release(self, child: _Handle) -> None:
        self._children.discard(child)
        if self._closing:
            self._free_if_unused()

    def _free_if_unused(self) -> None:
        if any(not c.closed for c in list(self._children)):
            return
        ptr, self._ptr = self._ptr, None
        if ptr:
            self._free(ptr)

    def _free(self, ptr: Any) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        """Marks the object closed; frees it now, or when its last child is closed."""
        if getattr(self, "_children", None) is None:  # __init__ failed before _init_parent
            return
        self._closing = True
        self._free_if_unused()


class Model(_Parent):
    """A GGUF model loaded with cwm_model_load (memory-mapped, immutable, thread-safe).

    `progress(fraction)` is called while loading; returning False cancels (CancelledError).
    `log(level, line)` receives what loading and this model's contexts report. An exception
    raised by either is re-raised here after the C call returns (loading is then abandoned).
    """

    _kind = "model"

    def __init__(self, path: PathLike, *, progress: Optional[Callable[[float], Optional[bool]]] = None,
                 log: Optional[Callable[[LogLevel, str], None]] = None) -> None:
        self._init_parent()
        self.path = os.fspath(path)
        self._log_errors: List[BaseException] = []
        cpath = _path(path)
        params = L.cwm_model_params()
        _lib.cwm_model_default_params(byref(params))
        params.size = ctypes.sizeof(L.cwm_model_params)
        errors: List[BaseException] = []
        progress_cb = None
        if progress is not None:
            def on_progress(fraction: float, _user: Any) -> int:
                try:
                    return _callback_result(progress(fraction))
                except BaseException as e:  # never let an exception into C
                    errors.append(e)
                    return 1
            progress_cb = L.progress_fn(on_progress)
            params.progress = progress_cb
        # The log callback lives as long as the model: contexts created later log through it.
        self._log_cb = None
        if log is not None:
            log_errors = self._log_errors

            def on_log(level: int, message: Optional[bytes], _user: Any) -> None:
                try:
                    try:
                        lvl: Any = LogLevel(level)
                    except ValueError:
                        lvl = level
                    log(lvl, (message or b"").decode("utf-8", "replace"))
                except BaseException as e:
                    log_errors.append(e)
            self._log_cb = L.log_fn(on_log)
            params.log = self._log_cb
        raw = L.model_p()
        status = _lib.cwm_model_load(cpath, byref(params), byref(raw))
        del progress_cb
        if status == 0:
            self._ptr = raw
        pending = errors + self._log_errors
        self._log_errors.clear()
        if pending:
            self.close()
            if status != 0:
                try:
                    _check(status)
                except Error as c_error:
                    raise pending[0] from c_error
            raise pending[0]
        _check(status)

    def _free(self, ptr: Any) -> None:
        _lib.cwm_model_free(ptr)

    def __repr__(self) -> str:
        return f"<cwm.Model {self.path!r}{' (closed)' if self.closed else ''}>"

    @property
    def info(self) -> ModelInfo:
        """The model's architecture and sizes (cwm_model_get_info)."""
        raw = L.cwm_model_info()
        raw.size = ctypes.sizeof(L.cwm_model_info)
        _check(_lib.cwm_model_get_info(self._get(), byref(raw)))
        values: Dict[str, Any] = {f.name: getattr(raw, f.name) for f in dataclasses.fields(ModelInfo)}
        values["arch"] = (raw.arch or b"").decode("utf-8", "replace")
        return ModelInfo(**values)

    def layer_is_local(self, layer: int) -> bool:
        """Whether layer `layer` uses sliding-window attention (InvalidArgumentError past the last)."""
        local = c_int(0)
        _check(_lib.cwm_model_layer_is_local(self._get(), layer, byref(local)))
        return bool(local.value)

    @property
    def metadata(self) -> Metadata:
        """The GGUF metadata as a read-only mapping of key -> value text."""
        self._get()
        return Metadata(self)

    def tensors(self) -> List[TensorInfo]:
        """Every tensor of the file, in file order."""
        ptr = self._get()
        out = []
        for i in range(_lib.cwm_model_tensor_count(ptr)):
            t = L.cwm_tensor_info()
            t.size = ctypes.sizeof(L.cwm_tensor_info)
            _check(_lib.cwm_model_tensor_info(ptr, i, byref(t)))
            out.append(TensorInfo((t.name or b"").decode(), (t.type or b"").decode(), tuple(t.ne[:t.n_dims]),
                                  t.offset, t.n_bytes))
        return out

    @property
    def chat_template(self) -> str:
        """The file's own chat template (usually Jinja); "" when it has none."""
        ptr = self._get()
        return _read_bytes(lambda buf, size, n: _lib.cwm_model_chat_template(ptr, buf, size, n)).decode(
            "utf-8", "replace")

    @property
    def tokenizer(self) -> "Tokenizer":
        """The model's own tokenizer (a view that keeps the model alive)."""
        return Tokenizer._view(self)

    def tokenize(self, text: Text, add_bos: bool = True, parse_special: bool = False) -> List[int]:
        """Token ids of UTF-8 text (str, or bytes passed as they are; invalid UTF-8 raises
        InvalidArgumentError). `add_bos` prepends BOS when the vocabulary asks for it;
        `parse_special` turns special-token texts such as "<|eot_id|>" into their ids."""
        ptr = self._get()
        data = _text_bytes(text)
        return _read_tokens(lambda buf, size, n: _lib.cwm_tokenize(ptr, data, len(data), int(bool(add_bos)),
                                                                    int(bool(parse_special)), buf, size, n),
                            len(data) + 2)

    def detokenize(self, tokens: Tokens, render_special: bool = False) -> str:
        """The text of a token sequence (incomplete or invalid UTF-8 becomes U+FFFD)."""
        ptr = self._get()
        arr, count, _keep = _token_array(tokens)
        return _read_bytes(lambda buf, size, n: _lib.cwm_detokenize(ptr, arr, count, int(bool(render_special)), buf,
                                                                     size, n)).decode("utf-8", "replace")

    def token_to_bytes(self, token: int, render_special: bool = False) -> bytes:
        """The bytes of one token (possibly part of a UTF-8 character)."""
        ptr = self._get()
        t = _token(token)
        return _read_bytes(lambda buf, size, n: _lib.cwm_token_to_bytes(ptr, t, int(bool(render_special)), buf, size,
                                                                         n), 64)

    def is_stop(self, token: int) -> bool:
        """Whether `token` ends generation (end of text, end of turn, ...)."""
        return bool(_lib.cwm_token_is_stop(self._get(), _token(token)))


class Tokenizer(_Handle):
    """A tokenizer: Tokenizer(path) loads one on its own (GGUF, tokenizer.json, tiktoken or
    SentencePiece, chosen by content); Model.tokenizer gives a model's (a view)."""

    _kind = "tokenizer"

    def __init__(self, path: PathLike) -> None:
        self._model: Optional[Model] = None
        cpath = _path(path)
        raw = L.tokenizer_p()
        _check(_lib.cwm_tokenizer_load(cpath, byref(raw)))
        self._ptr = raw

    @classmethod
    def _view(cls, model: Model) -> "Tokenizer":
        obj = cls.__new__(cls)
        obj._model = model
        ptr = _lib.cwm_model_get_tokenizer(model._get())
        if not ptr:  # pragma: no cover - only for a NULL model
            raise ClosedError("the model is closed")
        obj._ptr = ptr
        model._adopt(obj)
        return obj

    def close(self) -> None:
        """Frees a loaded tokenizer; for a model's view, releases the model."""
        ptr, self._ptr = self._ptr, None
        model = getattr(self, "_model", None)
        if model is not None:
            model._release(self)
        elif ptr:
            _lib.cwm_tokenizer_free(ptr)

    def __repr__(self) -> str:
        return f"<cwm.Tokenizer{' of a model' if self._model is not None else ''}{' (closed)' if self.closed else ''}>"

    @property
    def n_vocab(self) -> int:
        return int(_lib.cwm_tokenizer_n_vocab(self._get()))

    @property
    def bos(self) -> int:
        """BOS id, -1 when the vocabulary has none."""
        return int(_lib.cwm_tokenizer_bos(self._get()))

    @property
    def eos(self) -> int:
        """EOS id, -1 when the vocabulary has none."""
        return int(_lib.cwm_tokenizer_eos(self._get()))

    def find(self, name: str) -> int:
        """The id of the token whose text is exactly `name`, e.g. "<|eot_id|>"
        (NotFoundError, a KeyError, when there is none)."""
        ptr = self._get()
        out = c_int32(-1)
        _check(_lib.cwm_tokenizer_find(ptr, _cstr(name, "token text"), byref(out)))
        return int(out.value)

    def encode(self, text: Text, add_bos: bool = True, parse_special: bool = False) -> List[int]:
        """Token ids of UTF-8 text (see Model.tokenize)."""
        ptr = self._get()
        data = _text_bytes(text)
        return _read_tokens(lambda buf, size, n: _lib.cwm_tokenizer_encode(ptr, data, len(data), int(bool(add_bos)),
                                                                            int(bool(parse_special)), buf, size, n),
                            len(data) + 2)

    def decode(self, tokens: Tokens, render_special: bool = False) -> str:
        """The text of a token sequence (incomplete or invalid UTF-8 becomes U+FFFD)."""
        ptr = self._get()
        arr, count, _keep = _token_array(tokens)
        return _read_bytes(lambda buf, size, n: _lib.cwm_tokenizer_decode(ptr, arr, count, int(bool(render_special)),
                                                                           buf, size, n)).decode("utf-8", "replace")

    def token_to_bytes(self, token: int, render_special: bool = False) -> bytes:
        """The bytes of one token (possibly part of a UTF-8 character)."""
        ptr = self._get()
        t = _token(token)
        return _read_bytes(lambda buf, size, n: _lib.cwm_tokenizer_token_to_bytes(ptr, t, int(bool(render_special)),
                                                                                   buf, size, n), 64)

    def is_stop(self, token: int) -> bool:
        return bool(_lib.cwm_tokenizer_is_stop(self._get(), _token(token)))


# ---- sampling -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SamplerParams:
    """cwm_sampler_params: temperature <= 0 is greedy; top_k 0, top_p 1, min_p 0 and
    repeat_penalty 1 are off."""

    temperature: float
    top_k: int
    top_p: float
    min_p: float
    repeat_penalty: float
    repeat_last_n: int
    seed: int


class Sampler(_Handle):
    """A token sampler; parameters not given keep the library's defaults
    (cwm_sampler_default_params). Use by one thread at a time."""

    _kind = "sampler"

    def __init__(self, *, temperature: Optional[float] = None, top_k: Optional[int] = None,
                 top_p: Optional[float] = None, min_p: Optional[float] = None,
                 repeat_penalty: Optional[float] = None, repeat_last_n: Optional[int] = None,
                 seed: Optional[int] = None) -> None:
        self._busy = _UseLock("sampler")
        params = L.cwm_sampler_params()
        _lib.cwm_sampler_default_params(byref(params))
        params.size = ctypes.sizeof(L.cwm_sampler_params)
        given = dict(temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p, repeat_penalty=repeat_penalty,
                     repeat_last_n=repeat_last_n, seed=seed)
        for name, value in given.items():
            if value is None:
                continue
            if name in ("top_k", "repeat_last_n", "seed"):
                if not isinstance(value, int) or isinstance(value, bool):
                    raise TypeError(f"{name} must be an int, not {type(value).__name__}")
                if name == "seed" and not 0 <= value < 2 ** 64:
                    raise InvalidArgumentError("seed must be in [0, 2**64)")
                if name != "seed" and not _INT32_MIN <= value <= _INT32_MAX:
                    raise InvalidArgumentError(f"{name} does not fit in 32 bits")
            elif not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError(f"{name} must be a number, not {type(value).__name__}")
            setattr(params, name, value)
        raw = L.sampler_p()
        _check(_lib.cwm_sampler_new(byref(params), byref(raw)))
        self._ptr = raw
        self.params = SamplerParams(**{f.name: getattr(params, f.name) for f in dataclasses.fields(SamplerParams)})

    def close(self) -> None:
        if not getattr(self, "_ptr", None):
            return
        with self._busy.held_for_close():
            ptr, self._ptr = self._ptr, None
            if ptr:
                _lib.cwm_sampler_free(ptr)

    def __repr__(self) -> str:
        return f"<cwm.Sampler {self.params}>" if hasattr(self, "params") else "<cwm.Sampler>"

    @contextlib.contextmanager
    def _use(self) -> Iterator[Any]:
        self._get()
        self._busy.try_acquire()
        try:
            yield self._get()
        finally:
            self._busy.release()

    def sample(self, logits: Any) -> int:
        """A token id drawn from a row of logits (a sequence or array of n_vocab floats)."""
        if _np is not None and isinstance(logits, _np.ndarray):
            arr = _np.ascontiguousarray(logits, dtype=_np.float32)
            if arr.ndim != 1:
                raise TypeError("logits must be 1-D")
            ptr, n, keep = arr.ctypes.data_as(POINTER(c_float)), int(arr.size), arr
        else:
            values = list(logits)
            keep = (c_float * len(values))(*values)
            ptr, n = keep, len(values)
        out = c_int32(-1)
        with self._use() as s:
            _check(_lib.cwm_sampler_sample(s, ptr, n, byref(out)))
        del keep
        return int(out.value)

    def accept(self, token: int) -> None:
        """Adds a token to the history the repetition penalty looks at."""
        with self._use() as s:
            _check(_lib.cwm_sampler_accept(s, _token(token)))


# ---- contexts -----------------------------------------------------------------------------


class Context(_Handle):
    """A context on a model: its KV cache, evaluated tokens and last logits.

    Keyword arguments left out keep cwm_context_default_params: n_ctx 0 is the model's training
    context, n_threads 0 one per physical core, n_batch 512 tokens per forward pass.
    """

    _kind = "context"

    def __init__(self, model: Model, *, n_ctx: Optional[int] = None, n_threads: Optional[int] = None,
                 n_batch: Optional[int] = None) -> None:
        if not isinstance(model, Model):
            raise TypeError(f"model must be a cwm.Model, not {type(model).__name__}")
        self._busy = _UseLock("context")    # one user at a time (cwm.h)
        self._free_lock = threading.Lock()  # cancel() against close()
        self._generation: Optional["weakref.ref[Generation]"] = None
        self._n_logits = 0
        self._model = model
        mptr = model._get()
        params = L.cwm_context_params()
        _lib.cwm_context_default_params(byref(params))
        params.size = ctypes.sizeof(L.cwm_context_params)
        for name, value in (("n_ctx", n_ctx), ("n_threads", n_threads), ("n_batch", n_batch)):
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            if not (0 if name != "n_threads" else _INT32_MIN) <= value <= 2 ** 31 - 1:
                raise InvalidArgumentError(f"{name} = {value} is out of range")
            setattr(params, name, value)
        self._n_vocab = model.info.n_vocab
        raw = L.context_p()
        status = _lib.cwm_context_new(mptr, byref(params), byref(raw))
        if status == 0:
            self._ptr = raw
            model._adopt(self)
        try:
            _raise_pending(model._log_errors)
        except BaseException:
            self.close()
            raise
        _check(status)

    def close(self) -> None:
        """Stops a suspended generation, waits for a running call, frees the context."""
        if not getattr(self, "_ptr", None):
            return
        self._stop_generation()
        with self._busy.held_for_close(), self._free_lock:
            ptr, self._ptr = self._ptr, None
            if ptr:
                _lib.cwm_context_free(ptr)
        self._model._release(self)

    def __repr__(self) -> str:  # no C calls: repr must not wait for or stop a running call
        return f"<cwm.Context on {self._model.path!r}{' (closed)' if self.closed else ''}>"

    @property
    def model(self) -> Model:
        return self._model

    def _stop_generation(self) -> None:
        gen = self._generation() if self._generation is not None else None
        if gen is not None:
            gen.close()
        self._generation = None

    @contextlib.contextmanager
    def _use(self) -> Iterator[Any]:
        self._get()
        self._stop_generation()
        self._busy.try_acquire()
        try:
            yield self._get()
        finally:
            self._busy.release()
        _raise_pending(self._model._log_errors)

    # -- state queries

    @property
    def n_past(self) -> int:
        """How many tokens are evaluated."""
        with self._use() as c:
            return int(_lib.cwm_context_n_past(c))

    @property
    def n_ctx(self) -> int:
        """How many tokens the context holds."""
        with self._use() as c:
            return int(_lib.cwm_context_n_ctx(c))

    @property
    def n_threads(self) -> int:
        """Threads the context computes with (including the calling thread)."""
        with self._use() as c:
            return int(_lib.cwm_context_n_threads(c))

    @property
    def max_rewind(self) -> int:
        """How many tokens truncate() can take back now."""
        with self._use() as c:
            return int(_lib.cwm_context_max_rewind(c))

    @property
    def tokens(self) -> List[int]:
        """The evaluated tokens."""
        with self._use() as c:
            n = int(_lib.cwm_context_n_past(c))
            return _read_tokens(lambda buf, size, out: _lib.cwm_context_tokens(c, buf, size, out), n)

    # -- evaluation

    def decode(self, tokens: Tokens, n_logits: int = 1) -> None:
        """Evaluates `tokens` after those already evaluated and keeps the logits of the last
        `n_logits` of them (logits(i), i < n_logits). ContextFullError when they do not fit,
        InvalidArgumentError for an id outside the vocabulary: the evaluated tokens are then
        unchanged, but the previous logits are gone. CancelledError after cancel() from
        another thread (whole batches already evaluated stay)."""
        arr, count, _keep = _token_array(tokens)
        with self._use() as c:
            self._n_logits = 0
            _check(_lib.cwm_decode(c, arr, count, n_logits))
            self._n_logits = n_logits

    def _logits_ptr(self, c: Any, i: int) -> Any:
        p = POINTER(c_float)()
        _check(_lib.cwm_get_logits(c, i, byref(p)))
        return p

    def logits(self, i: int = 0, copy: bool = True) -> Any:
        """Logits (n_vocab floats) of the i-th of the last decode's n_logits rows.

        A numpy float32 array when numpy is importable, else a list. copy=False gives a
        read-only numpy view of the library's memory instead: valid only until the next
        decode / generate / truncate / clear / load_state / close of this context."""
        with self._use() as c:
            p = self._logits_ptr(c, i)
            if _np is None:
                return p[:self._n_vocab]
            view = _np.ctypeslib.as_array(p, shape=(self._n_vocab,))
            if copy:
                return view.copy()
            view.flags.writeable = False
            return view

    def logits_all(self) -> Any:
        """Every row the last decode kept: an (n_logits, n_vocab) array (list of lists without numpy)."""
        with self._use() as c:
            rows = [self._logits_ptr(c, i) for i in range(self._n_logits)]
            if _np is None:
                return [r[:self._n_vocab] for r in rows]
            out = _np.empty((len(rows), self._n_vocab), dtype=_np.float32)
            for k, r in enumerate(rows):
                out[k] = _np.ctypeslib.as_array(r, shape=(self._n_vocab,))
            return out

    def clear(self) -> None:
        """Forgets every evaluated token."""
        with self._use() as c:
            _lib.cwm_context_clear(c)
            self._n_logits = 0

    def truncate(self, n_past: int) -> None:
        """Keeps only the first `n_past` evaluated tokens (at most max_rewind back, else
        InvalidArgumentError); drops the last logits."""
        if not isinstance(n_past, int) or isinstance(n_past, bool):
            raise TypeError("n_past must be an int")
        if not 0 <= n_past < 2 ** 32:
            raise InvalidArgumentError(f"n_past = {n_past} is out of range")
        with self._use() as c:
            _check(_lib.cwm_context_truncate(c, n_past))
            self._n_logits = 0

    def cancel(self) -> None:
        """Makes the decode or generation running on this context in another thread stop with
        CancelledError. Safe from any thread at any time; no effect when nothing runs."""
        with self._free_lock:
            if self._ptr:
                _lib.cwm_context_cancel(self._ptr)

    # -- state

    def save_state(self) -> bytes:
        """The context's state (tokens, KV cache, last logits) as a checksummed blob."""
        with self._use() as c:
            size = c_size_t(0)
            _check(_lib.cwm_context_state_size(c, byref(size)))
            buf = ctypes.create_string_buffer(max(size.value, 1))
            n = c_size_t(0)
            _check(_lib.cwm_context_state_save(c, buf, size.value, byref(n)))
            return buf.raw[:n.value]

    def load_state(self, state: Union[bytes, bytearray, memoryview]) -> None:
        """Restores a saved state; the context then continues exactly as the saved one would.
        InvalidFileError for a damaged blob, InvalidArgumentError for another model's,
        ContextFullError when it does not fit; the context is then unchanged."""
        if not isinstance(state, (bytes, bytearray, memoryview)):
            raise TypeError(f"state must be bytes-like, not {type(state).__name__}")
        data = bytes(state)
        with self._use() as c:
            _check(_lib.cwm_context_state_load(c, data, len(data)))
            self._n_logits = 1

    def save_state_file(self, path: PathLike) -> None:
        """Writes the state to a file atomically (FileError when it cannot be written)."""
        cpath = _path(path)
        with self._use() as c:
            _check(_lib.cwm_context_state_save_file(c, cpath))

    def load_state_file(self, path: PathLike) -> None:
        """Restores a state from a file (FileError when it cannot be read)."""
        cpath = _path(path)
        with self._use() as c:
            _check(_lib.cwm_context_state_load_file(c, cpath))
            self._n_logits = 1

    # -- generation

    def _prompt(self, prompt: Union[None, Text, Tokens], add_bos: Optional[bool], parse_special: bool) -> Tokens:
        if prompt is None:
            return []
        if isinstance(prompt, (str, bytes)):
            if add_bos is None:
                add_bos = self.n_past == 0
            return self._model_tokenize(prompt, add_bos, parse_special)
        return prompt

    def _model_tokenize(self, text: Text, add_bos: bool, parse_special: bool) -> List[int]:
        # Through the model's pointer directly: the Model object may be closed while its
        # context (which keeps the C model alive) is still in use.
        mptr = self._model._ptr
        data = _text_bytes(text)
        return _read_tokens(lambda buf, size, n: _lib.cwm_tokenize(mptr, data, len(data), int(bool(add_bos)),
                                                                    int(bool(parse_special)), buf, size, n),
                            len(data) + 2)

    def generate(self, prompt: Union[None, Text, Tokens] = None, max_tokens: int = 256,
                 sampler: Optional[Sampler] = None, *, add_bos: Optional[bool] = None, parse_special: bool = False,
                 with_tokens: bool = False) -> "Generation":
        """Evaluates `prompt` (text, token ids, or None to continue from the last logits), then
        samples up to `max_tokens` tokens (greedy without a sampler), stopping at a stop token.

        Returns an iterator of text pieces in whole UTF-8 characters (str), or of
        (text, token) pairs with with_tokens=True (then also the pieces whose token completes
        no character yet, with text ""). Nothing runs until the first next(); leaving the loop
        (break, an exception, close(), or dropping the iterator) stops the generation before
        another token is sampled. Errors (ContextFullError for a prompt that does not fit,
        CancelledError after cancel()) are raised by the iterator. Text prompts are tokenized
        with BOS when the context is empty (add_bos=None) and special-token texts kept as text
        unless parse_special (use parse_special=True for render_chat() output).
        """
        tokens = self._prompt(prompt, add_bos, parse_special)
        return Generation(self, tokens, max_tokens, sampler, with_tokens)

    def stream(self, prompt: Union[None, Text, Tokens], on_text: Callable[[str, int], Optional[bool]],
               max_tokens: int = 256, sampler: Optional[Sampler] = None, *, add_bos: Optional[bool] = None,
               parse_special: bool = False) -> str:
        """generate() with a callback: on_text(text, token) for every sampled token, in this
        thread; returning False stops. An exception raised by on_text stops the generation and
        is re-raised here. Returns all the text streamed."""
        tokens = self._prompt(prompt, add_bos, parse_special)
        arr, count, _keep = _token_array(tokens)
        max_tokens = _count(max_tokens, "max_tokens")
        errors: List[BaseException] = []
        pieces: List[str] = []

        def on_piece(text: Any, length: int, token: int, _user: Any) -> int:
            try:
                piece = ctypes.string_at(text, length).decode("utf-8", "replace") if length else ""
                pieces.append(piece)
                return _callback_result(on_text(piece, token))
            except BaseException as e:
                errors.append(e)
                return 1

        cb = L.stream_fn(on_piece)
        with contextlib.ExitStack() as stack:
            c = stack.enter_context(self._use())
            s = stack.enter_context(sampler._use()) if sampler is not None else None
            self._n_logits = 0
            status = _lib.cwm_generate(c, s, arr, count, max_tokens, cb, None)
            if status == 0:
                self._n_logits = 1
            message = _lib.cwm_last_error() if status != 0 else b""
        _raise_pending(errors)
        if status != 0:
            raise error_for(status, message.decode("utf-8", "replace"))
        return "".join(pieces)


def _count(value: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise InvalidArgumentError(f"{name} must not be negative")
    return value


class _GenShared:
    """What the worker thread shares with its Generation (the worker holds no reference to the
    Generation itself, so dropping the iterator lets it be collected and closed)."""

    def __init__(self) -> None:
        self.queue: "queue.SimpleQueue[Tuple[str, Any, Any]]" = queue.SimpleQueue()
        self.go = threading.Semaphore(0)
        self.stop = False


_live_generations: "weakref.WeakSet[Generation]" = weakref.WeakSet()


@atexit.register
def _close_generations() -> None:  # pragma: no cover - interpreter exit
    for gen in list(_live_generations):
        try:
            gen.close()
        except Exception:
            pass


class Generation(Iterator[Any]):
    """The iterator Context.generate returns.

    Why a worker thread: cwm_generate streams from inside one C call, so a Python `for` loop can
    only consume it lazily if that call runs elsewhere. A worker thread runs cwm_generate; its
    stream callback hands each piece to the consumer through a queue and then waits until the
    consumer asks for the next one, returning nonzero (stop) when the consumer has gone away.
    So generation never runs ahead of the loop, `break` stops it before another token is
    sampled, and the library's own UTF-8 assembly, sampler history and stop handling apply to
    the whole generation. (Calling cwm_generate with max_tokens=1 in a loop instead would split
    a multi-byte character across calls and flush it as U+FFFD, and would also evaluate each
    token before the loop decided whether it wants more.)

    The context is busy while the iterator is unfinished: any other use of the context first
    stops the generation. `tokens` and `text` hold what was consumed so far. After a stop
    before the end, the last yielded token may not be evaluated (Context.tokens tells), as
    cwm_generate documents.
    """

    def __init__(self, ctx: Context, prompt: Tokens, max_tokens: int, sampler: Optional[Sampler],
                 with_tokens: bool) -> None:
        self._ctx: Optional[Context] = ctx
        self._arr, self._count, self._keep = _token_array(prompt)
        self._max_tokens = _count(max_tokens, "max_tokens")
        self._sampler = sampler
        if sampler is not None:
            sampler._get()
        self._with_tokens = with_tokens
        self._shared = _GenShared()
        self._state = "new"  # new -> running -> done
        self._thread: Optional[threading.Thread] = None
        self._lock = threading.Lock()
        self.tokens: List[int] = []
        self.text = ""
        ctx._get()

    def __iter__(self) -> "Generation":
        return self

    def _start(self) -> None:
        ctx = self._ctx
        assert ctx is not None
        ctx._stop_generation()
        cptr = ctx._get()
        ctx._busy.try_acquire()
        sptr = None
        if self._sampler is not None:
            try:
                sptr = self._sampler._get()
                self._sampler._busy.try_acquire()
            except BaseException:
                ctx._busy.release()
                raise
        ctx._generation = weakref.ref(self)
        ctx._n_logits = 0
        sampler_lock = self._sampler._busy if self._sampler is not None else None

        def release(ok: bool) -> None:
            if ok:
                ctx._n_logits = 1
            if sampler_lock is not None:
                sampler_lock.release()
            ctx._busy.release()

        self._thread = threading.Thread(target=_generate_worker, name="cwm-generate", daemon=True,
                                        args=(self._shared, cptr, sptr, self._arr, self._count, self._max_tokens,
                                              release, ctx, self._sampler))
        self._state = "running"
        _live_generations.add(self)
        self._thread.start()

    def _finish(self) -> None:
        if self._thread is not None:
            self._thread.join()
        self._state = "done"
        _live_generations.discard(self)
        self._ctx = None
        self._sampler = None
        self._keep = None

    def __next__(self) -> Any:
        with self._lock:
            while True:
                if self._state == "done":
                    raise StopIteration
                if self._state == "new":
                    self._start()
                else:
                    self._shared.go.release()
                kind, a, b = self._shared.queue.get()
                if kind == "piece":
                    text, token = a, b
                    if token >= 0:
                        self.tokens.append(token)
                    self.text += text
                    if self._with_tokens:
                        return text, token
                    if text:
                        return text
                    continue
                self._finish()
                if a is not None:
                    raise a
                raise StopIteration

    def close(self) -> None:
        """Stops the generation (before another token is sampled) and waits for the worker."""
        with self._lock:
            if self._state == "running":
                self._shared.stop = True
                while True:
                    self._shared.go.release()
                    kind, _a, _b = self._shared.queue.get()
                    if kind == "done":
                        break
                self._finish()
            elif self._state == "new":
                self._finish()

    def __enter__(self) -> "Generation":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def _generate_worker(shared: _GenShared, cptr: Any, sptr: Any, arr: Any, count: int, max_tokens: int,
                     release: Callable[[bool], None], _ctx: Context, _sampler: Optional[Sampler]) -> None:
    """Runs cwm_generate; _ctx and _sampler only keep the Python objects alive meanwhile."""

    def on_piece(text: Any, length: int, token: int, _user: Any) -> int:
        try:
            piece = ctypes.string_at(text, length).decode("utf-8", "replace") if length else ""
            shared.queue.put(("piece", piece, token))
            shared.go.acquire()
            return 1 if shared.stop else 0
        except BaseException:  # never let an exception into C
            return 1

    cb = L.stream_fn(on_piece)
    error: Optional[BaseException] = None
    ok = False
    try:
        status = _lib.cwm_generate(cptr, sptr, arr, count, max_tokens, cb, None)
        if status != 0:
            message = _lib.cwm_last_error()  # on this thread, where the call failed
            error = error_for(status, message.decode("utf-8", "replace") if message else "")
        ok = status == 0
    except BaseException as e:  # pragma: no cover - ctypes argument errors
        error = e
    finally:
        release(ok)
    shared.queue.put(("done", error, None))


# ---- functions ----------------------------------------------------------------------------


ChatMessage = Union[Mapping[str, str], Tuple[str, str], Any]


def render_chat(messages: Iterable[ChatMessage], reasoning: bool = False, add_generation_prompt: bool = True) -> str:
    """The messages in CWM's chat format (cwm_chat_render; docs/chat.md).

    Messages are dicts {"role": ..., "content": ...}, (role, content) tuples or objects with
    `role` and `content` attributes; roles are "system", "user", "assistant" or "tool: NAME".
    Tokenize the result with parse_special=True. InvalidArgumentError names the offending
    message (unknown role, late system message, invalid UTF-8, a header token in a body)."""
    pairs: List[Tuple[bytes, bytes]] = []
    for i, m in enumerate(messages):
        if isinstance(m, Mapping):
            try:
                role, content = m["role"], m["content"]
            except KeyError as e:
                raise InvalidArgumentError(f"message {i} has no {e.args[0]!r}") from None
        elif isinstance(m, (tuple, list)) and len(m) == 2:
            role, content = m
        elif hasattr(m, "role") and hasattr(m, "content"):
            role, content = m.role, m.content
        else:
            raise TypeError(f"message {i} must be a dict with role and content, or a (role, content) pair")
        pairs.append((_cstr(role, f"message {i}'s role"), _cstr(content, f"message {i}'s content")))
    raw = (L.cwm_chat_message * max(len(pairs), 1))()
    for i, (role_b, content_b) in enumerate(pairs):
        raw[i].role = role_b
        raw[i].content = content_b
    params = L.cwm_chat_params()
    _lib.cwm_chat_default_params(byref(params))
    params.size = ctypes.sizeof(L.cwm_chat_params)
    params.reasoning = int(bool(reasoning))
    params.add_generation_prompt = int(bool(add_generation_prompt))
    data = _read_bytes(lambda buf, size, n: _lib.cwm_chat_render(raw, len(pairs), byref(params), buf, size, n), 1024)
    return data.decode("utf-8", "replace")


_WEIGHT_TYPES = {"q8_0": WeightType.Q8_0, "q4_0": WeightType.Q4_0, "q4_k_m": WeightType.Q4_K_M}


def quantize(input: PathLike, output: PathLike, type: Union[str, WeightType] = "q8_0", *, n_threads: int = 0,
             progress: Optional[Callable[[int, int, int, int], Optional[bool]]] = None) -> None:
    """Writes a copy of a GGUF model with its 2-D weights quantized to `type` ("q8_0",
    "q4_0" or "q4_k_m"). progress(tensors_done, n_tensors, bytes_done, bytes_total) is called
    after each tensor; returning False cancels (CancelledError), raising cancels and re-raises.
    The output appears only when complete: no file is left on failure or cancellation."""
    if isinstance(type, str):
        try:
            wtype = int(_WEIGHT_TYPES[type.lower()])
        except KeyError:
            raise InvalidArgumentError(f"unknown weight type {type!r} (one of {', '.join(_WEIGHT_TYPES)})") from None
    elif isinstance(type, int) and not isinstance(type, bool):
        wtype = int(type)
    else:
        raise TypeError("type must be a str such as 'q8_0' or a WeightType")
    cin, cout = _path(input), _path(output)
    params = L.cwm_quantize_params()
    _lib.cwm_quantize_default_params(byref(params))
    params.size = ctypes.sizeof(L.cwm_quantize_params)
    params.type = wtype
    params.n_threads = _count(n_threads, "n_threads")
    errors: List[BaseException] = []
    cb = None
    if progress is not None:
        def on_progress(done: int, count: int, bytes_done: int, bytes_total: int, _user: Any) -> int:
            try:
                return _callback_result(progress(done, count, bytes_done, bytes_total))
            except BaseException as e:
                errors.append(e)
                return 1
        cb = L.quantize_progress_fn(on_progress)
        params.progress = cb
    status = _lib.cwm_quantize(cin, cout, byref(params))
    message = _lib.cwm_last_error() if status != 0 else b""
    if errors:
        if status != 0:
            raise errors[0] from error_for(status, message.decode("utf-8", "replace"))
        raise errors[0]
    if status != 0:
        raise error_for(status, message.decode("utf-8", "replace"))


def measure_read_bandwidth(bytes: int = 0, n_threads: int = 0, repeats: int = 0) -> float:
    """This machine's memory read bandwidth in GB/s (cwm_measure_read_bandwidth: a buffer of
    `bytes`, 0 = 1 GiB, at least 1 MiB; 0 threads = one per physical core; 0 repeats = 5)."""
    out = c_double(0.0)
    _check(_lib.cwm_measure_read_bandwidth(_count(bytes, "bytes"), _count(n_threads, "n_threads"),
                                           _count(repeats, "repeats"), byref(out)))
    return float(out.value)


def version() -> str:
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _lib.cwm_version().decode()


def abi_version() -> int:
    """The library's CWM_ABI_VERSION (checked against the bindings' at import)."""
    return int(_lib.cwm_abi_version())


def status_name(status: int) -> str:
    """The C name of a status, e.g. "CWM_ERR_IO" (cwm_status_name)."""
    return _lib.cwm_status_name(int(status)).decode()


def library_path() -> str:
    """Where the loaded libcwm came from."""
    return L.path
