"""The "What a budget buys" sheets: the engine's numbers, and the chart as LibreOffice draws it."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from numpy.testing import assert_allclose

import xlplan
from xlplan.engine.deploy.energy import plan_footprint
from xlplan.engine.money.budget import best_for_budget, loss_at_dollars
from xlplan.templates import budget_buys
from xlplan.templates.budget import FILENAME

from lo_helpers import PDFTOPPM, convert, needs_pdftoppm, needs_soffice

WORKBOOKS = Path(__file__).resolve().parent.parent / "workbooks"
REQUESTS = 1e6 * 730  # the Planner's default demand


@pytest.fixture(scope="module")
def sheet():
    return openpyxl.load_workbook(WORKBOOKS / FILENAME, data_only=True)[budget_buys.SHEET]


def test_best_models_are_the_engine(sheet):
    best = best_for_budget(5e6, REQUESTS)
    chin = best_for_budget(5e6, 0)
    assert [sheet[f"B{r}"].value for r in (13, 14, 15)] == pytest.approx(
        [best.params, best.tokens, best.loss], rel=1e-12
    )
    assert [sheet[f"C{r}"].value for r in (13, 14, 15)] == pytest.approx(
        [chin.params, chin.tokens, chin.loss], rel=1e-12
    )
    assert sheet["B18"].value == pytest.approx(5e6, rel=1e-12)  # spends the budget exactly
    # the all-to-training model costs more than the budget once it serves the requests
    served = xlplan.lifetime_cost(chin.params, chin.tokens, REQUESTS)
    assert sheet["C19"].value == pytest.approx(served.inference, rel=1e-12)


def test_energy_rows_are_the_engine(sheet):
    best = best_for_budget(5e6, REQUESTS)
    f = plan_footprint(best.params, best.tokens, REQUESTS)
    assert [sheet[f"B{r}"].value for r in range(22, 28)] == pytest.approx(
        [
            f.training_gpu_hours,
            f.inference_gpu_hours,
            f.training_mwh,
            f.inference_mwh,
            f.training_t,
            f.inference_t,
        ],
        rel=1e-12,
    )
    plan = xlplan.cost_optimal(xlplan.chinchilla_from_params(7e9).loss, REQUESTS)
    g = plan_footprint(plan.optimal.params, plan.optimal.tokens, REQUESTS)
    assert sheet["C24"].value == pytest.approx(g.training_mwh, rel=1e-12)
    assert sheet["C27"].value == pytest.approx(g.inference_t, rel=1e-12)


def test_curves_are_loss_at_budget_and_the_optima_are_their_minima(sheet):
    first = budget_buys.CURVE_FIRST_ROW
    rows = range(first, first + 41)
    x0, y0, xt, yt = (np.array([sheet[f"{c}{r}"].value for r in rows]) for c in "ABCD")
    assert_allclose(y0, loss_at_dollars(x0, 5e6, 0), rtol=1e-12)
    assert_allclose(yt, loss_at_dollars(xt, 5e6, REQUESTS), rtol=1e-12)
    best, chin = best_for_budget(5e6, REQUESTS), best_for_budget(5e6, 0)
    assert y0.min() >= chin.loss and yt.min() >= best.loss
    assert x0[0] < chin.params < x0[-1] and xt[0] < best.params < xt[-1]
    assert (sheet[f"E{first}"].value, sheet[f"F{first + 1}"].value) == pytest.approx(
        (chin.params, best.loss), rel=1e-12
    )


def test_the_sheet_has_a_native_chart_with_four_series():
    ws = openpyxl.load_workbook(WORKBOOKS / FILENAME)[budget_buys.SHEET]
    (chart,) = ws._charts
    assert len(chart.series) == 4 and chart.x_axis.scaling.logBase == 10


def _page_of(pdf, text):
    """The 1-based page number (as text) of the PDF page showing ``text``."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext not installed: apt-get install poppler-utils")
    pages = subprocess.run(
        [pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    return str(next(k for k, page in enumerate(pages, start=1) if text in page))


@needs_soffice
@needs_pdftoppm
def test_libreoffice_draws_the_chart(tmp_path):
    """Rendered to PNG (looked at by eye when written: two curves, two marked optima)."""
    pdf = convert(WORKBOOKS / FILENAME, "pdf", tmp_path)
    page = _page_of(pdf, "What a budget buys: the best model")
    subprocess.run(
        [PDFTOPPM, "-png", "-r", "80", "-f", page, "-l", page, str(pdf), str(tmp_path / "budget")],
        check=True,
    )
    (page,) = tmp_path.glob("budget*.png")
    assert page.stat().st_size > 20000


# The report: budget scenarios in the summary, energy columns, the sheet and its chart.


@pytest.fixture(scope="module")
def budget_report(tmp_path_factory):
    from xlplan.report.build import write_report

    directory = tmp_path_factory.mktemp("budget-report")
    scenario = directory / "budget.toml"
    scenario.write_text(
        'hardware = "h100"\npue = 1.2\ngrid_kg_per_kwh = 0.3\n'
        '[[scenarios]]\nname = "dollars"\nbudget_dollars = 2e6\n'
        "requests = 5e9\n"
        '[[scenarios]]\nname = "flops"\nbudget_flops = 1e23\nrequests = 1e9\n'
        '[[scenarios]]\nname = "quality"\nloss = 2.1\nrequests = 1e9\n'
    )
    out = directory / "report.xlsx"
    write_report(out, scenario, show_progress=False)
    return out


def _summary(path):
    import pandas as pd

    return pd.read_excel(path, sheet_name="Summary", header=4)


def test_summary_shows_the_best_model_a_budget_buys(budget_report):
    frame = _summary(budget_report)
    dollars = best_for_budget(2e6, 5e9, hardware="h100")
    row = frame.iloc[0]
    assert (
        row["Recommended params"],
        row["Target loss"],
        row["Lifetime cost $ (nominal)"],
    ) == pytest.approx((dollars.params, dollars.loss, 2e6), rel=1e-12)
    assert row["Budget given (the best model it buys)"] == "$2,000,000"
    flops = xlplan.engine.money.budget.best_for_flops(1e23, 1e9 * 285)
    row = frame.iloc[1]
    assert (row["Recommended params"], row["Target loss"]) == pytest.approx(
        (flops.params, flops.loss), rel=1e-12
    )
    priced = xlplan.lifetime_cost(flops.params, flops.tokens, 1e9, hardware="h100")
    assert row["Lifetime cost $ (nominal)"] == pytest.approx(priced.total, rel=1e-12)
    chin = xlplan.cost_optimal(flops.loss, 1e9, hardware="h100").chinchilla.total
    assert row["Saving"] == pytest.approx(1 - priced.total / chin, rel=1e-9)
    assert frame.iloc[2]["Recommended params"] == pytest.approx(
        xlplan.cost_optimal(2.1, 1e9, hardware="h100").optimal.params, rel=1e-12
    )


def test_summary_energy_columns_are_the_engine(budget_report):
    frame = _summary(budget_report)
    for _, row in frame.iterrows():
        f = plan_footprint(
            row["Recommended params"],
            row["Recommended training tokens"],
            row["Lifetime requests"],
            hardware="h100",
            pue=1.2,
            grid_kg_per_kwh=0.3,
        )
        assert [
            row["Training energy MWh"],
            row["Inference energy MWh"],
            row["Training emissions t CO2e"],
            row["Inference emissions t CO2e"],
        ] == pytest.approx([f.training_mwh, f.inference_mwh, f.training_t, f.inference_t], rel=1e-9)


def test_report_sheet_is_the_first_budget_scenario(budget_report):
    ws = openpyxl.load_workbook(budget_report)["What a budget buys"]
    best, chin = (
        best_for_budget(2e6, 5e9, hardware="h100"),
        best_for_budget(2e6, 0, hardware="h100"),
    )
    assert (ws["B5"].value, ws["B6"].value) == (2e6, 5e9)
    assert (ws["B9"].value, ws["C9"].value, ws["B11"].value) == pytest.approx(
        (best.params, chin.params, best.loss), rel=1e-12
    )
    xt = np.array([ws[f"C{r}"].value for r in range(31, 72)])
    yt = np.array([ws[f"D{r}"].value for r in range(31, 72)])
    assert_allclose(yt, loss_at_dollars(xt, 2e6, 5e9, hardware="h100"), rtol=1e-12)
    (chart,) = ws._charts
    assert len(chart.series) == 4 and chart.y_axis.scaling.min <= yt.min()


@pytest.mark.parametrize(
    "text, match",
    [
        ("[[scenarios]]\nloss = 2.1\nbudget_dollars = 1e6\nrequests = 1\n", "exactly one of"),
        ("[[scenarios]]\nbudget_dollars = -5\nrequests = 1\n", "budget_dollars = -5 is out of"),
        ('[[scenarios]]\nbudget_flops = "lots"\nrequests = 1\n', "budget_flops = 'lots'"),
        ("pue = 0.5\n[[scenarios]]\nloss = 2.1\nrequests = 1\n", "pue = 0.5 is out of range"),
    ],
)
def test_bad_budget_scenarios(tmp_path, text, match):
    from xlplan.engine.errors import XlplanError
    from xlplan.report.scenario import load_scenario

    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(XlplanError, match=match):
        load_scenario(path)


@needs_soffice
@needs_pdftoppm
def test_libreoffice_draws_the_report_chart(budget_report, tmp_path):
    """The sheet's page (looked at by eye when written: two curves, both optima)."""
    pdf = convert(budget_report, "pdf", tmp_path)
    page = _page_of(pdf, "What a budget buys: the best model")
    subprocess.run(
        [PDFTOPPM, "-png", "-r", "80", "-f", page, "-l", page, str(pdf), str(tmp_path / "sheet")],
        check=True,
    )
    (page,) = tmp_path.glob("sheet*.png")
    assert page.stat().st_size > 20000


def test_hardware_without_board_power_leaves_energy_blank(tmp_path):
    from xlplan.report.build import write_report

    scenario = tmp_path / "bare.toml"
    scenario.write_text(
        "hardware = [2.0, 9.89e14, 0.4, 2.0, 1.979e15, 0.5, 0.01]\n"
        "[[scenarios]]\nloss = 2.1\nrequests = 1e9\n"
    )
    write_report(tmp_path / "r.xlsx", scenario, show_progress=False)
    row = _summary(tmp_path / "r.xlsx").iloc[0]
    assert np.isnan(row["Training energy MWh"]) and row["Recommended params"] > 0
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["What a budget buys"]
    assert "train_power_watts" in ws["A17"].value
