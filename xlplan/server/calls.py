"""One function call in the xlwings custom-functions convention, and its answer.

A call names a registered function and gives one 2-D matrix per argument; the
answer is ``{"result": [[...]]}`` or ``{"error": {"code", "message"}}`` with an
HTTP status (400 bad argument, 404 unknown function, 504 too slow). Only the
functions in :data:`xlplan.udfs.FUNCTIONS` can be called.
"""

import math
from dataclasses import dataclass

from pydantic import BaseModel

from .. import udfs
from ..excel import limits
from ..excel.cell_error import CellError

__all__ = ["Call", "Batch", "CallFailure", "prepare", "outcome", "result_cells", "MESSAGE_LIMIT"]

# Longest error message sent back: a message quotes the user's input, which may be huge.
MESSAGE_LIMIT = 2000

Cell = bool | int | float | str | None


class Call(BaseModel):
    """The body Office.js clients send (extra fields are ignored)."""

    func_name: str
    args: list[list[list[Cell]]] = []
    caller_address: str | None = None
    version: str | None = None
    runtime: str | None = None
    client: str | None = None


class Batch(BaseModel):
    calls: list[Call]


@dataclass
class CallFailure(Exception):
    """A call that cannot be answered with a result: HTTP status, Excel code, message."""

    status: int
    code: str
    message: str

    def outcome(self):
        message = self.message
        if len(message) > MESSAGE_LIMIT:
            message = message[: MESSAGE_LIMIT - 30] + " ... (message cut short)"
        return self.status, {"error": {"code": self.code, "message": message}}


def _argument(param, matrix, max_cells):
    cells = sum(len(row) for row in matrix)
    if cells > max_cells:
        raise CallFailure(
            400, "#VALUE!", f"{param.name} has {cells} cells; at most {max_cells} are allowed"
        )
    if not param.range and len(matrix) == 1 and len(matrix[0]) == 1:
        return matrix[0][0]
    return matrix


def result_cells(spec, args):
    """Cells ``spec``'s answer to ``args`` would have, known before computing it (an
    argument too malformed to tell counts 1: the function will refuse it)."""
    shape = limits.estimated_shape(spec.result_shape, args)
    return 1 if shape is None else shape[0] * shape[1]


def prepare(call, max_cells, max_result_cells=limits.MAX_RESULT_CELLS):
    """(spec, Python arguments) of a call, or :class:`CallFailure`: an unknown function,
    the wrong number of arguments, a range over ``max_cells`` cells, or an answer that
    would be over ``max_result_cells`` cells."""
    spec = udfs.FUNCTIONS.get(call.func_name.strip().upper())
    if spec is None:
        name = call.func_name if len(call.func_name) <= 60 else call.func_name[:55] + "..."
        raise CallFailure(
            404, "#NAME?", f"unknown function '{name}': xlplan has {', '.join(udfs.FUNCTIONS)}"
        )
    if not spec.min_args <= len(call.args) <= spec.max_args:
        wanted = (
            str(spec.max_args)
            if spec.min_args == spec.max_args
            else f"{spec.min_args} to {spec.max_args}"
        )
        raise CallFailure(
            400, "#VALUE!", f"{spec.name} takes {wanted} arguments, got {len(call.args)}"
        )
    args = [_argument(p, m, max_cells) for p, m in zip(spec.params, call.args, strict=False)]
    too_big = limits.refusal(spec.name, spec.result_shape, args, max_result_cells)
    if too_big is not None:
        raise CallFailure(400, too_big.code, too_big.message)
    return spec, args


def _finite_matrix(value):
    """``value`` as a 2-D list of finite floats, or None if it is not one (a bug to report)."""
    matrix = value if isinstance(value, list) else [[value]]
    try:
        cells = [float(v) for row in matrix for v in row]
    except (TypeError, ValueError, OverflowError):
        return None
    return matrix if all(math.isfinite(v) for v in cells) else None


def outcome(value, name="the function"):
    """(HTTP status, JSON body) of a function's return value: a number, a row or a CellError.

    A value JSON cannot carry (inf, nan, not a number) becomes ``#NUM!``, never a 500.
    """
    if isinstance(value, CellError):
        return CallFailure(400, value.code, value.message).outcome()
    matrix = _finite_matrix(value)
    if matrix is None:
        return CallFailure(
            400,
            "#NUM!",
            f"{name} gave {str(value)[:60]}, not a finite "
            "number: the inputs are out of any meaningful range",
        ).outcome()
    return 200, {"result": matrix}
