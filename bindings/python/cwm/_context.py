"""Contexts and samplers: Context (decode, logits, state, cancel, generate) and Sampler."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import threading
import weakref
from ctypes import POINTER, byref, c_float, c_int32, c_size_t
from typing import Any, Callable, Iterator, List, Optional, Union

from . import _lib as L
from ._errors import InvalidArgumentError, error_for
from ._util import (_INT32_MAX, _INT32_MIN, _count, _np, _check, _raise_pending, _path, _text_bytes,
                    _token_array, _token, _read_tokens, _callback_result, _UseLock, _Handle, _lib, PathLike,
                    Tokens, Text)
from ._model import Model
from ._generation import Generation


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


class _SessionOwner:
    """A context or sampler that trace sessions use: close() closes those sessions first. They
    are held weakly, so a dropped session is still freed by the garbage collector."""

    def _adopt_session(self, session: Any) -> None:
        if getattr(self, "_sessions", None) is None:
            self._sessions: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._sessions.add(session)

    def _close_sessions(self) -> None:
        for session in list(getattr(self, "_sessions", None) or ()):
            session.close()


class Sampler(_SessionOwner, _Handle):
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
        """Frees the sampler, closing the trace sessions that use it first."""
        if not getattr(self, "_ptr", None):
            return
        self._close_sessions()
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


class Context(_SessionOwner, _Handle):
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
        """Stops a suspended generation, closes the trace sessions on the context, waits for a
        running call, frees the context."""
        if not getattr(self, "_ptr", None):
            return
        self._stop_generation()
        self._close_sessions()
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
