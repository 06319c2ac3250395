"""``xlplan addin``: point the xlwings Excel add-in at xlplan's functions (Excel for Windows).

Edits xlwings' user configuration file, by default the one xlwings itself reads
(``~/.xlwings/xlwings.conf``; on a Mac
``~/Library/Containers/com.microsoft.Excel/Data/xlwings.conf``): ``UDF MODULES``
gains ``xlplan.udfs`` (modules already listed are kept) and this platform's
interpreter key is set to this Python. Every other setting is kept. Then it
prints the steps left to do in Excel. xlwings' Excel functions (UDFs) run only
in Excel for Windows; on a Mac use ``xlplan serve`` (the Office add-in).
"""

import locale
import os
import re
import sys

from ..engine.errors import InvalidValueError, XlplanError
from ..shared.atomic import atomic_path
from ..shared.safe_read import read_text
from .extras import require_extra

UDF_MODULE = "xlplan.udfs"
MODULES_KEY = "UDF MODULES"
# xlwings reads this file twice: in Python (utils.read_user_config, the first two
# quoted strings of a line) and in VBA (Config.bas, ``Input #`` reading field pairs,
# so a stray field shifts every later pair). Accept only lines both read alike.
LINE = re.compile(r'\s*"([^"]*)"\s*,\s*"([^"]*)"\s*')


def _encoding():
    # The encoding xlwings' own open() calls use: the locale's (on Windows the ANSI
    # code page, which VBA's ``Open ... For Input`` also reads in).
    return locale.getpreferredencoding(False)


def interpreter_key(platform=None):
    """The key the add-in reads for the Python path on ``platform`` (default: this one).

    The add-in's VBA reads ``INTERPRETER_MAC`` on a Mac and ``INTERPRETER_WIN``
    otherwise (``Main.bas``), so only that key is written, as ``xlwings config
    create`` and the ribbon's Interpreter box do; the other platform's key would
    only hold a path that means nothing there.
    """
    platform = sys.platform if platform is None else platform
    return "INTERPRETER_MAC" if platform.startswith("darwin") else "INTERPRETER_WIN"


def read_config(path):
    """Parse an xlwings config file into ``(key, value, line)`` entries; [] if missing.

    Raises
    ------
    XlplanError
        When the file cannot be read or decoded, or a non-blank line is not
        ``"KEY","VALUE"``; the message names the file (and line).
    """
    if not os.path.lexists(path):
        return []
    lines = read_text(path, "xlwings config", "--config", encoding=_encoding()).splitlines()
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue  # xlwings' own writer drops blank lines too
        match = LINE.fullmatch(line)
        if not match:
            raise XlplanError(
                f"the xlwings config {path} is malformed at line {number} "
                f'({line.strip()[:60]!r}): each line must read "KEY","VALUE"; '
                "fix or move it, it was left unchanged"
            )
        entries.append((match[1], match[2], line))
    return entries


def merge_modules(values):
    """``UDF MODULES`` value listing the modules in ``values`` (``;``-separated), plus ours."""
    modules = []
    for value in values:
        for name in value.split(";"):
            name = name.strip()  # xlwings imports the names exactly as split
            if name and name not in modules:
                modules.append(name)
    if UDF_MODULE not in modules:
        modules.append(UDF_MODULE)
    return ";".join(modules)


def _line(key, value):
    return f'"{key}","{value}"'


def updated_lines(entries, interpreter, key):
    """The config's lines with our two keys set, each where it first appeared (else at the end).

    Keys compare case-insensitively, as both of xlwings' readers do; a repeated
    key of ours is dropped after its first line (VBA reads the first, Python the last).
    """
    owned = {
        MODULES_KEY: merge_modules(v for k, v, _ in entries if k.upper() == MODULES_KEY),
        key: interpreter,
    }
    lines, done = [], set()
    for entry_key, _, line in entries:
        upper = entry_key.upper()
        if upper not in owned:
            lines.append(line)
        elif upper not in done:
            lines.append(_line(upper, owned[upper]))
            done.add(upper)
    lines += [_line(k, v) for k, v in owned.items() if k not in done]
    return lines


def check_interpreter(path):
    """Absolute path of the interpreter to write; it must be a file the format can hold."""
    if not path:
        raise InvalidValueError(
            "cannot tell this Python's path: give --interpreter PATH",
            argument="interpreter",
            value=path,
        )
    if not os.path.isfile(path):
        raise InvalidValueError(
            f"--interpreter {path!r} is not a file", argument="interpreter", value=path
        )
    if '"' in path or "\n" in path or "\r" in path:
        raise InvalidValueError(
            f"--interpreter {path!r}: xlwings' config cannot hold a path "
            "with quotes or line breaks",
            argument="interpreter",
            value=path,
        )
    return os.path.abspath(path)


def write_atomically(path, text):
    """Write ``text`` to ``path`` atomically (:func:`xlplan.shared.atomic.atomic_path`).

    The folder is created if missing; an existing file keeps its permissions and a
    new one is private to the user (the config may hold a licence key).
    """
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_path(path, private=True) as temporary:
        temporary.write_text(text, encoding=_encoding())


WINDOWS_STEPS = """\
Next, in Excel for Windows (xlwings itself was installed with xlplan):
  1. Install the xlwings Excel add-in:  xlwings addin install
  2. File > Options > Trust Center > Trust Center Settings > Macro Settings: tick
     "Trust access to the VBA project object model" (Import Functions writes VBA code).
  3. Open a macro-enabled workbook (.xlsm); it needs a reference to xlwings
     (Alt+F11, Tools > References, tick xlwings). `xlwings quickstart NAME` makes one.
  4. On the xlwings ribbon tab click "Import Functions", then try =OPT_PARAMS(2.1, 1E12).
     Click it again after upgrading xlplan."""

MAC_NOTE = """\
Excel for Mac: xlwings' Excel functions (UDFs) run only in Excel for Windows (its
add-in hides Import Functions on a Mac). Use the Office add-in instead: xlplan serve"""


def next_steps(platform=None):
    """What is left to do in Excel on ``platform`` (default: this one)."""
    platform = sys.platform if platform is None else platform
    return MAC_NOTE if platform.startswith("darwin") else f"{WINDOWS_STEPS}\n\n{MAC_NOTE}"


def _report(path, lines, key, dry_run):
    if dry_run:
        print(f"xlplan addin: dry run, nothing written; {path} would read:")
        print("".join(f"  {line}\n" for line in lines), end="")
        return
    print(f"xlplan addin: wrote {path}")
    for line in lines:
        if LINE.fullmatch(line)[1] in (MODULES_KEY, key):
            print(f"  {line}")
    if len(lines) > 2:
        print(f"  ({len(lines) - 2} other setting(s) kept)")


def default_config_path():
    """The user config file xlwings itself reads on this platform."""
    require_extra("addin", "desktop", "xlwings")
    import xlwings  # imported here: it pulls in pandas, too slow for `xlplan --help`

    return xlwings.USER_CONFIG_FILE


def run(args):
    path = os.path.realpath(os.path.expanduser(args.config or default_config_path()))
    interpreter = check_interpreter(args.interpreter or sys.executable)
    key = interpreter_key()
    entries = read_config(path)
    lines = updated_lines(entries, interpreter, key)
    text = "".join(line + "\n" for line in lines)
    try:
        text.encode(_encoding())
    except UnicodeEncodeError as error:
        raise InvalidValueError(
            f"{interpreter!r} cannot be written in the encoding xlwings reads ({error.encoding})",
            argument="interpreter",
            value=interpreter,
        ) from error
    if [line for _, _, line in entries] == lines:
        print(
            f"xlplan addin: {path} already imports {UDF_MODULE} with {interpreter}; "
            "nothing to change"
        )
    else:
        if not args.dry_run:
            write_atomically(path, text)
        _report(path, lines, key, args.dry_run)
    print()
    print(next_steps())
    return 0


def _escaped(text):
    return str(text).replace("%", "%%")  # argparse %-formats help texts


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "addin",
        help="set up the xlwings Excel add-in to import xlplan's functions",
        description=__doc__,
    )
    parser.add_argument(
        "--config",
        default=None,
        metavar="PATH",
        help="xlwings config file to edit (default: the one xlwings reads, "
        "~/.xlwings/xlwings.conf; on a Mac ~/Library/Containers/"
        "com.microsoft.Excel/Data/xlwings.conf)",
    )
    parser.add_argument(
        "--interpreter",
        default=None,
        metavar="PATH",
        help=f"Python the add-in should run (default: this one, {_escaped(sys.executable)})",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the file that would be written and write nothing",
    )
    parser.set_defaults(run=run)
