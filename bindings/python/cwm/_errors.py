"""Exceptions: one class per cwm_status, all derived from cwm.Error."""

from __future__ import annotations

import enum
from typing import Dict, Optional, Type


class Status(enum.IntEnum):
    """cwm_status (include/cwm.h)."""

    OK = 0
    INVALID_ARGUMENT = 1
    IO = 2
    INVALID_FILE = 3
    UNSUPPORTED = 4
    OUT_OF_MEMORY = 5
    CONTEXT_FULL = 6
    CANCELLED = 7
    INTERNAL = 8
    BUFFER_TOO_SMALL = 9
    NOT_FOUND = 10

    @property
    def c_name(self) -> str:
        """The C name, e.g. "CWM_ERR_IO" (as cwm_status_name gives it)."""
        return "CWM_OK" if self is Status.OK else f"CWM_ERR_{self.name}"


class Error(Exception):
    """A libcwm call failed.

    `status` is the cwm_status (a Status, an int), `status_name` its C name and `message` the
    library's own description (cwm_last_error), e.g. naming the file or the bad argument.
    """

    status: Status = Status.INTERNAL

    def __init__(self, message: str, status: Optional[int] = None) -> None:
        if status is not None:
            try:
                self.status = Status(status)
            except ValueError:  # a status newer than these bindings
                self.status = status  # type: ignore[assignment]
        self.message = message
        super().__init__(f"{self.status_name}: {message}")

    @property
    def status_name(self) -> str:
        s = self.status
        return s.c_name if isinstance(s, Status) else f"cwm_status {int(s)}"


class InvalidArgumentError(Error, ValueError):
    """CWM_ERR_INVALID_ARGUMENT: a bad handle, id, option, UTF-8 text or NULL pointer."""

    status = Status.INVALID_ARGUMENT


class ClosedError(InvalidArgumentError):
    """The object was closed (its handle freed): raised by Python before any C call."""


class FileError(Error):
    """CWM_ERR_IO: a file could not be opened, read or written."""

    status = Status.IO


class InvalidFileError(Error):
    """CWM_ERR_INVALID_FILE: a model, tokenizer or state is malformed, truncated or damaged."""

    status = Status.INVALID_FILE


class UnsupportedError(Error):
    """CWM_ERR_UNSUPPORTED: well-formed, but not supported (architecture, tensor type)."""

    status = Status.UNSUPPORTED


class OutOfMemoryError(Error):
    """CWM_ERR_OUT_OF_MEMORY."""

    status = Status.OUT_OF_MEMORY


class ContextFullError(Error):
    """CWM_ERR_CONTEXT_FULL: more tokens than the context holds."""

    status = Status.CONTEXT_FULL


class CancelledError(Error):
    """CWM_ERR_CANCELLED: a callback or Context.cancel() asked to stop."""

    status = Status.CANCELLED


class InternalError(Error):
    """CWM_ERR_INTERNAL: a bug in libcwm."""

    status = Status.INTERNAL


class BufferTooSmallError(Error):
    """CWM_ERR_BUFFER_TOO_SMALL (the bindings size their buffers, so this means a bug)."""

    status = Status.BUFFER_TOO_SMALL


class NotFoundError(Error, KeyError):
    """CWM_ERR_NOT_FOUND: a metadata key or token text that does not exist."""

    status = Status.NOT_FOUND

    def __str__(self) -> str:  # KeyError would quote the message
        return Error.__str__(self)


_BY_STATUS: Dict[int, Type[Error]] = {
    int(cls.status): cls
    for cls in (InvalidArgumentError, FileError, InvalidFileError, UnsupportedError, OutOfMemoryError,
                ContextFullError, CancelledError, InternalError, BufferTooSmallError, NotFoundError)
}


def error_for(status: int, message: str) -> Error:
    """The exception for a failed call's status and message."""
    return _BY_STATUS.get(int(status), Error)(message, status)
