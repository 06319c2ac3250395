"""Every failure of an Excel function is a cell error (issue 10, item 6): the inputs that
raised OverflowError, ZeroDivisionError or IndexError, or gave 0 or inf, now give #NUM! or
#VALUE! with a message, as plain Python calls."""

import math

import pytest

from xlplan import udfs
from xlplan.excel.cell_error import CellError
from xlplan.excel.registry import excel_function

TINY_EXPONENT_LAW = [[406.4, 410.7, 1.69, 0.34, 0.01]]
EXTREME_HARDWARE = [[1e-300, 1e308, 1, 1, 1e-300, 1, 1]]


@pytest.mark.parametrize(
    "call, code",
    [
        (lambda: udfs.CHINCHILLA_OPT(1e300), "#NUM!"),  # the sizes underflow to 0
        (lambda: udfs.CHINCHILLA_MODEL(7e9, TINY_EXPONENT_LAW), "#NUM!"),
        (lambda: udfs.OPT_PARAMS(2.1, 1e12, [[406.4, 410.7, 1.69, 0.001, 0.28]]), "#NUM!"),
        (lambda: udfs.COST_OPT(2.1, 1e9, None, None, EXTREME_HARDWARE), "#NUM!"),
        (lambda: udfs.OPT_PARAMS(10**400, 1e12), "#NUM!"),
        (lambda: udfs.TOTAL_FLOPS(10**400, 1, 1), "#NUM!"),
        (lambda: udfs.FIT_COEFFS([[]]), "#VALUE!"),
        (lambda: udfs.FIT_COEFFS([]), "#VALUE!"),
    ],
)
def test_inputs_that_used_to_raise_give_a_cell_error(call, code):
    value = call()
    assert isinstance(value, CellError), value
    assert value.code == code and value.message
    assert "Traceback" not in value


def test_a_sane_model_is_still_computed():
    params, tokens = udfs.CHINCHILLA_OPT(2.0)[0]
    assert 1e9 < params < 1e12 and math.isfinite(tokens)


def test_the_wrapper_turns_any_exception_into_a_cell_error():
    calls = []

    @excel_function()
    def XLPLAN_TEST_BROKEN():
        """A function that fails in a way xlplan did not plan for."""
        calls.append(1)
        return {}["missing"]

    @excel_function()
    def XLPLAN_TEST_OVERFLOW():
        """A function whose arithmetic overflows."""
        return math.exp(1e6)

    try:
        broken, overflow = XLPLAN_TEST_BROKEN(), XLPLAN_TEST_OVERFLOW()
    finally:
        del udfs.FUNCTIONS["XLPLAN_TEST_BROKEN"], udfs.FUNCTIONS["XLPLAN_TEST_OVERFLOW"]
    assert calls == [1]
    assert broken.code == "#VALUE!" and "KeyError" in broken.message
    assert "XLPLAN_TEST_BROKEN" in broken.message
    assert overflow.code == "#NUM!" and "OverflowError" in overflow.message
