"""The report's Risk sheet: demand ranges and the plan interval, from the engine."""

import shutil
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from numpy.testing import assert_allclose

import xlplan
from xlplan import udfs
from xlplan.engine.errors import XlplanError
from xlplan.engine.money.regret import regret_table, robust_plan
from xlplan.fit.plan_interval import PlanIntervalWarning, plan_interval
from xlplan.report.build import build_report, write_report
from xlplan.report.risk import CURVE_POINTS, PLAN_LABELS
from xlplan.report.scenario import load_scenario

SARDANA = Path(__file__).parent / "data" / "sardana_mpt_47runs.csv"
SCENARIO = """
title = "Risk test"
{law}
hardware = "h100"
input_tokens = 100
output_tokens = 300

[[scenarios]]
name = "ranged"
chinchilla_params = 7e9
requests = 2e9
requests_low = 5e8
requests_high = 1e10

[[scenarios]]
name = "no range"
chinchilla_params = 13e9
requests = 3.5e9
"""


def _scenario(tmp_path, law='runs = "runs.csv"'):
    shutil.copy(SARDANA, tmp_path / "runs.csv")
    path = tmp_path / "risk.toml"
    path.write_text(SCENARIO.format(law=law))
    return path


def _find(ws, text):
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == text:
                return cell.row
    raise AssertionError(f"{text!r} not on the sheet")


@pytest.fixture(scope="module")
def ranged(tmp_path_factory):
    path = _scenario(tmp_path_factory.mktemp("risk"))
    scenario = load_scenario(path)
    return scenario, build_report(scenario)


def test_regret_table_and_robust_plan_are_the_engine(ranged):
    scenario, wb = ranged
    ws = wb["Risk"]
    plan = scenario.plans[0]
    requests = [plan.requests_low, plan.requests, plan.requests_high]
    options = dict(input_tokens=100, output_tokens=300, hardware="h100", law=scenario.law)
    table = regret_table(plan.loss, requests, **options)
    robust = robust_plan(plan.loss, requests, **options)
    first = _find(ws, PLAN_LABELS[0])
    for i in range(4):
        row = [ws.cell(first + i, c).value for c in range(2, 8)]
        params, tokens = (
            (robust.params, robust.tokens) if i == 3 else (table.params[i], table.tokens[i])
        )
        assert_allclose(row[:2], [params, tokens], rtol=1e-14)
        for j, r in enumerate(requests):  # each cost is LIFETIME_COST of the plan
            total = udfs.LIFETIME_COST(params, tokens, r, 100, 300, "h100")[0][2]
            assert_allclose(row[2 + j], total, rtol=1e-14)
        worst = robust.worst_regret if i == 3 else table.worst_regret[i]
        assert_allclose(row[5], worst, rtol=1e-12)
    assert ws.cell(first + 3, 7).value <= min(ws.cell(first + i, 7).value for i in range(3))


def test_plan_interval_is_the_fit_module(ranged):
    scenario, wb = ranged
    ws = wb["Risk"]
    plan = scenario.plans[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlanIntervalWarning)
        expected = plan_interval(
            xlplan.fit.load_runs(str(SARDANA)), plan.loss, plan.requests * 400, 0.9, 200, 0
        )
    first = _find(ws, "low")
    for i, values in enumerate([*expected.as_rows(), expected.point]):
        assert_allclose([ws.cell(first + i, c).value for c in range(2, 5)], values, rtol=1e-14)


def test_cost_curves_and_charts(ranged):
    scenario, wb = ranged
    ws = wb["Risk"]
    first = _find(ws, "Realised lifetime requests") + 1
    demand = np.array([ws.cell(first + k, 1).value for k in range(CURVE_POINTS)])
    assert demand[0] == 5e8 and demand[-1] == 1e10
    robust = np.array([ws.cell(first + k, 5).value for k in range(CURVE_POINTS)])
    best = np.array([ws.cell(first + k, 6).value for k in range(CURVE_POINTS)])
    plan = scenario.plans[0]
    expected = xlplan.cost_optimal(plan.loss, demand, 100, 300, "h100", scenario.law)
    assert_allclose(best, expected.optimal.total, rtol=1e-14)
    regret = np.array([ws.cell(first + k, 10).value for k in range(CURVE_POINTS)])
    assert_allclose(regret, robust - best, rtol=1e-12, atol=1e-6)
    assert np.argmax(regret) in (0, CURVE_POINTS - 1)  # convex: worst at an end
    cost_chart, regret_chart = ws._charts
    assert len(cost_chart.series) == 5 and len(regret_chart.series) == 4
    marked = [s for s in cost_chart.series if s.graphicalProperties.line.prstDash == "dash"]
    assert len(marked) == 1 and marked[0].marker.symbol == "diamond"
    assert marked[0] is cost_chart.series[3]  # the robust plan's column
    assert ws.cell(first - 1, 5).value == PLAN_LABELS[3]


def test_only_ranged_scenarios_get_a_block_and_no_runs_means_no_interval(tmp_path):
    path = _scenario(tmp_path, law='law = "chinchilla"')
    out = tmp_path / "r.xlsx"
    write_report(out, path, show_progress=False)
    wb = openpyxl.load_workbook(out)
    risk = wb.sheetnames.index("Risk")
    assert wb.sheetnames[risk + 1] == "Assumptions"
    text = [str(c.value) for row in wb["Risk"].iter_rows() for c in row if c.value]
    assert sum(t.startswith("ranged: demand from") for t in text) == 1
    assert not any(t.startswith("no range") for t in text)
    assert any("give `runs" in t for t in text)


@pytest.mark.parametrize(
    "entry, words",
    [
        ("requests_low = 5e8", ["requests_low alone"]),
        ("requests_high = 5e9", ["requests_high alone"]),
        ("requests_low = 3e9\nrequests_high = 5e9", ["requests_low = 3e+09", "<= requests"]),
        ("requests_low = 5e8\nrequests_high = 1e9", ["requests_high = 1e+09"]),
        ("requests_low = 0\nrequests_high = 5e9", ["0 < requests_low"]),
        ('requests_low = "few"\nrequests_high = 5e9', ["scenarios[1].requests_low"]),
    ],
)
def test_bad_ranges_name_the_key(tmp_path, entry, words):
    path = tmp_path / "bad.toml"
    path.write_text(f"[[scenarios]]\nloss = 2.1\nrequests = 2e9\n{entry}\n")
    with pytest.raises(XlplanError) as error:
        load_scenario(path)
    for word in words:
        assert word in str(error.value)
