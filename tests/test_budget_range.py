"""The budget planner's demand-range block: the robust plan beside the base case, live."""

import openpyxl
import pytest
from numpy.testing import assert_allclose

import xlplan
from xlplan.engine.money.regret import regret_table, robust_plan
from xlplan.templates import budget
from xlplan.templates.budget_range import (
    HIGH_LABEL,
    HIGH_PER_DAY,
    LOW_LABEL,
    LOW_PER_DAY,
    SCENARIOS_LABEL,
)
from xlplan.templates.build import build_template
from xlplan.workbook.evaluate import evaluate
from xlplan.workbook.recalc import parse_setting, recalc_file

DAYS = 730


def _block(ws):
    """{label: (base-case value, robust value)} of the block, found by its labels."""
    top = next(c.row for c in ws["A"] if c.value == LOW_LABEL) - 2
    return {
        ws.cell(r, 1).value: (ws.cell(r, 2).value, ws.cell(r, 3).value)
        for r in range(top + 2, top + 12)
    }, top


def _expected(low, base, high):
    loss = xlplan.chinchilla_from_params(7e9).loss
    requests = [low * DAYS, base * DAYS, high * DAYS]
    return loss, requests, robust_plan(loss, requests), regret_table(loss, requests)


def _check(ws, low, base, high):
    rows, top = _block(ws)
    loss, requests, robust, table = _expected(low, base, high)
    scenarios = [ws.cell(top + 4, c).value for c in (2, 3, 4)]
    assert ws.cell(top + 4, 1).value == SCENARIOS_LABEL
    assert_allclose(scenarios, requests, rtol=1e-15)
    plan = xlplan.cost_optimal(loss, requests[1]).optimal
    assert_allclose(rows["Model size (parameters)"], [plan.params, robust.params], rtol=1e-12)
    assert_allclose(rows["Training tokens"], [plan.tokens, robust.tokens], rtol=1e-12)
    for k, which in enumerate(("low", "base", "high")):
        label = f"Lifetime cost if {which} demand happens ($)"
        costs = [
            xlplan.lifetime_cost(n, d, requests[k]).total
            for n, d in ((plan.params, plan.tokens), (robust.params, robust.tokens))
        ]
        assert_allclose(rows[label], costs, rtol=1e-12)
    base_regret, robust_regret = rows["Worst-case regret over the range ($)"]
    assert_allclose(base_regret, table.worst_regret[1], rtol=1e-9)
    assert_allclose(robust_regret, robust.worst_regret, rtol=1e-9)
    assert robust_regret < base_regret
    return top


def test_the_block_is_the_engine(tmp_path):
    path, evaluation = build_template(budget.FILENAME, tmp_path)
    assert not evaluation.unsupported
    ws = openpyxl.load_workbook(path, data_only=True)["Planner"]
    _check(ws, LOW_PER_DAY, 1e6, HIGH_PER_DAY)


def test_changing_the_range_recalculates(tmp_path):
    path, _ = build_template(budget.FILENAME, tmp_path)
    ws = openpyxl.load_workbook(path)["Planner"]
    _, top = _block(ws)
    out = tmp_path / "mine.xlsx"
    recalc_file(
        path,
        out,
        [
            parse_setting(f"Planner!B{top + 2}=1e5"),
            parse_setting(f"Planner!B{top + 3}=2e7"),
            parse_setting("Planner!B6=2e6"),
        ],
    )
    _check(openpyxl.load_workbook(out, data_only=True)["Planner"], 1e5, 2e6, 2e7)


def test_a_range_that_excludes_the_base_is_still_answered_over_its_whole_span(tmp_path):
    # low above base: the scenarios are still three positive demands; the range is
    # [min, max] of the three, as ROBUST_OPT documents.
    workbook = budget.build()
    ws = workbook["Planner"]
    _, top = _block(ws)
    ws[f"B{top + 2}"] = 2e6
    values = evaluate(workbook).values
    robust = values[("Planner", top + 5, 3)]
    loss = xlplan.chinchilla_from_params(7e9).loss
    expected = robust_plan(loss, [1e6 * DAYS, 2e6 * DAYS, HIGH_PER_DAY * DAYS])
    assert robust == pytest.approx(expected.params, rel=1e-12)


def test_bad_range_is_an_error_cell():
    workbook = budget.build()
    ws = workbook["Planner"]
    _, top = _block(ws)
    ws[f"B{top + 3}"] = -1
    value = evaluate(workbook).values[("Planner", top + 5, 3)]
    assert getattr(value, "code", None) == "#NUM!"
    assert "requests_scenarios[3]" in value.message


def test_labels_are_where_the_block_says():
    ws = budget.build()["Planner"]
    _rows, top = _block(ws)
    assert ws.cell(top + 2, 1).value == LOW_LABEL and ws.cell(top + 3, 1).value == HIGH_LABEL
    assert ws.cell(top, 2).value == "Base case" and ws.cell(top, 3).value == "Robust plan"
