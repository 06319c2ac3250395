"""Read a file the user named, refusing what could hang, exhaust memory or crash a parser.

Every file the command line reads comes through here. A path may name a FIFO
(opening it would block until a writer comes), a device such as ``/dev/zero``
(reading never ends), a symbolic link to either, a folder, or a regular file far
larger than any input xlplan needs. Each is refused with one line naming the file
and the problem (a :class:`FileInputError`, which the CLI prints and exits 2 on).
"""

import os
import stat

from ..engine.errors import InvalidValueError

__all__ = [
    "FileInputError",
    "MAX_TEXT_BYTES",
    "MAX_DATA_BYTES",
    "read_bytes",
    "read_text",
    "check_regular_file",
]

# Settings files (scenarios, law files, the xlwings config) are a few kB.
MAX_TEXT_BYTES = 4 * 1024 * 1024
# Tables of runs (CSV) and workbooks (.xlsx, compressed) may be larger.
MAX_DATA_BYTES = 64 * 1024 * 1024


class FileInputError(InvalidValueError):
    """A file that cannot be used as input; the message names it and says why."""


def _describe(mode):
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _fail(what, path, problem, argument):
    return FileInputError(f"{what} {str(path)!r} {problem}", argument=argument, value=str(path))


def _open_failed(what, path, error, argument):
    problem = (
        "does not exist"
        if isinstance(error, FileNotFoundError)
        else f"cannot be read: {error.strerror or error}"
    )
    return _fail(what, path, problem, argument)


def _check_mode(info, what, path, argument, limit):
    if not stat.S_ISREG(info.st_mode):
        raise _fail(what, path, f"is {_describe(info.st_mode)}, not a regular file", argument)
    if info.st_size > limit:
        raise _fail(what, path, f"is {info.st_size:,} bytes; the limit is {limit:,}", argument)


def check_regular_file(path, what="file", argument=None, limit=MAX_DATA_BYTES):
    """Refuse ``path`` unless it (or the file a link points to) is a regular file within
    ``limit`` bytes; for files another program opens (a TLS certificate)."""
    try:
        info = os.stat(path)  # follows symbolic links: the target is what gets read
    except OSError as error:
        raise _open_failed(what, path, error, argument) from None
    _check_mode(info, what, path, argument, limit)


def read_bytes(path, what="file", argument=None, limit=MAX_DATA_BYTES):
    """The content of the regular file ``path``, at most ``limit`` bytes.

    Opened without blocking (a FIFO would otherwise wait for a writer), then checked
    on the open descriptor, so a file swapped after a check cannot slip through; at
    most ``limit + 1`` bytes are read, whatever the size the file claimed.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise _open_failed(what, path, error, argument) from None
    try:
        _check_mode(os.fstat(descriptor), what, path, argument, limit)
    except BaseException:
        os.close(descriptor)
        raise
    with os.fdopen(descriptor, "rb") as handle:  # FileIO refuses a folder: checked first
        try:
            data = handle.read(limit + 1)
        except OSError as error:
            raise _open_failed(what, path, error, argument) from None
    if len(data) > limit:  # it grew after the check
        raise _fail(what, path, f"is larger than the limit of {limit:,} bytes", argument)
    return data


def read_text(path, what="file", argument=None, limit=MAX_TEXT_BYTES, encoding="utf-8"):
    """The text of ``path`` decoded as ``encoding`` (UTF-8: a leading BOM is dropped)."""
    data = read_bytes(path, what, argument, limit)
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _fail(
            what,
            path,
            f"is not {encoding.upper()} text (byte 0x{data[error.start]:02x} "
            f"on line {line}); save it as {encoding.upper()}",
            argument,
        ) from None
    except LookupError as error:
        raise _fail(what, path, f"cannot be decoded: {error}", argument) from None
