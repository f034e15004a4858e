"""Streaming generation as an iterator: a worker thread runs cwm_generate and hands each
piece to the consuming loop, which decides whether the next token is sampled."""

from __future__ import annotations

import atexit
import ctypes
import queue
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, Iterator, List, Optional, Tuple

from . import _lib as L
from ._errors import error_for
from ._util import _Closing, _count, _token_array, _lib, Tokens

if TYPE_CHECKING:
    from ._context import Context, Sampler



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


class Generation(_Closing, Iterator[Any]):
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
