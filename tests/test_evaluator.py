"""The formula evaluator, function by function, against Excel's documented results.

Expected values are the examples of Microsoft's function reference pages (ROUND,
SUM, AVERAGE, MIN, MAX, ABS, SQRT, LN, EXP, LOG10, INDEX, IF, IFERROR) and of
"Calculation operators and precedence in Excel", not our own output.
"""

import math

import openpyxl
import pytest

from xlplan.excel.cell_error import CellError
from xlplan.workbook import functions
from xlplan.workbook.evaluate import evaluate

# A small sheet the formulas read: numbers in A1:A5, a 2x2 block, text, a boolean.
DATA = {
    "A1": 10,
    "A2": 7,
    "A3": 9,
    "A4": 27,
    "A5": 2,
    "B1": "Apples",
    "B2": "Lemons",
    "C1": 0.69,
    "C2": 0.34,
    "D1": "text",
    "D2": True,
    "E1": 0,
}


def _evaluate(formula, extra=None):
    """The value of ``formula`` placed in Z1 of a sheet holding DATA."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for ref, value in {**DATA, **(extra or {})}.items():
        ws[ref] = value
    ws["Z1"] = formula
    result = evaluate(wb)
    assert not result.unsupported, result.unsupported
    return result.values[("S", 1, 26)]


DOCUMENTED = [
    # ROUND (support.microsoft.com, "ROUND function")
    ("=ROUND(2.15, 1)", 2.2),
    ("=ROUND(2.149, 1)", 2.1),
    ("=ROUND(-1.475, 2)", -1.48),
    ("=ROUND(21.5, -1)", 20.0),
    ("=ROUND(626.3, -3)", 1000.0),
    ("=ROUND(1.98, -1)", 0.0),
    ("=ROUND(-50.55, -2)", -100.0),
    # half away from zero, on the decimal value shown (not Python's half to even)
    ("=ROUND(2.5, 0)", 3.0),
    ("=ROUND(-2.5, 0)", -3.0),
    ("=ROUND(0.125, 2)", 0.13),
    ("=ROUND(2.675, 2)", 2.68),
    ("=ROUND(0.5, 0)", 1.0),
    ("=ROUND(1234.5678, 1.9)", 1234.6),
    # ROUNDUP ("ROUNDUP function"): away from zero
    ("=ROUNDUP(3.2, 0)", 4.0),
    ("=ROUNDUP(76.9, 0)", 77.0),
    ("=ROUNDUP(3.14159, 3)", 3.142),
    ("=ROUNDUP(-3.14159, 1)", -3.2),
    ("=ROUNDUP(31415.92654, -2)", 31500.0),
    ("=ROUNDUP(2, 0)", 2.0),
    # SUM: numbers typed as arguments, text numbers and TRUE count; in ranges they do not
    ("=SUM(3, 2)", 5.0),
    ("=SUM(A1:A5)", 55.0),
    ("=SUM(A1:A5, 15)", 70.0),
    ('=SUM("5", 15, TRUE)', 21.0),
    ("=SUM(B1:D2)", 1.03),
    # AVERAGE, MIN, MAX ("AVERAGE function": 10, 7, 9, 27, 2 -> 11)
    ("=AVERAGE(A1:A5)", 11.0),
    ("=AVERAGE(A1:A5, 5)", 10.0),
    ("=MIN(A1:A5)", 2.0),
    ("=MAX(A1:A5)", 27.0),
    ("=MAX(A1:A5, 30)", 30.0),
    ("=MIN(A1:A5, 0)", 0.0),
    ("=MAX(B1:B2)", 0.0),  # no numbers in the range: 0
    # ABS, SQRT, LN, EXP, LOG10
    ("=ABS(2)", 2.0),
    ("=ABS(-2)", 2.0),
    ("=SQRT(16)", 4.0),
    ("=SQRT(ABS(-16))", 4.0),
    ("=LN(86)", 4.454347296253507),
    ("=LN(2.7182818)", 0.9999999895305024),
    ("=LN(EXP(3))", 3.0),
    ("=EXP(1)", math.e),
    ("=EXP(2)", 7.38905609893065),
    ("=LOG10(86)", 1.934498451243568),
    ("=LOG10(10)", 1.0),
    ("=LOG10(1E5)", 5.0),
    ("=LOG10(10^5)", 5.0),
    # INDEX ("INDEX function": the value at row 2, column 2 of A2:B3 is "Pears" there)
    ("=INDEX(B1:C2, 2, 2)", 0.34),
    ("=INDEX(B1:C2, 2, 1)", "Lemons"),
    ("=INDEX(A1:A5, 4)", 27.0),
    ("=INDEX(C1:C2, 1)", 0.69),
    # IF and IFERROR
    ('=IF(A1>A2, "Over Budget", "OK")', "Over Budget"),
    ('=IF(A1<A2, "Over", "OK")', "OK"),
    ("=IF(A5=2, 1)", 1.0),
    ("=IF(A5=3, 1)", False),
    ('=IFERROR(A1/E1, "Error in calculation")', "Error in calculation"),
    ('=IFERROR(A1/A5, "Error")', 5.0),
    # operators and precedence
    ("=-2^2", 4.0),
    ("=2^3^2", 64.0),
    ("=5+2*3", 11.0),
    ("=(5+2)*3", 21.0),
    ("=50%", 0.5),
    ('="a"&1&TRUE', "a1TRUE"),
    ("=TRUE+1", 2.0),
    ('="3"+1', 4.0),
    # comparisons: numbers < text < FALSE < TRUE, text case-insensitive, no conversion
    ('=1<"a"', True),
    ('="a"<TRUE', True),
    ('=FALSE>"zzz"', True),
    ("=FALSE<TRUE", True),
    ('="a"="A"', True),
    ('="2"<"10"', False),
    ('="1"=1', False),
    ("=TRUE=1", False),
    ("=B1<B2", True),
    ("=A1>=10", True),
    ("=A1<>10", False),
    ('=A1>"9"', False),
    ("=Y9=0", True),
    ('=Y9=""', True),
    ("=Y9=FALSE", True),
    ("=Y9<1", True),
]


@pytest.mark.parametrize("formula, expected", DOCUMENTED)
def test_documented_results(formula, expected):
    value = _evaluate(formula)
    if isinstance(expected, float):
        assert isinstance(value, (int, float)) and not isinstance(value, bool), value
        assert value == pytest.approx(expected, rel=1e-14, abs=1e-300), formula
    else:
        assert value == expected and isinstance(value, type(expected)), (formula, value)


@pytest.mark.parametrize(
    "formula, code",
    [
        ("=SQRT(-16)", "#NUM!"),
        ("=LN(0)", "#NUM!"),
        ("=LOG10(-1)", "#NUM!"),
        ("=A1/E1", "#DIV/0!"),
        ("=AVERAGE(B1:B2)", "#DIV/0!"),
        ("=INDEX(A1:A5, 6)", "#REF!"),
        ("=INDEX(B1:C2, 1, 3)", "#REF!"),
        ('=ABS("x")', "#VALUE!"),
        ("=D1+1", "#VALUE!"),
        ('=IF("maybe", 1, 2)', "#VALUE!"),
        ("=SUM(A1, D1)", "#VALUE!"),
        ("=#N/A", "#N/A"),
        ("=ROUND(1/0, 2)", "#DIV/0!"),
        ("=(1/0)<1", "#DIV/0!"),
        ('="a"<SQRT(-1)', "#NUM!"),
    ],
)
def test_documented_errors(formula, code):
    value = _evaluate(formula)
    assert isinstance(value, CellError) and value.code == code, (formula, value)


def test_round_matches_decimal_rounding_of_the_shown_value():
    """Independent check: round-half-away-from-zero of the typed decimal, over many cases."""
    from decimal import ROUND_HALF_UP, Decimal

    for k in range(-2000, 2001):
        for places in (0, 1, 2, 3):
            number = k / 8 + k / 1000  # many exact and inexact ties
            expected = float(
                Decimal(repr(number)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
            )
            assert functions.excel_round(number, places) == expected, (number, places)
    assert (
        functions.excel_round(-0.4, 0) == 0.0
        and math.copysign(1, functions.excel_round(-0.4, 0)) == 1.0
    )


def test_a_mixed_type_comparison_in_recalc_is_a_value_not_a_crash(tmp_path, capsys):
    from xlplan.cli import main

    source = tmp_path / "in.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "S"
    wb.active["A1"] = '=1<"a"'
    wb.active["A2"] = '=IF(A1, "numbers first", "text first")'
    wb.save(source)
    out = tmp_path / "out.xlsx"
    assert main(["recalc", str(source), "-o", str(out)]) == 0
    ws = openpyxl.load_workbook(out, data_only=True)["S"]
    assert ws["A1"].value is True and ws["A2"].value == "numbers first"


@pytest.mark.parametrize("fault", [KeyError("missing key"), TypeError("bad operand")])
def test_a_fault_inside_a_function_is_reported_as_itself(fault, monkeypatch):
    def broken(*args):
        raise fault

    monkeypatch.setitem(functions.FUNCTIONS, "SUM", broken)
    wb = openpyxl.Workbook()
    wb.active.title = "S"
    wb.active["A1"] = "=SUM(1, 2)"
    ((where, formula, reason),) = evaluate(wb).unsupported
    assert where == "S!A1" and formula == "=SUM(1, 2)"
    assert f"SUM failed with {type(fault).__name__}" in reason and str(fault) in reason
    assert "unknown function" not in reason


def test_unknown_functions_and_wrong_argument_counts_are_named():
    wb = openpyxl.Workbook()
    wb.active.title = "S"
    wb.active["A1"] = "=NOPE(1)"
    wb.active["A2"] = "=ABS(1, 2)"
    wb.active["A3"] = "=OPT_PARAMS(2.1)"
    reasons = {where: reason for where, _, reason in evaluate(wb).unsupported}
    assert reasons["S!A1"] == "unknown function NOPE"
    assert reasons["S!A2"] == "ABS does not take 2 argument(s)"
    assert reasons["S!A3"] == "OPT_PARAMS does not take 1 argument(s)"
