"""Data limits in the budget planner and the report: the engine's numbers, blank = unlimited."""

import warnings

import numpy as np
import openpyxl
import pandas as pd
import pytest

import xlplan
from xlplan.engine.data.data_limits import RepetitionWarning
from xlplan.report.build import write_report
from xlplan.report.data_limits import AXIS_MAX, SIZE_FRACTIONS
from xlplan.templates import budget
from xlplan.templates.budget_data import EPOCHS_LABEL, OVERHEAD_LABEL, UNIQUE_LABEL
from xlplan.workbook.evaluate import evaluate

PLANNER_LOSS = xlplan.chinchilla_from_params(7e9).loss
PLANNER_REQUESTS = 1e6 * 730


def _planner(unique=None):
    """The planner as built, with the unique-tokens input set; (values by label, row refs)."""
    wb = budget.build()
    ws = wb["Planner"]
    labels = {ws[f"A{r}"].value: r for r in range(1, ws.max_row + 1) if ws[f"A{r}"].value}
    ws[f"B{labels[UNIQUE_LABEL]}"] = unique
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepetitionWarning)
        values = evaluate(wb).values
    return {label: values.get(("Planner", r, 2)) for label, r in labels.items()}


def test_planner_blank_means_unlimited():
    got = _planner()
    plan = xlplan.cost_optimal(PLANNER_LOSS, PLANNER_REQUESTS)
    assert (
        got["Recommended size with this data (parameters)"]
        == got["Recommended model size (parameters)"]
        == plan.optimal.params
    )
    assert got[EPOCHS_LABEL] == 1.0 and got["Repetition check"] == "OK: at most 4 epochs"
    assert got["Extra lifetime cost of the data limit (%)"] == 0.0
    # The overhead is de Vries's: same loss, k = N / N_chinchilla.
    k = plan.optimal.params / 7e9
    assert got[OVERHEAD_LABEL] == pytest.approx(xlplan.compute_overhead(k), rel=1e-9)
    assert got[OVERHEAD_LABEL] == pytest.approx(plan.training_overhead, rel=1e-9)


def test_planner_with_a_data_limit_is_the_engine():
    got = _planner(2e11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepetitionWarning)
        plan = xlplan.cost_optimal(PLANNER_LOSS, PLANNER_REQUESTS, unique_tokens=2e11)
    free = xlplan.cost_optimal(PLANNER_LOSS, PLANNER_REQUESTS)
    assert got["Recommended size with this data (parameters)"] == pytest.approx(
        plan.optimal.params, rel=1e-12
    )
    assert got[EPOCHS_LABEL] == pytest.approx(plan.optimal.tokens / 2e11, rel=1e-12)
    assert got[EPOCHS_LABEL] > 4 and got["Repetition check"].startswith("Above 4 epochs")
    assert _planner(1e12)["Repetition check"] == "OK: at most 4 epochs"
    extra = got["Extra lifetime cost of the data limit (%)"]
    assert extra == pytest.approx(plan.optimal.total / free.optimal.total - 1, rel=1e-9)
    assert extra > 0


def test_committed_planner_has_the_block():
    ws = openpyxl.load_workbook(f"workbooks/{budget.FILENAME}", data_only=True)["Planner"]
    labels = {ws[f"A{r}"].value: r for r in range(1, ws.max_row + 1)}
    assert ws[f"B{labels[UNIQUE_LABEL]}"].value is None
    assert ws[f"B{labels[EPOCHS_LABEL]}"].value == 1.0


@pytest.fixture(scope="module")
def capped_report(tmp_path_factory):
    directory = tmp_path_factory.mktemp("capped")
    scenario = directory / "plan.toml"
    scenario.write_text(
        "unique_tokens = 1e12\n"
        '[[scenarios]]\nname = "13B, 1T unique"\nchinchilla_params = 13e9\n'
        "requests = 3.51e9\n"
        '[[scenarios]]\nname = "13B, 100B unique"\nchinchilla_params = 13e9\n'
        "requests = 3.51e9\nunique_tokens = 1e11\n"
    )
    out = directory / "r.xlsx"
    write_report(out, scenario, show_progress=False)
    return out


def test_report_summary_epochs_and_overhead(capped_report):
    frame = pd.read_excel(capped_report, sheet_name="Summary", header=4)
    loss = xlplan.chinchilla_from_params(13e9).loss
    for row, unique in ((0, 1e12), (1, 1e11)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RepetitionWarning)
            plan = xlplan.cost_optimal(loss, 3.51e9, unique_tokens=unique)
        free = xlplan.cost_optimal(loss, 3.51e9)
        got = frame.iloc[row]
        assert got["Recommended params"] == pytest.approx(plan.optimal.params, rel=1e-12)
        assert got["Epochs over the unique data"] == pytest.approx(plan.epochs, rel=1e-12)
        assert got["Training-compute overhead vs Chinchilla-style"] == pytest.approx(
            plan.optimal.training / free.chinchilla.training - 1, rel=1e-12
        )
    notes = " ".join(str(v) for v in frame["Scenario"])
    assert "More than 4 epochs" in notes and "13B, 100B unique" in notes
    text = [
        str(c.value)
        for row in openpyxl.load_workbook(capped_report)["Assumptions"].iter_rows()
        for c in row
    ]
    assert any("100B, 1.00T" in t for t in text)  # as a reader writes them, no e+11
    assert any("R_D* = 15.3878" in t and "an approximation" in t for t in text)


def test_report_without_limits_has_one_epoch(tmp_path):
    out = tmp_path / "r.xlsx"
    write_report(out, None, show_progress=False)
    frame = pd.read_excel(out, sheet_name="Summary", header=4)
    assert (frame["Epochs over the unique data"] == 1.0).all()
    loss = xlplan.chinchilla_from_params(7e9).loss
    plan = xlplan.cost_optimal(loss, 702e6)
    assert frame.iloc[1]["Training-compute overhead vs Chinchilla-style"] == pytest.approx(
        xlplan.compute_overhead(plan.params_ratio), rel=1e-9
    )


def test_report_overhead_sheet_and_chart(capped_report):
    wb = openpyxl.load_workbook(capped_report)
    ws = wb["Overhead"]
    frame = pd.read_excel(capped_report, sheet_name="Overhead", header=4)
    np.testing.assert_allclose(frame["Size fraction k"], SIZE_FRACTIONS)
    np.testing.assert_allclose(
        frame["Training-compute overhead"], xlplan.compute_overhead(SIZE_FRACTIONS), rtol=1e-12
    )
    k_star = xlplan.critical_size()
    assert list(frame["k* marker: k"][:2]) == [k_star, k_star]
    assert list(frame["k* marker: overhead"][:2]) == [0.0, AXIS_MAX]
    assert len(ws._charts) == 1 and len(ws._charts[0].series) == 2


@pytest.mark.parametrize("value", [0, -1e12, "lots"])
def test_bad_unique_tokens_in_a_scenario(tmp_path, value):
    scenario = tmp_path / "plan.toml"
    literal = f'"{value}"' if isinstance(value, str) else value
    scenario.write_text(f"[[scenarios]]\nloss = 2.1\nrequests = 1e9\nunique_tokens = {literal}\n")
    with pytest.raises(xlplan.XlplanError, match=r"scenarios\[1\]\.unique_tokens"):
        write_report(tmp_path / "r.xlsx", scenario, show_progress=False)
