"""Finding and loading libcwm, and the ctypes declaration of every function in cwm.h.

This module mirrors include/cwm.h one to one. Every function gets `argtypes` and `restype`,
so ctypes converts (or refuses) each argument instead of passing garbage to C. Nothing here is
public API: use the classes in the `cwm` package.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_float, c_int, c_int32, c_size_t,
                    c_uint32, c_uint64, c_void_p)
from typing import Iterator, List, Tuple

#: The CWM_ABI_VERSION these bindings were written for (include/cwm.h).
ABI_VERSION = 1

# ---- types -------------------------------------------------------------------------------

c_status = c_int  # cwm_status (a C enum: int-sized)
c_token = c_int32


class _Opaque(Structure):
    pass


class cwm_model(_Opaque):
    pass


class cwm_context(_Opaque):
    pass


class cwm_sampler(_Opaque):
    pass


class cwm_tokenizer(_Opaque):
    pass


class cwm_trace_session(_Opaque):
    pass


model_p = POINTER(cwm_model)
context_p = POINTER(cwm_context)
sampler_p = POINTER(cwm_sampler)
tokenizer_p = POINTER(cwm_tokenizer)
trace_session_p = POINTER(cwm_trace_session)

progress_fn = CFUNCTYPE(c_int, c_float, c_void_p)
log_fn = CFUNCTYPE(None, c_int, c_char_p, c_void_p)
# `text` is not NUL-terminated: declared as a pointer to char and read with string_at(text, len).
stream_fn = CFUNCTYPE(c_int, POINTER(c_char), c_size_t, c_token, c_void_p)
quantize_progress_fn = CFUNCTYPE(c_int, c_size_t, c_size_t, c_uint64, c_uint64, c_void_p)
convert_progress_fn = CFUNCTYPE(c_int, c_uint64, c_uint64, c_void_p)


class cwm_model_params(Structure):
    _fields_ = [("size", c_size_t), ("progress", progress_fn), ("progress_user_data", c_void_p),
                ("log", log_fn), ("log_user_data", c_void_p),
                ("attention", c_int), ("sliding_window", c_uint32)]


class cwm_model_info(Structure):
    _fields_ = [("size", c_size_t), ("arch", c_char_p),
                ("n_vocab", c_uint32), ("n_ctx_train", c_uint32), ("n_embd", c_uint32), ("n_layer", c_uint32),
                ("n_head", c_uint32), ("n_head_kv", c_uint32), ("head_dim", c_uint32), ("n_ff", c_uint32),
                ("n_local_layers", c_uint32), ("window", c_uint32),
                ("file_bytes", c_uint64), ("weight_bytes", c_uint64),
                ("bos", c_token), ("eos", c_token)]


class cwm_tensor_info(Structure):
    _fields_ = [("size", c_size_t), ("name", c_char_p), ("type", c_char_p), ("n_dims", c_uint32),
                ("ne", c_uint64 * 4), ("offset", c_uint64), ("n_bytes", c_uint64)]


class cwm_chat_message(Structure):
    _fields_ = [("role", c_char_p), ("content", c_char_p)]


class cwm_chat_params(Structure):
    _fields_ = [("size", c_size_t), ("reasoning", c_int), ("add_generation_prompt", c_int)]


class cwm_context_params(Structure):
    _fields_ = [("size", c_size_t), ("n_ctx", c_uint32), ("n_threads", c_int32), ("n_batch", c_uint32)]


class cwm_sampler_params(Structure):
    _fields_ = [("size", c_size_t), ("temperature", c_float), ("top_k", c_int32), ("top_p", c_float),
                ("min_p", c_float), ("repeat_penalty", c_float), ("repeat_last_n", c_int32), ("seed", c_uint64)]


class cwm_trace_params(Structure):
    _fields_ = [("size", c_size_t), ("entry", c_char_p), ("max_frame_tokens", c_uint32)]


class cwm_trace_frame(Structure):
    _fields_ = [("size", c_size_t), ("event", c_int), ("line", c_char_p), ("line_number", c_int32),
                ("n_locals", c_size_t), ("value", c_char_p)]


class cwm_quantize_params(Structure):
    _fields_ = [("size", c_size_t), ("type", c_int), ("n_threads", c_int32),
                ("progress", quantize_progress_fn), ("progress_user_data", c_void_p)]


class cwm_convert_params(Structure):
    _fields_ = [("size", c_size_t), ("type", c_int), ("n_threads", c_int32),
                ("progress", convert_progress_fn), ("progress_user_data", c_void_p),
                ("log", log_fn), ("log_user_data", c_void_p)]


class cwm_convert_gguf_params(Structure):
    _fields_ = [("size", c_size_t), ("attention", c_int), ("sliding_window", c_uint32),
                ("progress", quantize_progress_fn), ("progress_user_data", c_void_p)]


P = POINTER
_size_p = P(c_size_t)
_token_p = P(c_token)
_char_p = P(c_char)  # an output buffer (not a NUL-terminated input string)

# name: (restype, argtypes), in the order of cwm.h.
PROTOTYPES = {
    "cwm_last_error": (c_char_p, []),
    "cwm_status_name": (c_char_p, [c_status]),
    "cwm_version": (c_char_p, []),
    "cwm_abi_version": (c_uint32, []),
    # models
    "cwm_model_default_params": (None, [P(cwm_model_params)]),
    "cwm_model_load": (c_status, [c_char_p, P(cwm_model_params), P(model_p)]),
    "cwm_model_free": (None, [model_p]),
    "cwm_model_get_info": (c_status, [model_p, P(cwm_model_info)]),
    "cwm_model_layer_is_local": (c_status, [model_p, c_uint32, P(c_int)]),
    "cwm_model_meta_count": (c_size_t, [model_p]),
    "cwm_model_meta_key": (c_status, [model_p, c_size_t, P(c_char_p)]),
    "cwm_model_meta_value": (c_status, [model_p, c_char_p, c_size_t, _char_p, c_size_t, _size_p]),
    "cwm_model_tensor_count": (c_size_t, [model_p]),
    "cwm_model_tensor_info": (c_status, [model_p, c_size_t, P(cwm_tensor_info)]),
    "cwm_model_chat_template": (c_status, [model_p, _char_p, c_size_t, _size_p]),
    # tokens
    "cwm_tokenizer_load": (c_status, [c_char_p, P(tokenizer_p)]),
    "cwm_tokenizer_free": (None, [tokenizer_p]),
    "cwm_model_get_tokenizer": (tokenizer_p, [model_p]),
    "cwm_tokenizer_n_vocab": (c_size_t, [tokenizer_p]),
    "cwm_tokenizer_bos": (c_token, [tokenizer_p]),
    "cwm_tokenizer_eos": (c_token, [tokenizer_p]),
    "cwm_tokenizer_find": (c_status, [tokenizer_p, c_char_p, _token_p]),
    "cwm_tokenizer_encode": (c_status, [tokenizer_p, _char_p, c_size_t, c_int, c_int, _token_p, c_size_t, _size_p]),
    "cwm_tokenizer_token_to_bytes": (c_status, [tokenizer_p, c_token, c_int, _char_p, c_size_t, _size_p]),
    "cwm_tokenizer_decode": (c_status, [tokenizer_p, _token_p, c_size_t, c_int, _char_p, c_size_t, _size_p]),
    "cwm_tokenizer_is_stop": (c_int, [tokenizer_p, c_token]),
    "cwm_tokenize": (c_status, [model_p, _char_p, c_size_t, c_int, c_int, _token_p, c_size_t, _size_p]),
    "cwm_token_to_bytes": (c_status, [model_p, c_token, c_int, _char_p, c_size_t, _size_p]),
    "cwm_detokenize": (c_status, [model_p, _token_p, c_size_t, c_int, _char_p, c_size_t, _size_p]),
    "cwm_token_is_stop": (c_int, [model_p, c_token]),
    # chat
    "cwm_chat_default_params": (None, [P(cwm_chat_params)]),
    "cwm_chat_render": (c_status, [P(cwm_chat_message), c_size_t, P(cwm_chat_params), _char_p, c_size_t, _size_p]),
    # contexts
    "cwm_context_default_params": (None, [P(cwm_context_params)]),
    "cwm_context_new": (c_status, [model_p, P(cwm_context_params), P(context_p)]),
    "cwm_context_free": (None, [context_p]),
    "cwm_context_clear": (None, [context_p]),
    "cwm_context_truncate": (c_status, [context_p, c_uint32]),
    "cwm_context_max_rewind": (c_uint32, [context_p]),
    "cwm_context_n_past": (c_uint32, [context_p]),
    "cwm_context_n_ctx": (c_uint32, [context_p]),
    "cwm_context_n_threads": (c_int32, [context_p]),
    "cwm_context_tokens": (c_status, [context_p, _token_p, c_size_t, _size_p]),
    "cwm_context_cancel": (None, [context_p]),
    # context state
    "cwm_context_state_size": (c_status, [context_p, _size_p]),
    "cwm_context_state_save": (c_status, [context_p, c_void_p, c_size_t, _size_p]),
    "cwm_context_state_load": (c_status, [context_p, c_void_p, c_size_t]),
    "cwm_context_state_save_file": (c_status, [context_p, c_char_p]),
    "cwm_context_state_load_file": (c_status, [context_p, c_char_p]),
    "cwm_decode": (c_status, [context_p, _token_p, c_size_t, c_size_t]),
    "cwm_get_logits": (c_status, [context_p, c_size_t, P(P(c_float))]),
    # sampling and generation
    "cwm_sampler_default_params": (None, [P(cwm_sampler_params)]),
    "cwm_sampler_new": (c_status, [P(cwm_sampler_params), P(sampler_p)]),
    "cwm_sampler_free": (None, [sampler_p]),
    "cwm_sampler_sample": (c_status, [sampler_p, P(c_float), c_size_t, _token_p]),
    "cwm_sampler_accept": (c_status, [sampler_p, c_token]),
    "cwm_generate": (c_status, [context_p, sampler_p, _token_p, c_size_t, c_size_t, stream_fn, c_void_p]),
    # execution traces
    "cwm_trace_default_params": (None, [P(cwm_trace_params)]),
    "cwm_trace_prompt": (c_status, [_char_p, c_size_t, c_char_p, _char_p, c_size_t, _size_p]),
    "cwm_trace_session_new": (c_status, [context_p, sampler_p, _char_p, c_size_t, P(cwm_trace_params),
                                         P(trace_session_p)]),
    "cwm_trace_session_free": (None, [trace_session_p]),
    "cwm_trace_parse": (c_status, [_char_p, c_size_t, _char_p, c_size_t, P(trace_session_p)]),
    "cwm_trace_move_to": (c_status, [trace_session_p, c_int, P(c_int)]),
    "cwm_trace_force": (c_status, [trace_session_p, _char_p, c_size_t]),
    "cwm_trace_predict": (c_status, [trace_session_p, c_size_t]),
    "cwm_trace_predict_result": (c_status, [trace_session_p, _char_p, c_size_t, P(c_int)]),
    "cwm_trace_evaluate": (c_status, [trace_session_p, _char_p, c_size_t, c_int]),
    "cwm_trace_evaluation": (c_status, [trace_session_p, _char_p, c_size_t, _size_p]),
    "cwm_trace_frame_count": (c_size_t, [trace_session_p]),
    "cwm_trace_ended": (c_int, [trace_session_p]),
    "cwm_trace_tokens_evaluated": (c_size_t, [trace_session_p]),
    "cwm_trace_prompt_tokens": (c_size_t, [trace_session_p]),
    "cwm_trace_frame_get": (c_status, [trace_session_p, c_size_t, P(cwm_trace_frame)]),
    "cwm_trace_frame_local": (c_status, [trace_session_p, c_size_t, c_size_t, c_int, P(c_char_p), P(c_char_p)]),
    "cwm_trace_issue_count": (c_size_t, [trace_session_p]),
    "cwm_trace_issue": (c_status, [trace_session_p, c_size_t, _size_p, P(c_char_p)]),
    "cwm_trace_text": (c_status, [trace_session_p, _char_p, c_size_t, _size_p]),
    "cwm_trace_compare": (c_status, [_char_p, c_size_t, _char_p, c_size_t, _char_p, c_size_t, _char_p, c_size_t,
                                     _size_p]),
    # quantization
    "cwm_quantize_default_params": (None, [P(cwm_quantize_params)]),
    "cwm_quantize": (c_status, [c_char_p, c_char_p, P(cwm_quantize_params)]),
    "cwm_convert_default_params": (None, [P(cwm_convert_params)]),
    "cwm_convert_hf": (c_status, [c_char_p, c_char_p, P(cwm_convert_params)]),
    # attention layout conversion
    "cwm_convert_gguf_default_params": (None, [P(cwm_convert_gguf_params)]),
    "cwm_convert_gguf": (c_status, [c_char_p, c_char_p, P(cwm_convert_gguf_params)]),
    # machine measurements
    "cwm_measure_read_bandwidth": (c_status, [c_size_t, c_int, c_int, P(c_double)]),
}


def _candidates() -> Iterator[Tuple[str, str]]:
    """(where, path or name) in lookup order: $CWM_LIBRARY, the package directory, the system.
    Lazy: find_library (which may run ldconfig) only runs when the earlier places fail."""
    yield "$CWM_LIBRARY", os.environ.get("CWM_LIBRARY", "")
    here = os.path.dirname(os.path.abspath(__file__))
    bundled = sorted(glob.glob(os.path.join(here, "libcwm.so.*")) + glob.glob(os.path.join(here, "libcwm.so")))
    if bundled:
        for p in bundled:
            yield "package directory", p
    else:
        yield "package directory", os.path.join(here, "libcwm.so.*")
    yield 'system (ctypes.util.find_library("cwm"))', ctypes.util.find_library("cwm") or ""
    yield "system (dynamic loader)", "libcwm.so.0"


def _declare(lib: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def load() -> Tuple[ctypes.CDLL, str]:
    """Loads libcwm from the first place that has it; ImportError naming every place tried."""
    tried: List[str] = []
    for where, path in _candidates():
        if where == "package directory" and "*" in path:
            tried.append(f"  {where}: no libcwm.so.* in {os.path.dirname(path)}")
            continue
        if not path:
            tried.append(f"  {where}: {'not set' if where == '$CWM_LIBRARY' else 'nothing found'}")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"  {where}: {path}: {e}")
            if where == "$CWM_LIBRARY":
                # An explicit choice that fails is an error, not a reason to pick another copy.
                tried.append("  (CWM_LIBRARY is set, so no other place was tried)")
                break
            continue
        abi_fn = getattr(lib, "cwm_abi_version", None)
        if abi_fn is None:
            raise ImportError(f"cwm: {path} ({where}) is not libcwm: it has no cwm_abi_version")
        abi_fn.restype, abi_fn.argtypes = c_uint32, []
        abi = abi_fn()
        if abi != ABI_VERSION:
            raise ImportError(f"cwm: {path} ({where}) has C ABI version {abi}, but these bindings were written for "
                              f"ABI version {ABI_VERSION}; install matching versions of libcwm and the cwm package")
        try:
            _declare(lib)
        except AttributeError as e:
            raise ImportError(f"cwm: {path} ({where}) lacks a function of ABI version {ABI_VERSION}: {e}") from None
        return lib, path
    raise ImportError("cwm: cannot load libcwm. Tried, in order:\n" + "\n".join(tried) +
                      "\nSet CWM_LIBRARY to the full path of libcwm.so.0 (e.g. build/libcwm.so.0), copy it next to "
                      "the package's __init__.py, or install it where the dynamic loader finds it.")


lib, path = load()
