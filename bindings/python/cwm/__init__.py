"""cwm: Python bindings for libcwm (CPU inference for CWM-family language models), over ctypes.

The first use of a native name (cwm.Model, cwm.version, ...) loads libcwm from, in order: the
file named by $CWM_LIBRARY, a libcwm.so.* copied into this package's directory, then the system
(ctypes.util.find_library("cwm"), then "libcwm.so.0" through the dynamic loader). ImportError names every place tried,
and also refuses a library whose C ABI version is not the one these bindings were written for.

    import cwm
    with cwm.Model("model.gguf") as model, cwm.Context(model, n_ctx=4096) as ctx:
        prompt = cwm.render_chat([{"role": "user", "content": "Write a haiku about caches."}])
        for piece in ctx.generate(prompt, max_tokens=128, parse_special=True):
            print(piece, end="", flush=True)
"""

from ._errors import (BufferTooSmallError, CancelledError, ClosedError, ContextFullError, Error, FileError,
                      InternalError, InvalidArgumentError, InvalidFileError, NotFoundError, OutOfMemoryError,
                      Status, UnsupportedError)

# Everything below needs libcwm, which is loaded on first use rather than at import, so that
# `python3 -m cwm.tracer` (stdlib only) works on a machine without the library.
_NATIVE = {
    "ABI_VERSION": "_lib",
    **{name: "_util" for name in ("AttentionLayout", "LogLevel", "WeightType")},
    **{name: "_model" for name in ("Metadata", "Model", "ModelInfo", "TensorInfo", "Tokenizer")},
    **{name: "_context" for name in ("Context", "Sampler", "SamplerParams")},
    "Generation": "_generation",
    **{name: "_trace" for name in ("Measure", "TraceFrame", "TraceSession", "compare_traces", "trace_prompt")},
    **{name: "_tools" for name in ("abi_version", "convert_gguf", "convert_hf", "library_path",
                                   "measure_read_bandwidth",
                                   "quantize", "render_chat", "status_name", "version")},
}


def __getattr__(name: str):
    """Loads libcwm (ImportError naming every place tried) when a native name is first used."""
    module = _NATIVE.get(name)
    if module is None:
        raise AttributeError(f"module 'cwm' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module("." + module, __name__), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "ABI_VERSION", "AttentionLayout", "BufferTooSmallError", "CancelledError", "ClosedError", "Context",
    "ContextFullError", "Error", "FileError", "Generation", "InternalError", "InvalidArgumentError",
    "InvalidFileError", "LogLevel", "Metadata", "Measure", "Model", "ModelInfo", "NotFoundError",
    "OutOfMemoryError", "Sampler", "SamplerParams", "Status", "TensorInfo", "Tokenizer", "TraceFrame",
    "TraceSession", "UnsupportedError", "WeightType", "abi_version", "compare_traces", "convert_gguf",
    "convert_hf", "library_path", "measure_read_bandwidth", "quantize", "render_chat", "status_name", "trace_prompt",
    "version",
]
