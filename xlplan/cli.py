"""The ``xlplan`` command line: one sub-command per module in :mod:`xlplan.commands`.

Each command module defines ``add_parser(subparsers)``, which registers its
parser and sets ``run`` (a function taking the parsed arguments and returning
an exit code). Errors of bad input print one line, never a traceback.
"""

import argparse
import importlib
import os
import re
import signal
import sys
import threading

from .engine.errors import XlplanError

# Module names under xlplan.commands, in the order ``xlplan --help`` lists them.
COMMANDS = ["tables", "fit", "workbooks", "recalc", "report", "serve", "addin"]


def build_parser():
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="xlplan",
        description="Inference-aware LLM sizing (Sardana et al. 2024) for Excel and scripts.",
    )
    parser.add_argument("--version", action="version", version=f"xlplan {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"xlplan.commands.{name}").add_parser(subparsers)
    _plain_help(parser)
    return parser


# reST markup of the command modules' docstrings: ``code`` and :role:`target`.
_MARKUP = re.compile(r"``(.+?)``|:[a-z]+:`~?(.+?)`")


def plain(text):
    """``text`` without reST markup, for --help: ``xlplan fit`` -> xlplan fit."""
    return _MARKUP.sub(lambda m: m.group(1) or m.group(2), text) if text else text


def _plain_help(parser):
    """Strip reST markup from every description and help text, sub-commands included."""
    parser.description = plain(parser.description)
    for action in parser._actions:  # argparse keeps its actions here; there is no public list
        action.help = plain(action.help)
        for sub in getattr(action, "choices", None) or {}:
            if isinstance(action.choices, dict):
                _plain_help(action.choices[sub])
    for choice in getattr(parser, "_choices_actions", []):
        choice.help = plain(choice.help)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl+C so every ``finally`` (temporary files) runs."""


def _stop(signum, frame):
    raise Stopped(signal.Signals(signum).name)


def _stop_on_signals():
    """End on SIGTERM and SIGHUP as on Ctrl+C, not at once: an atomic write then removes its
    temporary file. Returns the previous handlers, to put back."""
    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            previous[getattr(signal, name)] = signal.signal(getattr(signal, name), _stop)
    return previous


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    # Not for serve: its server and worker processes handle their own signals. Handlers
    # can be set from the main thread only (main() may run in another, e.g. in a test).
    previous = (
        _stop_on_signals()
        if args.command != "serve" and threading.current_thread() is threading.main_thread()
        else {}
    )
    try:
        return _run(args)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# Longest line of an error message: a hostile file can put megabytes into one (a column
# name, a value), which would bury the message.
MESSAGE_LINE_CHARS = 1000


def _clipped(error):
    """The message of ``error``, each line clipped and its control characters escaped."""
    lines = []
    for line in str(error).splitlines():
        if len(line) > MESSAGE_LINE_CHARS:
            line = line[:MESSAGE_LINE_CHARS] + f"... ({len(line):,} characters)"
        lines.append("".join(c if c.isprintable() else repr(c)[1:-1] for c in line))
    return "\n".join(lines)


def _run(args):
    try:
        return args.run(args) or 0
    except XlplanError as error:
        print(f"xlplan {args.command}: error: {_clipped(error)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        # Python flushes stdout at exit; point it at /dev/null (left open until then) so
        # that flush does not raise a second BrokenPipeError.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        return 0
    except ArithmeticError as error:
        # Inputs of absurd size (a law coefficient of 1e-320) can overflow a computation the
        # engine does not yet guard; still one line, naming what happened, not a traceback.
        print(
            f"xlplan {args.command}: error: a computation failed on these inputs "
            f"({type(error).__name__}: {error}); check the magnitudes of the inputs",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt as stop:
        print(f"xlplan {args.command}: stopped ({stop or 'interrupted'})", file=sys.stderr)
        return 130
    except OSError as error:
        print(f"xlplan {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
