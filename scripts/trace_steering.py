"""Steered variants of a traced example: the token sequences the debugger's `next` and output
prediction make the model continue (shared/docs/trace-format.md, "Stepping is steered by writing
the frame-kind token yourself"), cut from the full trace so the tiny model sees them in training.

- skip_callees: every call the entry makes is followed directly by that callee's return frame,
  as `next` over each call writes it (<|return_sep|> right after the call frame).
- result_only: the entry's call frame, then its return frame and <|end_of_text|>: output
  prediction (Session::predict_result).

Both are exact sub-sequences of the tracer's frames. The caller's frame after a skipped callee
lists its locals in full already (the tracer's rule 4), so no frame changes. Traces with
exception frames are left alone: where an exception leaves a scope cannot be read off the frame
kinds alone, and `next` writes <|return_sep|>, which an exception would contradict.
"""

FRAME_SEP = "<|frame_sep|>"
KINDS = ("<|call_sep|>", "<|line_sep|>", "<|return_sep|>", "<|exception_sep|>")


def split_frames(trace: str) -> tuple[list[str], str]:
    """(frames, each ending in <|frame_sep|>; the text after the last one, e.g. <|end_of_text|>)."""
    parts = trace.split(FRAME_SEP)
    frames = [p + FRAME_SEP for p in parts[:-1]]
    for frame in frames:
        if not frame.startswith(KINDS):
            raise ValueError(f"not a frame: {frame[:40]!r}")
    return frames, parts[-1]


def _kind(frame: str) -> str:
    return next(k for k in KINDS if frame.startswith(k))


def _plain(frames: list[str]) -> bool:
    """Starts with the entry's call, ends with its return, no exceptions."""
    return (len(frames) >= 2 and _kind(frames[0]) == "<|call_sep|>" and _kind(frames[-1]) == "<|return_sep|>"
            and all(_kind(f) != "<|exception_sep|>" for f in frames))


def skip_callees(trace: str) -> str | None:
    """The trace with every callee's frames between its call and its return left out; None when
    the entry calls nothing traced or the trace has exceptions."""
    frames, tail = split_frames(trace)
    if not _plain(frames):
        return None
    kept, depth = [], 0
    for frame in frames:
        kind = _kind(frame)
        if kind == "<|call_sep|>":
            depth += 1
        if depth <= 2 and (depth == 1 or kind in ("<|call_sep|>", "<|return_sep|>")):
            kept.append(frame)
        if kind == "<|return_sep|>":
            depth -= 1
    if depth != 0:
        raise ValueError("calls and returns do not pair up")
    return "".join(kept) + tail if len(kept) < len(frames) else None


def result_only(trace: str) -> str | None:
    """The entry's call frame followed directly by its return frame; None for traces with
    exceptions."""
    frames, tail = split_frames(trace)
    return frames[0] + frames[-1] + tail if _plain(frames) else None
