"""One function call in the xlwings custom-functions convention, and its answer.

A call names a registered function and gives one 2-D matrix per argument; the
answer is ``{"result": [[...]]}`` or ``{"error": {"code", "message"}}`` with an
HTTP status (400 bad argument, 404 unknown function, 504 too slow). Only the
functions in :data:`xlplan.udfs.FUNCTIONS` can be called.
"""

from dataclasses import dataclass

from pydantic import BaseModel

from .. import udfs
from ..excel.cell_error import CellError

__all__ = ["Call", "Batch", "CallFailure", "prepare", "outcome"]

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
        return self.status, {"error": {"code": self.code, "message": self.message}}


def _argument(param, matrix, max_cells):
    cells = sum(len(row) for row in matrix)
    if cells > max_cells:
        raise CallFailure(400, "#VALUE!", f"{param.name} has {cells} cells; at most "
                          f"{max_cells} are allowed")
    if not param.range and len(matrix) == 1 and len(matrix[0]) == 1:
        return matrix[0][0]
    return matrix


def prepare(call, max_cells):
    """(spec, Python arguments) of a call, or :class:`CallFailure`."""
    spec = udfs.FUNCTIONS.get(call.func_name.strip().upper())
    if spec is None:
        raise CallFailure(404, "#NAME?", f"unknown function '{call.func_name}': xlplan has "
                          f"{', '.join(udfs.FUNCTIONS)}")
    if not spec.min_args <= len(call.args) <= spec.max_args:
        wanted = (str(spec.max_args) if spec.min_args == spec.max_args
                  else f"{spec.min_args} to {spec.max_args}")
        raise CallFailure(400, "#VALUE!", f"{spec.name} takes {wanted} arguments, got "
                          f"{len(call.args)}")
    args = [_argument(p, m, max_cells) for p, m in zip(spec.params, call.args, strict=False)]
    return spec, args


def outcome(value):
    """(HTTP status, JSON body) of a function's return value: a number, a row or a CellError."""
    if isinstance(value, CellError):
        return CallFailure(400, value.code, value.message).outcome()
    return 200, {"result": value if isinstance(value, list) else [[value]]}
