"""A slow-call worker: ``python -m xlplan.server.worker``, run by :mod:`xlplan.server.slow`.

Reads calls from stdin and writes answers to stdout, each a pickled message
behind a 4-byte big-endian length. On start it imports the fitter and sends
``"ready"``; then, for each ``(name, args)``, the function's value (a number row
or a :class:`~xlplan.excel.cell_error.CellError`). It ignores SIGINT: a Ctrl-C in
the terminal reaches the whole process group, and the server, not the worker,
decides when to stop (it kills the worker). It ends when stdin closes.
"""

import os
import pickle
import signal
import struct
import sys

__all__ = ["read_message", "write_message", "main"]

_LENGTH = struct.Struct(">I")


def read_message(stream):
    """The next message on a binary stream, or raise EOFError when it is closed."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    (size,) = _LENGTH.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        raise EOFError
    return pickle.loads(body)


def write_message(stream, message):
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(body)) + body)
    stream.flush()


def _answer(name, args):
    from .. import udfs

    try:
        return udfs.FUNCTIONS[name].func(*args)
    except BaseException as error:  # noqa: BLE001  (the registry wrapper already catches)
        from ..excel.cell_error import CellError

        return CellError("#VALUE!", f"{name}: {type(error).__name__}: {error}"[:500])


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The answers own the real stdout; anything printed goes to stderr instead.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    calls = sys.stdin.buffer
    sys.stdout = sys.stderr
    import xlplan.fit.law  # noqa: F401  (the first call should not pay for the import)

    from .. import udfs  # noqa: F401

    write_message(answers, "ready")
    while True:
        try:
            name, args = read_message(calls)
        except EOFError:
            return 0
        write_message(answers, _answer(name, args))


if __name__ == "__main__":
    sys.exit(main())
