"""Functions over the C ABI that need no handle: chat rendering, quantization, conversion, versions."""

from __future__ import annotations

import ctypes
from ctypes import byref, c_double
from typing import Any, Callable, Iterable, List, Mapping, Optional, Tuple, Union

from . import _lib as L
from ._errors import InvalidArgumentError, error_for
from ._util import WeightType, _attention, _check, _count, _cstr, _path, _read_bytes, _callback_result, _lib, PathLike


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


_QUANTIZED_TYPES = {"q8_0": WeightType.Q8_0, "q4_0": WeightType.Q4_0, "q4_k_m": WeightType.Q4_K_M}
_ALL_TYPES = {"f32": WeightType.F32, "f16": WeightType.F16, "bf16": WeightType.BF16, **_QUANTIZED_TYPES}


def _weight_type(type: Union[str, WeightType], names: Mapping[str, WeightType]) -> int:
    if isinstance(type, str):
        try:
            return int(names[type.lower()])
        except KeyError:
            raise InvalidArgumentError(f"unknown weight type {type!r} (one of {', '.join(names)})") from None
    if isinstance(type, int) and not isinstance(type, bool):
        return int(type)
    raise TypeError("type must be a str such as 'q8_0' or a WeightType")


class _Callbacks:
    """Python callbacks handed to a long C call: an exception raised in one is kept, the call
    is cancelled, and the exception re-raised afterwards (chained to the C error)."""

    def __init__(self) -> None:
        self.errors: List[BaseException] = []

    def guarded(self, fn: Callable[..., Any], on_error: Any) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            try:
                return fn(*args)
            except BaseException as e:
                self.errors.append(e)
                return on_error
        return call

    def finish(self, status: int) -> None:
        message = _lib.cwm_last_error() if status != 0 else b""
        if self.errors:
            if status != 0:
                raise self.errors[0] from error_for(status, message.decode("utf-8", "replace"))
            raise self.errors[0]
        if status != 0:
            raise error_for(status, message.decode("utf-8", "replace"))


# progress(tensors_done, n_tensors, bytes_done, bytes_total): False cancels.
FileProgress = Callable[[int, int, int, int], Optional[bool]]


def quantize(input: PathLike, output: PathLike, type: Union[str, WeightType] = "q8_0", *, n_threads: int = 0,
             progress: Optional[FileProgress] = None) -> None:
    """Writes a copy of a GGUF model with its 2-D weights quantized to `type` ("q8_0",
    "q4_0" or "q4_k_m"). progress(tensors_done, n_tensors, bytes_done, bytes_total) is called
    after each tensor; returning False cancels (CancelledError), raising cancels and re-raises.
    The output appears only when complete: no file is left on failure or cancellation."""
    params = L.cwm_quantize_params()
    _lib.cwm_quantize_default_params(byref(params))
    params.size = ctypes.sizeof(L.cwm_quantize_params)
    params.type = _weight_type(type, _QUANTIZED_TYPES)
    params.n_threads = _count(n_threads, "n_threads")
    _file_job(_lib.cwm_quantize, input, output, params, progress)


def convert_gguf(input: PathLike, output: PathLike, attention: Union[str, int] = "cwm", *, sliding_window: int = 0,
                 progress: Optional[FileProgress] = None) -> None:
    """Writes a copy of a GGUF model whose metadata states an attention layout (cwm_convert_gguf):
    "cwm" makes it a `cwm` file with CWM's local/global pattern and `sliding_window` (0: 8192),
    e.g. from a community llama-architecture file of CWM; "global" a `llama` file. Tensors are
    copied unchanged. `progress` and the no-partial-file guarantee as quantize's; writing over
    the input is refused (InvalidArgumentError)."""
    params = L.cwm_convert_gguf_params()
    _lib.cwm_convert_gguf_default_params(byref(params))
    params.size = ctypes.sizeof(L.cwm_convert_gguf_params)
    params.attention, params.sliding_window = _attention(attention, sliding_window)
    _file_job(_lib.cwm_convert_gguf, input, output, params, progress)


def _file_job(fn: Any, input: PathLike, output: PathLike, params: Any, progress: Optional[FileProgress]) -> None:
    """Calls fn(input, output, params), a whole-file job with a cwm_quantize_progress_fn, passing
    `progress`'s answers to C and re-raising what it raised (chained to the C error, if any)."""
    cin, cout = _path(input), _path(output)
    callbacks = _Callbacks()
    if progress is not None:
        cb = L.quantize_progress_fn(callbacks.guarded(
            lambda done, count, got, total, _user: _callback_result(progress(done, count, got, total)), 1))
        params.progress = cb
    callbacks.finish(fn(cin, cout, byref(params)))


def convert_hf(hf_dir: PathLike, output: PathLike, type: Union[str, WeightType] = "bf16", *, n_threads: int = 0,
               progress: Optional[Callable[[int, int], Optional[bool]]] = None,
               note: Optional[Callable[[str], None]] = None) -> None:
    """Converts a Hugging Face CWM checkpoint directory (config.json, safetensors shards,
    tokenizer.json) into one GGUF (cwm_convert_hf; docs/real-cwm.md). `type`: "bf16" (as
    released), "f16", "f32", "q8_0", "q4_0" or "q4_k_m". progress(bytes_done, bytes_total)
    returning False cancels (CancelledError); note(line) receives each assumption made. The
    output appears only when complete: no file is left on failure or cancellation."""
    wtype = _weight_type(type, _ALL_TYPES)
    cin, cout = _path(hf_dir), _path(output)
    params = L.cwm_convert_params()
    _lib.cwm_convert_default_params(byref(params))
    params.size = ctypes.sizeof(L.cwm_convert_params)
    params.type = wtype
    params.n_threads = _count(n_threads, "n_threads")
    callbacks = _Callbacks()

    def on_progress(done: int, total: int, _user: Any) -> int:
        if callbacks.errors:  # a note callback raised: stop at the next chance
            return 1
        return _callback_result(progress(done, total)) if progress is not None else 0

    progress_cb = L.convert_progress_fn(callbacks.guarded(on_progress, 1))
    params.progress = progress_cb
    if note is not None:
        note_cb = L.log_fn(callbacks.guarded(
            lambda _level, message, _user: note(message.decode("utf-8", "replace")), None))
        params.log = note_cb
    callbacks.finish(_lib.cwm_convert_hf(cin, cout, byref(params)))


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
