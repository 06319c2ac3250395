"""Training runs (parameters, tokens, final loss) read from arrays, tables or files.

One reader for every source a user has: an Excel range (a list of rows whose
first row may be a header of text, blank cells as ``None``), a dict, a pandas
DataFrame, or a CSV/XLSX file. Blank or non-numeric rows are skipped and listed
by row number, never used silently; a non-positive or infinite value is an
error that names its row and column.

Row numbers are those a user sees in the sheet or file: with a header, the
header is row 1 and the first run is row 2; without one, the first run is row 1.
"""

import io
import math
import os
import sys
from dataclasses import dataclass

import numpy as np

from ..engine import validate
from ..engine.errors import PLACEHOLDER, InvalidTypeError, InvalidValueError
from ..shared.safe_read import MAX_DATA_BYTES, read_text
from ..shared.safe_xlsx import root_cause, xlsx_bytes

__all__ = ["Runs", "load_runs", "MIN_RUNS", "COLUMN_ALIASES"]

MIN_RUNS = 5  # one per coefficient (A, B, E, alpha, beta)
COLUMN_ALIASES = {
    "params": (
        "params",
        "parameters",
        "n",
        "model size",
        "model_size",
        "num params",
        "n params",
        "n_params",
        "num_params",
    ),
    "tokens": (
        "tokens",
        "d",
        "training tokens",
        "train tokens",
        "tokens trained",
        "n tokens",
        "n_tokens",
        "num_tokens",
        "data",
    ),
    # Training compute, FLOPs: read instead of tokens with flops_col (D = C / (6 N)).
    "flops": (
        "flops",
        "flop",
        "compute",
        "training compute",
        "training compute (flop)",
        "training flops",
        "c",
    ),
    "loss": (
        "loss",
        "final loss",
        "smoothed loss",
        "train loss",
        "training loss",
        "val loss",
        "validation loss",
        "eval loss",
        "l",
    ),
}
_FILE_TYPES = (".csv", ".xlsx", ".xlsm")
# Rows a runs file may hold: read no further (64 MB of "1,1,1" lines is 11 million rows,
# gigabytes as pandas objects). Published scaling-law studies fit a few hundred runs.
MAX_FILE_ROWS = 100_000


@dataclass(frozen=True, eq=False)
class Runs:
    """Training runs ready to fit, in source order (read-only arrays).

    Attributes
    ----------
    params : ndarray
        Parameter count N of each run.
    tokens : ndarray
        Training tokens D of each run.
    loss : ndarray
        Final loss of each run (nats per token).
    rows : tuple of int
        Row number of each run in the source.
    skipped_rows : tuple of int
        Rows skipped because they were blank or held non-numeric cells.
    skip_reasons : tuple of str
        Why each skipped row was skipped ("blank" or the offending cell).
    """

    params: np.ndarray
    tokens: np.ndarray
    loss: np.ndarray
    rows: tuple = ()
    skipped_rows: tuple = ()
    skip_reasons: tuple = ()

    def __post_init__(self):
        for key in ("params", "tokens", "loss"):
            arr = np.array(getattr(self, key), dtype=np.float64)
            arr.setflags(write=False)
            object.__setattr__(self, key, arr)

    def __len__(self):
        return len(self.params)

    @property
    def tokens_per_param(self):
        """D / N of each run."""
        return self.tokens / self.params

    def subset(self, mask):
        """The runs where boolean ``mask`` is true (skipped rows are kept as they were)."""
        rows = tuple(np.asarray(self.rows, dtype=int)[mask]) if self.rows else ()
        return Runs(
            self.params[mask],
            self.tokens[mask],
            self.loss[mask],
            rows,
            self.skipped_rows,
            self.skip_reasons,
        )


def _norm(name):
    return " ".join(str(name).strip().lower().replace("_", " ").split())


def _pick(columns, role, explicit):
    """Index of the column playing ``role``, by explicit name or by alias."""
    names = [_norm(c) for c in columns]
    wanted = [_norm(explicit)] if explicit is not None else [_norm(a) for a in COLUMN_ALIASES[role]]
    for alias in wanted:
        if alias in names:
            return names.index(alias)
    argument = f"{role}_col"
    near = [str(c) for c in columns if role[:4] in _norm(c)]
    hint = f"; columns that look close: {', '.join(near)}" if near else ""
    if explicit is not None:
        raise InvalidTypeError(
            f"{PLACEHOLDER}={explicit!r} is not a column of the runs table "
            f"(columns: {', '.join(map(str, columns))})",
            argument=argument,
            value=explicit,
        )
    raise InvalidTypeError(
        f"no {role} column found among {', '.join(map(str, columns))}: name one "
        f"{'/'.join(COLUMN_ALIASES[role][:3])}, or pass {PLACEHOLDER}=NAME{hint}",
        argument=argument,
        value=None,
    )


def _cell(value):
    """A float, None for a blank cell, or the original value if it is not a number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        return value
    return None if math.isnan(x) else x


def _is_text(value):
    return isinstance(value, str) and value.strip() != "" and not isinstance(_cell(value), float)


def _pandas():
    # Imported here: only a dict or a file needs pandas (0.1 s), and the Excel functions
    # import the fitter's declarations (xlplan.fit.args) without it.
    import pandas

    return pandas


def _table(source):
    """(column names or None, list of rows, row number of the first data row)."""
    if isinstance(source, (str, os.PathLike)):
        return _table(_read_file(source))
    if isinstance(source, dict):
        source = _pandas().DataFrame(source)
    pd = sys.modules.get("pandas")  # a DataFrame exists only once pandas is loaded
    if pd is not None and isinstance(source, pd.DataFrame):
        return list(source.columns), source.to_numpy(dtype=object).tolist(), 2
    rows = np.asarray(source, dtype=object) if not isinstance(source, np.ndarray) else source
    if rows.ndim != 2:
        raise InvalidTypeError(
            f"runs must be a table of rows (params, tokens, loss); got an "
            f"array of shape {rows.shape}",
            argument="runs",
            value=None,
        )
    rows = rows.tolist()
    if rows and any(_is_text(v) for v in rows[0]):
        return rows[0], rows[1:], 2
    return None, rows, 1


def _read_file(path):
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in _FILE_TYPES:
        raise InvalidTypeError(
            f"runs file {path!r} must end in {', '.join(_FILE_TYPES)}",
            argument="source",
            value=path,
        )
    if ext == ".csv":
        source = io.StringIO(read_text(path, "runs file", "source", limit=MAX_DATA_BYTES))
    else:
        source = io.BytesIO(xlsx_bytes(path, "runs file", "source"))
    pd = _pandas()
    try:
        if ext == ".csv":
            table = pd.read_csv(
                source,
                dtype=object,
                keep_default_na=False,
                skip_blank_lines=False,
                nrows=MAX_FILE_ROWS + 1,
            )
        else:
            table = pd.read_excel(
                source, dtype=object, keep_default_na=False, nrows=MAX_FILE_ROWS + 1
            )
    # pandas and openpyxl raise many kinds of exception on a malformed file (ParserError,
    # XML ParseError, KeyError, ...); every one means "not readable as this type".
    except Exception as error:
        raise InvalidValueError(
            f"runs file {path!r} cannot be read as {ext[1:]}: {root_cause(error)}",
            argument="source",
            value=path,
        ) from None
    if len(table) > MAX_FILE_ROWS:
        raise InvalidValueError(
            f"runs file {path!r} has more than {MAX_FILE_ROWS:,} rows",
            argument="source",
            value=path,
        )
    return table


def _columns(header, width, params_col, tokens_col, loss_col, flops_col=None):
    if header is None:
        given = {
            "params_col": params_col,
            "tokens_col": tokens_col,
            "loss_col": loss_col,
            "flops_col": flops_col,
        }
        for argument, col in given.items():
            if col is not None:
                raise InvalidTypeError(
                    f"{PLACEHOLDER}={col!r}: column names need a header row naming the columns",
                    argument=argument,
                    value=col,
                )
        if width != 3:
            raise InvalidTypeError(
                f"runs without a header row must have exactly 3 columns "
                f"(params, tokens, loss); got {width}",
                argument="runs",
                value=width,
            )
        return (0, 1, 2)
    data = ("flops", flops_col) if flops_col is not None else ("tokens", tokens_col)
    return tuple(
        _pick(header, role, col) for role, col in (("params", params_col), data, ("loss", loss_col))
    )


def load_runs(source, *, params_col=None, tokens_col=None, loss_col=None, flops_col=None):
    """Read training runs from an array, list of rows, dict, DataFrame or CSV/XLSX path.

    Parameters
    ----------
    source : array_like, dict, pandas.DataFrame, str or path
        A table with one run per row. A list of rows may start with a header
        row of text (as an Excel range does); without a header it must have
        exactly three columns: parameters, training tokens, loss (nats).
    params_col, tokens_col, loss_col : str, optional
        Column names to use instead of the built-in aliases (matched
        case-insensitively; see ``COLUMN_ALIASES``).
    flops_col : str, optional
        A column of training compute (FLOPs) to read instead of tokens, as in
        Epoch AI's replication data: tokens D = C / (6 N), the usual 6 N D
        training FLOPs of a dense transformer. Not together with ``tokens_col``.

    Returns
    -------
    Runs

    Raises
    ------
    InvalidValueError
        A value that is zero, negative or infinite (the message names its row
        and column), or fewer than ``MIN_RUNS`` usable runs.
    InvalidTypeError
        A source of the wrong shape or type, or a column that cannot be found.

    Examples
    --------
    >>> runs = load_runs([["params", "tokens", "loss"], [1e8, 2e9, 3.4], [None, None, None],
    ...                   [2e8, 4e9, 3.1], [4e8, 8e9, 2.9], [8e8, 1.6e10, 2.7],
    ...                   [1.6e9, 3.2e10, 2.5]])
    >>> len(runs), runs.skipped_rows
    (5, (3,))
    """
    if flops_col is not None and tokens_col is not None:
        raise InvalidTypeError(
            f"{PLACEHOLDER}={flops_col!r} and a tokens column "
            f"{tokens_col!r}: give training tokens or training FLOPs, "
            "not both",
            argument="flops_col",
            value=flops_col,
        )
    header, rows, first = _table(source)
    width = len(header) if header is not None else (len(rows[0]) if rows else 3)
    cols = _columns(header, width, params_col, tokens_col, loss_col, flops_col)
    names = ["params", "tokens", "loss"] if header is None else [str(header[c]) for c in cols]
    values, kept, skipped, reasons = [], [], [], []
    for offset, row in enumerate(rows):
        number = first + offset
        cells = [_cell(row[c]) if c < len(row) else None for c in cols]
        if all(c is None for c in cells):
            skipped.append(number)
            reasons.append("blank")
            continue
        odd = [
            (n, row[c])
            for n, c, v in zip(names, cols, cells, strict=True)
            if not isinstance(v, float)
        ]
        if odd:
            skipped.append(number)
            reasons.append("; ".join(f"{n}={v!r} is not a number" for n, v in odd))
            continue
        for n, v in zip(names, cells, strict=True):
            validate.scalar(n, v, label=f"row {number}: ", positions=[(number,)])
        values.append(cells)
        kept.append(number)
    if len(values) < MIN_RUNS:
        raise InvalidValueError(
            f"{len(values)} usable run(s) found ({len(skipped)} row(s) skipped as blank or "
            f"non-numeric): fitting 5 coefficients needs at least {MIN_RUNS} runs",
            argument="runs",
            value=len(values),
        )
    table = np.array(values, dtype=np.float64)
    if flops_col is not None:  # C = 6 N D training FLOPs, so D = C / (6 N)
        table[:, 1] = table[:, 1] / (6.0 * table[:, 0])
    return Runs(table[:, 0], table[:, 1], table[:, 2], tuple(kept), tuple(skipped), tuple(reasons))
