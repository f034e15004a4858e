"""Models and tokenizers: Model, its Metadata / ModelInfo / TensorInfo, and Tokenizer."""

from __future__ import annotations

import ctypes
import dataclasses
import os
import weakref
from ctypes import byref, c_char_p, c_int, c_int32
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from . import _lib as L
from ._errors import ClosedError, Error
from ._util import (LogLevel, _attention, _check, _cstr, _path, _text_bytes, _token_array, _token, _read_bytes,
                    _read_tokens, _callback_result, _Handle, _lib, PathLike, Tokens, Text)


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
    `attention` is the local/global layout to run with: "file" (what the file says), "cwm"
    (CWM's pattern, e.g. for a community llama-architecture file of CWM; `sliding_window` 0 is
    CWM's 8192) or "global" (every layer); `info` and `layer_is_local` then report it.
    """

    _kind = "model"

    def __init__(self, path: PathLike, *, progress: Optional[Callable[[float], Optional[bool]]] = None,
                 log: Optional[Callable[[LogLevel, str], None]] = None, attention: Union[str, int] = "file",
                 sliding_window: int = 0) -> None:
        self._init_parent()
        self.path = os.fspath(path)
        self._log_errors: List[BaseException] = []
        cpath = _path(path)
        params = L.cwm_model_params()
        _lib.cwm_model_default_params(byref(params))
        params.size = ctypes.sizeof(L.cwm_model_params)
        params.attention, params.sliding_window = _attention(attention, sliding_window)
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
