"""Excel values in, engine arguments out.

Excel hands a function numbers, text, ``None`` (or ``""``) for a blank cell,
booleans, dates, and ranges as 1-D or 2-D lists. Each helper here turns one
argument into what the engine takes, or raises
:class:`~xlplan.engine.errors.InvalidTypeError` (``#VALUE!``) naming the argument and
what was given. Ranges of numbers are checked by the engine, not here.
"""

import math
import numbers

from ..engine.constants import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS
from ..engine.errors import InvalidTypeError, InvalidValueError
from ..engine.hardware import Hardware
from ..engine.laws import COEFFICIENT_NAMES
from ..shared.labels import HARDWARE_LABELS, SERVING_HARDWARE_LABELS

# The most cells one range argument may hold, on every route (desktop, Lite, the server's
# default --max-cells): a fit of 100,000 runs takes seconds; a billion would take
# gigabytes before any check could run.
MAX_CELLS = 100_000

__all__ = [
    "MAX_CELLS",
    "is_blank",
    "single",
    "number",
    "optional_number",
    "optional",
    "flag",
    "text",
    "law",
    "hardware",
    "per_request",
    "table",
    "row",
    "result",
    "size_row",
    "law_cell",
    "hardware_cell",
    "flag_cell",
    "numeric",
]


def is_blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _shape(value):
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(r, (list, tuple)) for r in value):
            return len(value), max(len(r) for r in value)
        return 1, len(value)
    return None


def single(name, value):
    """Unwrap a one-cell range; reject bigger ranges."""
    shape = _shape(value)
    if shape is None:
        return value
    if shape == (1, 1):
        inner = value[0]
        return inner[0] if isinstance(inner, (list, tuple)) else inner
    raise InvalidTypeError(
        f"{name} must be a single cell, got a {shape[0]}x{shape[1]} range",
        argument=name,
        value=value,
    )


def _to_float(name, value):
    if isinstance(value, bool):
        raise InvalidTypeError(
            f"{name}={value} is TRUE/FALSE, not a number", argument=name, value=value
        )
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except OverflowError:  # an integer of hundreds of digits (JSON allows it)
            infinite = math.inf if value > 0 else -math.inf
            raise InvalidValueError(
                f"{name}={str(value)[:20]}... ({len(str(value))} digits) "
                "is out of range: it must be a number below 1.8e308",
                argument=name,
                value=infinite,
            ) from None
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            raise InvalidTypeError(
                f"{name}='{value}' is text, not a number", argument=name, value=value
            ) from None
    raise InvalidTypeError(
        f"{name}={value!r} ({type(value).__name__}) is not a number", argument=name, value=value
    )


def number(name, value):
    """A required number: a number or numeric text in one cell."""
    value = single(name, value)
    if is_blank(value):
        raise InvalidTypeError(f"{name} is blank: it needs a number", argument=name, value=value)
    return _to_float(name, value)


def optional_number(name, value, default):
    """A number, or ``default`` when the cell is blank or the argument omitted."""
    value = single(name, value)
    return default if is_blank(value) else _to_float(name, value)


def numeric(converter):
    """Mark ``converter`` as one that returns a float unchanged (the fast path of a cell)."""
    converter.numeric = True
    return converter


number = numeric(number)


def optional(default):
    """A converter ``(name, value)``: a number, or ``default`` for a blank cell."""
    return numeric(lambda name, value: optional_number(name, value, default))


def per_request(input_tokens, output_tokens):
    """Prompt and generated tokens per request; blank cells take the defaults (70, 215)."""
    return (
        optional_number("input_tokens", input_tokens, DEFAULT_INPUT_TOKENS),
        optional_number("output_tokens", output_tokens, DEFAULT_OUTPUT_TOKENS),
    )


def flag(name, value, default=False):
    """TRUE/FALSE (or 1/0, or the text TRUE/FALSE); ``default`` when blank or omitted."""
    value = single(name, value)
    if is_blank(value):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().upper() in ("TRUE", "FALSE"):
        return value.strip().upper() == "TRUE"
    raise InvalidTypeError(f"{name}={value!r} must be TRUE or FALSE", argument=name, value=value)


def text(name, value):
    """Required text in one cell (e.g. a preset name)."""
    value = single(name, value)
    if is_blank(value) or not isinstance(value, str):
        raise InvalidTypeError(
            f"{name}={value!r} must be text (a preset name)", argument=name, value=value
        )
    return value


def _preset_or_numbers(name, value, count, labels):
    """None (default), a preset name, or ``count`` numbers (an int, or a tuple of the sizes
    allowed) from a 1-row or 1-column range."""
    counts = count if isinstance(count, tuple) else (count,)
    sizes = " or ".join(f"1x{n}" for n in counts)
    shape = _shape(value)
    if shape is None or shape == (1, 1):
        value = single(name, value)
        if is_blank(value):
            return None
        if isinstance(value, str):
            return value
        raise InvalidTypeError(
            f"{name}={value!r} must be a preset name or a {sizes} range ({labels})",
            argument=name,
            value=value,
        )
    rows = [r if isinstance(r, (list, tuple)) else [r] for r in value]
    if 1 not in shape or any(len(r) != len(rows[0]) for r in rows):
        raise InvalidTypeError(
            f"{name} must be one row of {' or '.join(map(str, counts))} "
            f"cells ({labels}), got a {shape[0]}x{shape[1]} range",
            argument=name,
            value=value,
        )
    cells = [c for r in rows for c in r]
    if len(cells) not in counts:
        raise InvalidTypeError(
            f"{name} must be a {sizes} range ({labels}), got {len(cells)} cells",
            argument=name,
            value=value,
        )
    return [number(f"{name}[{i + 1}]", c) for i, c in enumerate(cells)]


def law(value, name="law"):
    """A law: blank (default), a preset name or 5 cells A, B, E, alpha, beta."""
    return _preset_or_numbers(name, value, 5, ", ".join(COEFFICIENT_NAMES))


def hardware(value, name="hardware"):
    """Hardware: blank (default), a preset name or the 7 (or 10) settings of XLPLAN_HARDWARE."""
    # The counts are the engine's (Hardware.setting_names); only the message is Excel's.
    counts = (len(Hardware.setting_names()), len(Hardware.setting_names(all=True)))
    return _preset_or_numbers(
        name,
        value,
        counts,
        ", ".join(HARDWARE_LABELS) + "[, " + ", ".join(SERVING_HARDWARE_LABELS) + "]",
    )


def law_cell(name, value):
    """The converter ``(name, value)`` of a law argument (see :func:`law`)."""
    return law(value, name)


def hardware_cell(name, value):
    """The converter ``(name, value)`` of a hardware argument (see :func:`hardware`)."""
    return hardware(value, name)


def flag_cell(name, value):
    """The converter ``(name, value)`` of a TRUE/FALSE argument, FALSE when blank."""
    return flag(name, value)


def _check_cells(name, value):
    """At most :data:`MAX_CELLS` cells, counted before anything is copied."""
    size = getattr(value, "size", None)
    if isinstance(size, int):  # a numpy array
        cells = size
    elif isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        return
    elif len(value) > MAX_CELLS:
        cells = len(value)
    else:
        cells = sum(
            len(r) if hasattr(r, "__len__") and not isinstance(r, (str, bytes)) else 1
            for r in value
        )
    if cells > MAX_CELLS:
        raise InvalidValueError(
            f"{name} has {cells:,} cells: at most {MAX_CELLS:,} are allowed in one argument",
            argument=name,
            value=cells,
        )


def table(name, value):
    """A 2-D range as a list of rows (a single cell becomes a 1x1 table).

    At most :data:`MAX_CELLS` cells: a bigger range is an error before it is copied.
    """
    _check_cells(name, value)
    if not isinstance(value, (list, tuple, str, bytes)) and hasattr(value, "__len__"):
        value = [
            list(r) if hasattr(r, "__len__") and not isinstance(r, (str, bytes)) else r
            for r in value
        ]  # a range, an array: plain lists from here
    shape = _shape(value)
    if shape is None:
        return [[value]]
    if isinstance(value[0], (list, tuple)):
        return [list(r) for r in value]
    return [list(value)]


def result(value, name="result"):
    """A finite plain float: an overflow becomes ``#NUM!`` rather than ``inf`` in a cell."""
    value = float(value)
    if not math.isfinite(value):
        raise InvalidValueError(
            f"the {name} is {value} (too large to represent): the inputs "
            "are out of any meaningful range",
            argument=name,
            value=value,
        )
    return value


def row(*values):
    """A 1xk result row (spills right in Excel) of finite plain floats."""
    for v in values:
        if not (type(v) is float and -math.inf < v < math.inf):
            return [[result(v) for v in values]]
    return [list(values)]  # finite floats already (one cell): result() would change none


def size_row(params, tokens):
    """A 1x2 (params, tokens) row of a model: both finite and > 0.

    A size that underflows to 0 (e.g. the model for a target loss of 1E300) is no model
    at all, so it is ``#NUM!`` rather than a 0 in a cell.
    """
    if type(params) is float and type(tokens) is float and 0.0 < params < math.inf > tokens > 0.0:
        return [[params, tokens]]  # one cell's model: finite floats > 0 already
    values = row(params, tokens)
    for name, value in zip(("params", "tokens"), values[0], strict=True):
        if not value > 0:
            raise InvalidValueError(
                f"the {name} of this model is {value} (too small to "
                "represent): the inputs are out of any meaningful range",
                argument=name,
                value=value,
            )
    return values
