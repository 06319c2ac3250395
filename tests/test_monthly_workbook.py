"""monthly_budget.xlsx: the engine's numbers, recalculation with overridden months, LibreOffice."""

import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from numpy.testing import assert_allclose

import xlplan
from xlplan import udfs
from xlplan.engine.money.cashflow import cashflow
from xlplan.engine.money.schedule import cost_optimal_pv, demand_ramp, lifetime_pv
from xlplan.templates import monthly
from xlplan.workbook.functions import call
from xlplan.workbook.recalc import recalc_file

from lo_helpers import convert, needs_soffice, read_csv

WORKBOOK = Path(__file__).resolve().parent.parent / "workbooks" / monthly.FILENAME
ROWS = range(monthly.MONTH0_ROW, monthly.LAST_ROW + 1)


def _sheet(path=WORKBOOK, data_only=True):
    return openpyxl.load_workbook(path, data_only=data_only)[monthly.SHEET]


def _check_against_engine(ws, months, discount, change):
    loss = xlplan.chinchilla_from_params(7e9).loss
    plan = cost_optimal_pv(loss, months, discount, change)
    assert ws["B21"].value == pytest.approx(plan.optimal.params, rel=1e-12)
    assert ws["B22"].value == pytest.approx(plan.optimal.tokens, rel=1e-12)
    assert ws["B25"].value == pytest.approx(plan.optimal.total, rel=1e-12)
    chin = lifetime_pv(7e9, xlplan.chinchilla_from_params(7e9).tokens, months, discount, change)
    assert ws["B28"].value == pytest.approx(chin.total, rel=1e-12)
    assert ws["B30"].value == pytest.approx(1 - plan.optimal.total / chin.total, rel=1e-9)
    # Excel's NPV of the cost column is the inference present value.
    assert ws["B31"].value == pytest.approx(plan.optimal.inference, rel=1e-12)
    flow = cashflow(plan.optimal.params, plan.optimal.tokens, months, discount, change)
    table = np.array([[ws[f"{c}{r}"].value for c in "ADEFGH"] for r in ROWS], dtype=float)
    assert_allclose(table, flow.table(), rtol=1e-12)
    cumulative = [ws[f"K{r}"].value for r in ROWS]
    assert_allclose(cumulative, np.cumsum(flow.cost), rtol=1e-12)
    return plan


def test_template_is_the_engine():
    ws = _sheet()
    months = demand_ramp(2e7, 0.25, monthly.MONTHS, 3e8)
    plan = _check_against_engine(ws, months, 0.10, -0.25)
    assert [ws[f"B{r}"].value for r in ROWS][1:] == pytest.approx(months.tolist(), rel=1e-15)
    # Discounting and cheaper GPUs weigh inference less: a bigger model than the lump sum.
    lump = xlplan.cost_optimal(plan.optimal.loss, months.sum())
    assert ws["B32"].value == pytest.approx(lump.optimal.params, rel=1e-12)
    assert plan.optimal.params > lump.optimal.params


def test_every_computed_cell_is_a_formula_and_months_can_be_overridden():
    ws = _sheet(data_only=False)
    for _, ref, _, _ in monthly.RESULTS:
        assert str(ws[ref].value).startswith("="), ref
    for r in ROWS:
        assert all(str(ws[f"{c}{r}"].value).startswith("=") for c in "DEFGHIJK"), r
        assert ws[f"C{r}"].value is None  # the override column is empty
    assert "COST_OPT_PV(" in ws["B21"].value and "LIFETIME_PV(" in ws["B25"].value
    assert "DEMAND_RAMP(" in ws[f"B{monthly.FIRST_MONTH_ROW}"].value


def test_recalc_with_overridden_months_and_rates(tmp_path):
    out = tmp_path / "mine.xlsx"
    overrides = {monthly.FIRST_MONTH_ROW + 4: 0.0, monthly.FIRST_MONTH_ROW + 20: 9e8}
    settings = [(monthly.SHEET, f"C{r}", v) for r, v in overrides.items()]
    settings += [
        (monthly.SHEET, "B11", 0.2),
        (monthly.SHEET, "B12", 0.05),
        (monthly.SHEET, "B6", 5e7),
    ]
    evaluation = recalc_file(WORKBOOK, out, settings)
    assert not evaluation.errors and not evaluation.unsupported
    months = demand_ramp(5e7, 0.25, monthly.MONTHS, 3e8)
    for r, v in overrides.items():
        months[r - monthly.FIRST_MONTH_ROW] = v
    _check_against_engine(_sheet(out), months, 0.2, 0.05)


def test_the_chart_has_spend_columns_and_a_cumulative_line():
    with zipfile.ZipFile(WORKBOOK) as archive:
        names = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert len(names) == 1
        xml = archive.read(names[0]).decode()
    assert "<c:barChart>" in xml or "<barChart>" in xml
    assert 'grouping val="stacked"' in xml and "lineChart" in xml
    first, last = monthly.MONTH0_ROW, monthly.LAST_ROW
    ranges = set(re.findall(r"<f>'Monthly'!\$([A-Z]+)\$(\d+):\$[A-Z]+\$(\d+)</f>", xml))
    # months as categories; training, inference and cumulative spend as the three series
    assert ranges == {(c, str(first), str(last)) for c in "AIJK"}


def test_evaluator_npv_and_isblank():
    costs = [[100.0], [None], ["text"], [200.0]]
    assert call("NPV", [0.1, costs, 50.0]) == pytest.approx(
        100 / 1.1 + 200 / 1.1**2 + 50 / 1.1**3, rel=1e-15
    )
    assert call("NPV", [-1.0, [[1.0]]]).code == "#DIV/0!"
    assert call("ISBLANK", [None]) is True and call("ISBLANK", [0.0]) is False


@needs_soffice
def test_libreoffice_computes_npv_of_the_cash_flow_equal_to_lifetime_pv(tmp_path):
    """LibreOffice's own NPV, SUM and IF on the template, xlplan's cells frozen as values."""
    formulas = openpyxl.load_workbook(WORKBOOK)
    ws, cached = formulas[monthly.SHEET], _sheet()
    names = re.compile(r"\b(" + "|".join(udfs.FUNCTIONS) + r")\(")
    kept = []
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                if names.search(cell.value):
                    cell.value = cached[cell.coordinate].value  # LibreOffice has no xlplan
                else:
                    kept.append(cell.coordinate)
    assert {"B31", "B30", f"K{monthly.LAST_ROW}", f"D{monthly.LAST_ROW}"} <= set(kept)
    ws["B31"].number_format = ws["B24"].number_format = "0.000000000E+00"
    path = tmp_path / "plain.xlsx"
    formulas.save(path)  # no cached values: LibreOffice computes the kept formulas
    rows = read_csv(convert(path, "csv", tmp_path))
    npv = float(rows[30][1])
    months = demand_ramp(2e7, 0.25, monthly.MONTHS, 3e8)
    params, tokens = cached["B21"].value, cached["B22"].value
    inference = udfs.LIFETIME_PV(params, tokens, [[m] for m in months], 0.1, -0.25)[0][1]
    assert npv == pytest.approx(inference, rel=1e-9)
    assert float(rows[monthly.LAST_ROW - 1][10]) == pytest.approx(
        cached[f"K{monthly.LAST_ROW}"].value, rel=1e-12
    )
