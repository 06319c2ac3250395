"""A slow-call worker: ``python -m xlplan.server.worker``, run by :mod:`xlplan.server.slow`.

Reads calls from stdin and writes answers to stdout, each a pickled message
behind a 4-byte big-endian length. On start it imports the fitter and sends
``"ready"``; then, for each ``(name, args)``, the function's value (a number row
or a :class:`~xlplan.excel.cell_error.CellError`), answers bounded by
``--max-result-cells``.

It ignores SIGINT, SIGHUP and SIGQUIT: a Ctrl-C (or a closed terminal) reaches the
whole process group, and the server, not the worker, decides when to stop (it kills
the worker). It never outlives the server, even one killed with SIGKILL: it exits
the moment its stdin closes (a thread reads the calls, so this holds mid-fit), and
on Linux the kernel also kills it when the server dies (``PR_SET_PDEATHSIG``).
"""

import argparse
import ctypes
import os
import pickle
import queue
import signal
import struct
import sys
import threading

__all__ = ["read_message", "write_message", "main"]

_LENGTH = struct.Struct(">I")
# prctl(2) option: the signal this process gets when its parent thread exits.
_PR_SET_PDEATHSIG = 1


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
    except BaseException as error:
        from ..excel.cell_error import CellError

        return CellError("#VALUE!", f"{name}: {type(error).__name__}: {error}"[:500])


def _die_with_parent(parent):
    """Be killed by the kernel when the server dies (Linux); exit now if it already has."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no libc to call: the stdin watch still holds
            pass
    if parent is not None and os.getppid() != parent:  # it died before prctl took effect
        os._exit(0)


def _calls(stream):
    """A queue of the calls read from ``stream`` by a thread that ends this process the
    moment ``stream`` closes: the server has gone, so no answer is wanted any more."""
    calls = queue.SimpleQueue()

    def read():
        while True:
            try:
                calls.put(read_message(stream))
            except (EOFError, OSError):
                os._exit(0)

    threading.Thread(target=read, name="xlplan-worker-calls", daemon=True).start()
    return calls


def _options(argv):
    parser = argparse.ArgumentParser(prog="python -m xlplan.server.worker")
    parser.add_argument("--parent", type=int, help="the server's pid")
    parser.add_argument("--max-result-cells", type=int, help="most cells one answer holds")
    return parser.parse_args(argv)


def main(argv=None):
    options = _options(argv)
    _die_with_parent(options.parent)
    for sig in (signal.SIGINT, getattr(signal, "SIGHUP", None), getattr(signal, "SIGQUIT", None)):
        if sig is not None:
            signal.signal(sig, signal.SIG_IGN)
    # The answers own the real stdout; anything printed goes to stderr instead.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    import xlplan.fit.law  # noqa: F401  (the first call should not pay for the import)

    from .. import udfs  # noqa: F401
    from ..excel import limits

    calls = _calls(sys.stdin.buffer)
    write_message(answers, "ready")
    with limits.result_limit(options.max_result_cells or limits.MAX_RESULT_CELLS):
        while True:
            name, args = calls.get()
            write_message(answers, _answer(name, args))


if __name__ == "__main__":
    sys.exit(main())
