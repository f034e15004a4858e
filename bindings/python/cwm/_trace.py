"""Execution traces: TraceSession (a model's prediction of how a program runs, stepped like a
debugger), trace_prompt and compare_traces (docs/traces.md)."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import enum
import json
from ctypes import byref, c_char_p, c_int, c_size_t
from typing import Any, Dict, Iterator, List, Optional, Tuple

from . import _lib as L
from ._errors import InvalidArgumentError
from ._util import _check, _cstr, _count, _lib, _read_bytes, _text_bytes, _Handle, Text
from ._context import Context, Sampler

_EVENTS = ("call", "line", "return", "exception")


class Measure(enum.IntFlag):
    """What TraceSession.evaluate measures (cwm_trace_measure)."""

    FREE_RUNNING = 1  # the whole trace predicted greedily from the prompt
    NEXT_FRAME = 2    # each frame predicted after the actual ones before it (teacher forcing)
    RESULT = 4        # the return value predicted from the actual call frame
    ALL = 7


@dataclasses.dataclass(frozen=True)
class TraceFrame:
    """One frame: its event ("call", "line", "return", "exception"), source line (with its
    newline) and 1-based number (0: not in the source), locals as written ("..": unchanged) and
    resolved, and the return / exception value's repr."""

    event: str
    line: str
    line_number: int
    locals: Dict[str, str]
    resolved: Dict[str, str]
    value: Optional[str]


def _decode(raw: Optional[bytes]) -> str:
    return raw.decode("utf-8", "replace") if raw is not None else ""


def trace_prompt(source: Text, entry: Optional[str] = None) -> str:
    """The prompt asking for a trace of `source`: the marker is added to `entry`'s def line
    when given, else a function must carry "# << START_OF_TRACE" (InvalidArgumentError)."""
    src = _text_bytes(source)
    name = _cstr(entry, "entry") if entry is not None else None
    return _decode(_read_bytes(lambda buf, size, out: _lib.cwm_trace_prompt(src, len(src), name, buf, size, out),
                               len(src) + 128))


def compare_traces(source: Text, predicted: Text, actual: Text) -> Dict[str, Any]:
    """Predicted against actual trace texts (special tokens spelled out) for `source`: the
    comparison object of docs/traces.md, as a dict."""
    src, p, a = _text_bytes(source), _text_bytes(predicted), _text_bytes(actual)
    raw = _read_bytes(lambda buf, size, out: _lib.cwm_trace_compare(src, len(src), p, len(p), a, len(a), buf, size, out),
                      4096)
    return json.loads(raw)


class TraceSession(_Handle):
    """A model's prediction of how `source` runs, one frame at a time, on `context` (cleared,
    then holding the prompt; every step only adds its own tokens to the KV cache).

    The session keeps its context (and sampler, if any: greedy otherwise) in use: closing them
    closes the session first. Malformed model output never raises; it shows in `issues`."""

    _kind = "trace session"

    def __init__(self, context: Context, source: Text, *, entry: Optional[str] = None,
                 sampler: Optional[Sampler] = None, max_frame_tokens: Optional[int] = None) -> None:
        if not isinstance(context, Context):
            raise TypeError(f"context must be a cwm.Context, not {type(context).__name__}")
        if sampler is not None and not isinstance(sampler, Sampler):
            raise TypeError(f"sampler must be a cwm.Sampler, not {type(sampler).__name__}")
        self._context, self._sampler = context, sampler
        src = _text_bytes(source)
        self.source = src.decode("utf-8", "replace")
        params = L.cwm_trace_params()
        _lib.cwm_trace_default_params(byref(params))
        params.size = ctypes.sizeof(L.cwm_trace_params)
        entry_b = _cstr(entry, "entry") if entry is not None else None
        params.entry = entry_b
        if max_frame_tokens is not None:
            if _count(max_frame_tokens, "max_frame_tokens") == 0 or max_frame_tokens >= 2 ** 32:
                raise InvalidArgumentError("max_frame_tokens must be in [1, 2**32)")
            params.max_frame_tokens = max_frame_tokens
        raw = L.trace_session_p()
        with self._use_owners() as (c, s):
            _check(_lib.cwm_trace_session_new(c, s, src, len(src), byref(params), byref(raw)))
            self._ptr = raw
            for owner in (context, sampler):
                if owner is not None:
                    owner._adopt_session(self)

    def close(self) -> None:
        """Frees the session (its context and sampler stay open)."""
        if not getattr(self, "_ptr", None):
            return
        with self._context._busy.held_for_close():
            ptr, self._ptr = self._ptr, None
            _lib.cwm_trace_session_free(ptr)

    def __repr__(self) -> str:
        return f"<cwm.TraceSession{' (closed)' if self.closed else ''}>"

    @contextlib.contextmanager
    def _use_owners(self) -> Iterator[Tuple[Any, Any]]:
        with self._context._use() as c:
            if self._sampler is None:
                yield c, None
            else:
                with self._sampler._use() as s:
                    yield c, s

    @contextlib.contextmanager
    def _use(self) -> Iterator[Any]:
        self._get()
        with self._use_owners():
            yield self._get()

    # -- moves: each returns the frame it stopped at, or None (the trace had ended, or the model
    #    wrote no complete frame: `issues` says why)

    def _move(self, move: int) -> bool:
        moved = c_int(0)
        with self._use() as p:
            _check(_lib.cwm_trace_move_to(p, move, byref(moved)))
        return bool(moved.value)

    def _last_if(self, moved: bool) -> Optional[TraceFrame]:
        return self.frame(len(self) - 1) if moved else None

    def step(self) -> Optional[TraceFrame]:
        """The model's next frame, stepping into calls."""
        return self._last_if(self._move(0))

    def next(self) -> Optional[TraceFrame]:
        """The next frame of the current function: a call is stepped over by writing
        <|return_sep|> after it (the model predicts the callee's return value directly)."""
        return self._last_if(self._move(1))

    def out(self) -> Optional[TraceFrame]:
        """Frames until the current function returns or raises."""
        return self._last_if(self._move(2))

    def back(self) -> bool:
        """Takes back the last frame; False when there is nothing after the prompt."""
        return self._move(3)

    def reset(self) -> None:
        """Back to just after the prompt (restored, not evaluated again)."""
        self._move(4)

    def force(self, frame_text: Text) -> Optional[TraceFrame]:
        """Teacher forcing: a frame written with literal special tokens (e.g. the actual trace's
        next frame), evaluated as if the model had written it."""
        data = _text_bytes(frame_text)
        before = len(self)
        with self._use() as p:
            _check(_lib.cwm_trace_force(p, data, len(data)))
        return self._last_if(len(self) > before)

    def predict(self, max_frames: int = 10_000) -> List[TraceFrame]:
        """Steps until the trace ends or `max_frames` more frames were produced; the new frames."""
        before = len(self)
        with self._use() as p:
            _check(_lib.cwm_trace_predict(p, _count(max_frames, "max_frames")))
        return [self.frame(i) for i in range(before, len(self))]

    def predict_result(self, call_frame: Optional[Text] = None) -> Optional[str]:
        """Output prediction: the entry's return value (repr) without its body, from
        `call_frame` when given (e.g. the actual trace's first frame) or the model's own call
        frame. Resets the session; None when the model wrote no return frame."""
        data = _text_bytes(call_frame) if call_frame is not None else None
        if data is not None and not data:
            raise InvalidArgumentError("call_frame is empty")
        found = c_int(0)
        with self._use() as p:
            _check(_lib.cwm_trace_predict_result(p, data, len(data or b""), byref(found)))
        return self.frame(len(self) - 1).value if found.value else None

    def evaluate(self, actual: Text, measures: Measure = Measure.ALL) -> Dict[str, Any]:
        """Measures the model against `actual`, the program's real trace text (tracer output):
        free-running, teacher-forced next frame and output prediction, as `measures` asks. The
        evaluation object of docs/traces.md, as a dict; the session then holds the free-running
        prediction (when made). InvalidArgumentError when `actual` is not a well-formed trace."""
        data = _text_bytes(actual)
        with self._use() as p:
            _check(_lib.cwm_trace_evaluate(p, data, len(data), int(measures)))
            raw = _read_bytes(lambda buf, size, out: _lib.cwm_trace_evaluation(p, buf, size, out), 4096)
        return json.loads(raw)

    # -- state

    def __len__(self) -> int:
        with self._use() as p:
            return int(_lib.cwm_trace_frame_count(p))

    def frame(self, index: int) -> TraceFrame:
        """Frame `index` (negative counts from the end); IndexError when there is none."""
        n = len(self)
        if not isinstance(index, int) or isinstance(index, bool):
            raise TypeError("index must be an int")
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"no frame {index}: the trace has {n}")
        f = L.cwm_trace_frame()
        f.size = ctypes.sizeof(L.cwm_trace_frame)
        with self._use() as p:
            _check(_lib.cwm_trace_frame_get(p, index, byref(f)))
            views: List[Dict[str, str]] = [{}, {}]
            for i in range(f.n_locals):
                for resolved in (0, 1):
                    name, repr_ = c_char_p(), c_char_p()
                    _check(_lib.cwm_trace_frame_local(p, index, i, resolved, byref(name), byref(repr_)))
                    views[resolved][_decode(name.value)] = _decode(repr_.value)
            return TraceFrame(_EVENTS[f.event], _decode(f.line), int(f.line_number), views[0], views[1],
                              _decode(f.value) if f.value is not None else None)

    @property
    def frames(self) -> List[TraceFrame]:
        return [self.frame(i) for i in range(len(self))]

    @property
    def ended(self) -> bool:
        with self._use() as p:
            return bool(_lib.cwm_trace_ended(p))

    @property
    def tokens_evaluated(self) -> int:
        """Tokens the session evaluated, its prompt included: what the KV reuse saves shows here."""
        with self._use() as p:
            return int(_lib.cwm_trace_tokens_evaluated(p))

    @property
    def prompt_tokens(self) -> int:
        with self._use() as p:
            return int(_lib.cwm_trace_prompt_tokens(p))

    @property
    def issues(self) -> List[Tuple[int, str]]:
        """Problems in the model's output so far: (frame index, message)."""
        out = []
        with self._use() as p:
            for i in range(int(_lib.cwm_trace_issue_count(p))):
                at, message = c_size_t(0), c_char_p()
                _check(_lib.cwm_trace_issue(p, i, byref(at), byref(message)))
                out.append((int(at.value), _decode(message.value)))
        return out

    @property
    def text(self) -> str:
        """The trace written after the prompt so far, special tokens spelled out."""
        with self._use() as p:
            return _decode(_read_bytes(lambda buf, size, out: _lib.cwm_trace_text(p, buf, size, out), 4096))
