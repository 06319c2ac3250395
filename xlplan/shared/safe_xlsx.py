"""Open an .xlsx the user named: bounded in size before and after unzipping, never a traceback.

An .xlsx is a zip of XML parts. A small file can unzip to gigabytes (a "zip
bomb", e.g. a huge sharedStrings part), and its XML can declare entities (XXE,
"billion laughs"). The declared sizes are checked before anything is unzipped;
openpyxl parses the XML with defusedxml (a dependency of xlplan), which refuses
entity declarations; anything else openpyxl cannot read is one line naming the file.
"""

import io
import os
import zipfile

from .safe_read import MAX_DATA_BYTES, FileInputError, read_bytes

__all__ = [
    "MAX_UNZIPPED_BYTES",
    "MAX_PARTS",
    "XLSX_SUFFIXES",
    "xlsx_bytes",
    "load_workbook",
    "root_cause",
]

# Unzipped size of all parts together: xlplan's templates unzip to well under 1 MB, 100,000
# runs to about 10 MB. openpyxl needs about 10 times a part's size in memory, and a minute
# to load and save 32 MB (a million cells) on a loaded machine: 16 MB bounds that to ~30 s.
MAX_UNZIPPED_BYTES = 16 * 1024 * 1024
MAX_PARTS = 10_000
XLSX_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")


def _fail(what, path, problem, argument):
    return FileInputError(f"{what} {str(path)!r} {problem}", argument=argument, value=str(path))


def xlsx_bytes(path, what="workbook", argument=None):
    """The bytes of the workbook ``path``, once its zip directory is checked for size."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in XLSX_SUFFIXES:
        raise _fail(what, path, f"must be an Excel workbook ({', '.join(XLSX_SUFFIXES)})", argument)
    data = read_bytes(path, what, argument, MAX_DATA_BYTES)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise _fail(
            what, path, f"is not a readable .xlsx workbook (not a zip archive: {error})", argument
        ) from None
    if len(parts) > MAX_PARTS:
        raise _fail(what, path, f"holds {len(parts):,} parts; the limit is {MAX_PARTS:,}", argument)
    unzipped = sum(part.file_size for part in parts)
    if unzipped > MAX_UNZIPPED_BYTES:
        raise _fail(
            what,
            path,
            f"unzips to {unzipped:,} bytes; the limit is {MAX_UNZIPPED_BYTES:,}",
            argument,
        )
    return data


def root_cause(error):
    """``Type: message`` of the first exception in ``error``'s chain, on one short line.

    openpyxl re-raises a part's parse failure as "could not read worksheets from None";
    the first exception says what was wrong (e.g. defusedxml's EntitiesForbidden).
    """
    while (error.__cause__ or error.__context__) is not None:
        error = error.__cause__ or error.__context__
    return f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"


def load_workbook(path, what="workbook", argument=None):
    """The openpyxl workbook ``path`` (formulas kept), or a one-line :class:`FileInputError`."""
    import openpyxl  # here: `xlplan --help` need not load it

    data = xlsx_bytes(path, what, argument)
    try:
        return openpyxl.load_workbook(io.BytesIO(data))
    # openpyxl raises whatever its XML parser or descriptors raise on a malformed part
    # (ParseError, KeyError, TypeError, defusedxml's EntitiesForbidden, ...): all mean the
    # same to the user, who needs the file named and the reason, not a traceback.
    except Exception as error:
        raise _fail(
            what, path, f"is not a readable .xlsx workbook ({root_cause(error)})", argument
        ) from None
