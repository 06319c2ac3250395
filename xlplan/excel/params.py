"""The Excel arguments, built from the engine's declarations.

Each :class:`~xlplan.excel.registry.Param` takes its help text from the engine's
:class:`~xlplan.engine.args.Arg` (so the function wizard, the add-in and the
engine's checks describe an argument once) and adds what only Excel needs: the
converter of a cell value, whether a blank is allowed and whether a range is.
Defaults are the engine's too (``Arg.default``).
"""

from ..engine import args
from ..engine.errors import InvalidTypeError
from ..fit import args as fit_args
from . import convert
from .registry import Param

__all__ = [
    "excel_param",
    "LAW",
    "HARDWARE",
    "PARAMS",
    "TOKENS",
    "LOSS",
    "REQUESTS",
    "INPUT_TOKENS",
    "OUTPUT_TOKENS",
    "INF_TOKENS",
    "UNIQUE_TOKENS",
    "RUNS",
    "whole_number",
]

_CONVERTERS = {"law": convert.law_cell, "hardware": convert.hardware_cell}


def excel_param(
    arg, name=None, help=None, default=args.REQUIRED, optional=None, range=False, converter=None
):
    """The Excel argument of the engine argument ``arg`` (an :class:`~xlplan.engine.args.Arg`).

    ``name`` and ``help`` override the engine's (``inf_tokens`` for
    ``inference_tokens``). A blank cell takes ``default``, by default the engine's
    (``arg.default``); a number with no default is required. A law or hardware is
    always optional.
    ``converter`` replaces the one the kind implies.
    """
    if converter is None:
        converter = _CONVERTERS.get(arg.kind)
    if default is args.REQUIRED:
        default = arg.default
    if converter is None:
        if optional or default is not args.REQUIRED:
            optional = True
            converter = convert.optional(None if default is args.REQUIRED else default)
        else:
            converter = convert.number
    if optional is None:
        optional = arg.kind in _CONVERTERS or default is not args.REQUIRED
    return Param(
        name or arg.name,
        arg.help if help is None else help,
        optional,
        range or arg.kind in _CONVERTERS,
        converter,
    )


def whole_number(default):
    """A converter: a whole number, or ``default`` for a blank cell."""

    def convert_whole(name, value):
        number = convert.optional_number(name, value, default)
        if number is None or isinstance(number, int):
            return number
        if not float(number).is_integer():
            raise InvalidTypeError(
                f"{{argument}}={number:g} must be a whole number", argument=name, value=number
            )
        return int(number)

    return convert_whole


# Office's schemas allow at most 128 characters per argument description (tested).
LAW = excel_param(args.LAW)
HARDWARE = excel_param(args.HARDWARE)
PARAMS = excel_param(args.PARAMS)
TOKENS = excel_param(args.TOKENS)
LOSS = excel_param(args.LOSS)
REQUESTS = excel_param(args.REQUESTS)
INPUT_TOKENS = excel_param(args.INPUT_TOKENS)
OUTPUT_TOKENS = excel_param(args.OUTPUT_TOKENS)
INF_TOKENS = excel_param(args.INFERENCE_TOKENS, name="inf_tokens")
UNIQUE_TOKENS = excel_param(args.UNIQUE_TOKENS)
RUNS = excel_param(fit_args.RUNS, range=True, converter=convert.table)
