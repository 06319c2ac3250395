"""One calendar in the report: scheduled plans with a training deadline are sized, cash-flowed
and checked on the calendar of the Deployment sheet (:mod:`xlplan.report.launch`)."""

import numpy as np
import openpyxl
import pytest
from numpy.testing import assert_allclose

import xlplan
from xlplan.cli import main
from xlplan.engine.deploy.training import training_months, training_time
from xlplan.engine.errors import XlplanError
from xlplan.engine.money.cashflow import cashflow
from xlplan.engine.money.launch import cost_optimal_launch
from xlplan.engine.money.schedule import cost_optimal_pv, demand_ramp, present_value_requests
from xlplan.engine.paper.sizing import cost_optimal
from xlplan.report import deployment
from xlplan.report.compute import deploy_rows, plan_rows
from xlplan.report.monthly import SHEET as CASH
from xlplan.report.scenario import load_scenario
from xlplan.report.sheets import SUMMARY_HEADER, summary_cell
from xlplan.shared.checks import FIRST_ROW, SHEET
from xlplan.workbook.recalc import recalc_file

from lo_helpers import needs_soffice

PLANS = """
[[scenarios]]
name = "7B launch ramp"
chinchilla_params = 7e9
monthly_ramp = { first_month_requests = 2e7, monthly_growth = 0.25, months = 36, \
peak_requests = 3e8 }
discount_rate = 0.10
price_change = -0.25

[[scenarios]]
name = "13B lump sum"
chinchilla_params = 13e9
requests = 3.51e9

[[scenarios]]
name = "listed"
loss = 2.4
requests_by_month = [1e6, 2e6, 4e6, 8e6, 0, 8e6]
discount_rate = 0.2
"""
HARDWARE = 'hardware = "h100"\n'
# 16 GPUs and 30 days: the ramp's plan sits on the cluster's cap, the small one does not.
SCENARIO = HARDWARE + "[training]\ngpus = 16\ndeadline_days = 30\n" + PLANS
RAMP = demand_ramp(2e7, 0.25, 36, 3e8)
LISTED = [1e6, 2e6, 4e6, 8e6, 0, 8e6]
LOSS7 = float(xlplan.chinchilla_from_params(7e9).loss)
SCHEDULED = {0: (LOSS7, RAMP, 0.10, -0.25), 2: (2.4, LISTED, 0.2, 0.0)}


def _write(folder, text, name="plan"):
    (folder / f"{name}.toml").write_text(text)
    out = folder / f"{name}.xlsx"
    args = ["report", "-q", "-o", str(out), "--scenario", str(folder / f"{name}.toml")]
    assert main(args) == 0
    return folder / f"{name}.toml", out


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("calendar"), SCENARIO)


def _launch(k, gpus=16):
    loss, months, d, g = SCHEDULED[k]
    options = dict(discount_rate=d, price_change=g, hardware="h100")
    return cost_optimal_launch(loss, months, 30, gpus, **options)


def _flow(k, params, tokens):
    _, months, d, g = SCHEDULED[k]
    return cashflow(params, tokens, months, d, g, hardware="h100", gpus=16, deadline_days=30)


def _cell(wb, ref):
    sheet, cell = ref.split("!")
    return wb[sheet.strip("'")][cell.replace("$", "")].value


def _launch_header(ws):
    """Header row of the Deployment sheet's launch table (the row under its heading)."""
    heading = "Launch at the deadline"
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == heading) + 1


def _cash_block(ws, name):
    """(rows of the months, totals row) of a plan's block on the Cash flow sheet."""
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == name)
    first = top + 3
    last = next(r for r in range(first, ws.max_row + 1) if ws.cell(r, 1).value == "total") - 1
    return first, last


def test_summary_is_the_engine_on_the_launch_calendar(report):
    wb = openpyxl.load_workbook(report[1], data_only=True)
    for k in SCHEDULED:
        plan = _launch(k)
        shown = {key: _cell(wb, summary_cell(key, k)) for key in ("params", "tokens")}
        shown |= {key: _cell(wb, summary_cell(key, k)) for key in ("training", "inference")}
        assert_allclose(shown["params"], plan.params, rtol=1e-12)
        assert_allclose(shown["tokens"], plan.tokens, rtol=1e-12)
        assert_allclose(shown["training"], plan.training_pv, rtol=1e-12)
        assert_allclose(shown["inference"], plan.inference_pv, rtol=1e-12)
        assert_allclose(_cell(wb, summary_cell("total", k)), plan.pv, rtol=1e-12)
        # the Chinchilla-style model priced on the same calendar: its cash flow's present value
        chin = xlplan.chinchilla_from_loss(SCHEDULED[k][0])
        chin_pv = np.sum(_flow(k, chin.params, chin.tokens).present_value)
        assert_allclose(_cell(wb, summary_cell("chinchilla_total", k)), chin_pv, rtol=1e-12)
        assert _cell(wb, summary_cell("chinchilla_total", k)) > plan.pv
    assert _launch(0).binding == "deadline" and _launch(2).binding == "loss"


def test_deployment_sheet_states_the_binding_constraint_and_its_cost(report):
    scenario = load_scenario(report[0])
    rows = plan_rows(scenario)
    wb = openpyxl.load_workbook(report[1], data_only=True)
    ws = wb[deployment.SHEET]
    header = _launch_header(ws)
    layout = deployment.DeploymentLayout(deploy_rows(scenario, rows), 0, header)
    ramp, listed = _launch(0), _launch(2)
    free = _launch(0, gpus=None)  # the same launch on a cluster sized to the deadline

    def shown(key, k):
        return _cell(wb, layout.launch_cell(key, k))

    assert (shown("binding", 0), shown("binding", 2)) == ("deadline", "loss")
    assert (shown("launch_month", 0), shown("launch_month", 2)) == (2.0, 2.0)
    assert_allclose(shown("free_params", 0), free.params, rtol=1e-12)
    assert_allclose(shown("free_tokens", 0), free.tokens, rtol=1e-12)
    assert_allclose(shown("free_pv", 0), free.pv, rtol=1e-12)
    assert_allclose(shown("deadline_cost", 0), ramp.pv - free.pv, rtol=1e-12)
    assert ramp.pv - free.pv > 0.05 * ramp.pv  # the cap is dear: the cluster is small
    assert shown("free_pv", 2) == "n/a (the loss binds)"
    assert_allclose(shown("pv", 2), listed.pv, rtol=1e-12)
    # the run fills the deadline exactly where it binds, and ends before the launch anyway
    assert_allclose(ramp.days, 30.0, rtol=1e-12)
    summary = wb["Summary"]
    notes = [summary.cell(r, 1).value or "" for r in range(SUMMARY_HEADER + 4, summary.max_row + 1)]
    assert any("'7B launch ramp'" in t and "the deadline binds" in t for t in notes)
    assert any("'listed'" in t and "the loss binds" in t for t in notes)


def test_cash_flow_is_the_plans_calendar_and_sums_to_its_pv(report):
    wb = openpyxl.load_workbook(report[1], data_only=True)
    ws = wb[CASH]
    for k, name in ((0, "7B launch ramp"), (2, "listed")):
        plan = _launch(k)
        flow = _flow(k, plan.params, plan.tokens)
        first, last = _cash_block(ws, name)
        assert last - first + 1 == flow.month.size
        for c, values in enumerate((flow.month, flow.requests, flow.cost), start=1):
            if c == 3:
                c = 5
            shown = [ws.cell(r, c).value for r in range(first, last + 1)]
            assert_allclose(shown, values, rtol=1e-12)
        pv = [ws.cell(r, 6).value for r in range(first, last + 1)]
        assert_allclose(np.sum(pv), plan.pv, rtol=1e-12)
        assert_allclose(np.sum(pv), _cell(wb, summary_cell("total", k)), rtol=1e-12)
        # serving starts in the month after the deadline's; training dollars are the run's
        launch = int(plan.launch_month)
        assert launch == training_months(30.0)[1] + 1
        assert ws.cell(first + launch - 1, 2).value == 0.0 and ws.cell(first + launch, 2).value > 0
        run = training_time(plan.params, plan.tokens, 16, "h100")
        total = last + 1
        assert_allclose(ws.cell(total, 7).value, run.dollars, rtol=1e-12)
        assert_allclose(np.sum(pv[:launch]), plan.training_pv, rtol=1e-12)


def _failed(out):
    ws = openpyxl.load_workbook(out, data_only=True)[SHEET]
    return ws["B5"].value, [
        ws.cell(r, 1).value for r in range(FIRST_ROW, ws.max_row + 1) if ws.cell(r, 6).value != "OK"
    ]


def test_checks_are_ok_after_recalculation(report, tmp_path):
    out = tmp_path / "again.xlsx"
    recalc_file(report[1], out)
    master, failed = _failed(out)
    assert (master, failed) == ("OK", [])
    labels = _labels(out)
    for text in (
        "7B launch ramp: the deadline binds: 6 N D / (GPUs x peak x MFU x 86400 s) <= "
        "deadline days",
        "7B launch ramp: the training months' dollars sum to the plan's training $",
        "7B launch ramp: the cash flow's first serving month = the Deployment sheet's",
        "listed: the months' present values sum to the lifetime cost (PV)",
        "listed: training ends before serving starts",
    ):
        assert text in labels
    # the deadline's identity only where it binds
    assert not any(t.startswith("listed: the deadline binds") for t in labels)


def _labels(path):
    ws = openpyxl.load_workbook(path, data_only=True)[SHEET]
    return [ws.cell(r, 1).value for r in range(FIRST_ROW, ws.max_row + 1)]


def _patched(report, tmp_path, sheet, ref, value):
    out = tmp_path / "patched.xlsx"
    recalc_file(report[1], out, [(sheet, ref, value)])
    return _failed(out)


def test_a_typed_over_cell_fails_its_identity(report, tmp_path):
    wb = openpyxl.load_workbook(report[1], data_only=True)
    first, _ = _cash_block(wb[CASH], "7B launch ramp")
    # month 1 (training) of the ramp: its present value doubled
    month1 = f"F{first + 1}"
    master, failed = _patched(report, tmp_path, CASH, month1, 2 * wb[CASH][month1].value)
    assert master == "ERROR"
    assert (
        "7B launch ramp: the training months' present values sum to the Summary's training $"
        in (failed)
    )
    assert "7B launch ramp: the months' present values sum to the lifetime cost (PV)" in failed
    # a launch month moved: the calendar identities fail
    scenario = load_scenario(report[0])
    rows = plan_rows(scenario)
    ws = wb[deployment.SHEET]
    header = _launch_header(ws)
    layout = deployment.DeploymentLayout(deploy_rows(scenario, rows), 0, header)
    ref = layout.launch_cell("launch_month", 0).split("!")[1].replace("$", "")
    master, failed = _patched(report, tmp_path, deployment.SHEET, ref, 3.0)
    assert master == "ERROR" and sorted(failed) == [
        "7B launch ramp: serving starts the month after the deadline's: ROUNDUP(deadline / "
        "(365/12)) + 1",
        "7B launch ramp: the cash flow's first serving month = the Deployment sheet's",
    ]
    # a deadline shortened under the run's days: the binding identity fails
    ref = layout.launch_cell("deadline_days", 0).split("!")[1].replace("$", "")
    master, failed = _patched(report, tmp_path, deployment.SHEET, ref, 29.0)
    assert (
        "7B launch ramp: the deadline binds: 6 N D / (GPUs x peak x MFU x 86400 s) <= deadline days"
        in failed
    )


def _numbers(path, sheets=("Summary", CASH)):
    wb = openpyxl.load_workbook(path, data_only=True)
    return {
        (name, cell.coordinate): cell.value
        for name in sheets
        for row in wb[name].iter_rows()
        for cell in row
        if isinstance(cell.value, float)
    }


def test_without_a_deadline_every_number_is_the_month_0_basis(tmp_path):
    """No [training], or gpus alone: the plan sized and cash-flowed as before, bit for bit."""
    _, bare = _write(tmp_path, HARDWARE + PLANS, "bare")
    _, gpus = _write(tmp_path, HARDWARE + "[training]\ngpus = 16\n" + PLANS, "gpus")
    numbers = _numbers(bare)
    assert numbers == _numbers(gpus) and len(numbers) > 100
    wb = openpyxl.load_workbook(bare, data_only=True)
    for k, (loss, months, d, g) in SCHEDULED.items():
        # the report's month-0 sizing: the lump sum of the schedule's present-value requests
        pv_requests = present_value_requests(months, d, g)
        plan = cost_optimal(loss, pv_requests, hardware="h100")
        same = cost_optimal_pv(loss, months, d, g, hardware="h100").optimal.params
        assert_allclose(plan.optimal.params, same, rtol=1e-12)
        # (to the digits openpyxl writes: 16 significant)
        assert_allclose(_cell(wb, summary_cell("params", k)), plan.optimal.params, rtol=1e-15)
        assert_allclose(_cell(wb, summary_cell("total", k)), plan.optimal.total, rtol=1e-15)
        flow = cashflow(plan.optimal.params, plan.optimal.tokens, months, d, g, hardware="h100")
        name = ("7B launch ramp", None, "listed")[k]
        first, last = _cash_block(wb[CASH], name)
        shown = [wb[CASH].cell(r, 6).value for r in range(first, last + 1)]
        assert_allclose(shown, flow.present_value, rtol=1e-15, atol=0)
    # the cash-flow block says which basis it is on, and where the run's calendar is
    text = wb[CASH].cell(_cash_block(wb[CASH], "listed")[0] - 2, 1).value
    assert "Training is booked in month 0, the basis the plan is sized on" in text


def test_a_deadline_leaves_plans_without_a_schedule_as_they_were(tmp_path):
    lump = "[[scenarios]]" + PLANS.split("[[scenarios]]")[2]
    _, bare = _write(tmp_path, HARDWARE + lump, "bare")
    _, dated = _write(tmp_path, HARDWARE + "[training]\ngpus = 16\ndeadline_days = 30\n" + lump)
    numbers = _numbers(bare, ("Summary",))
    assert numbers == _numbers(dated, ("Summary",)) and len(numbers) > 10
    deployed = openpyxl.load_workbook(dated, data_only=True)[deployment.SHEET]
    assert "Launch at the deadline" not in [c.value for c in deployed["A"]]


def test_every_plan_on_a_launch_calendar_has_no_budget_sheet(tmp_path):
    plans = PLANS.split("[[scenarios]]")
    text = HARDWARE + "[training]\ngpus = 16\ndeadline_days = 30\n"
    text += "[[scenarios]]" + plans[1] + "[[scenarios]]" + plans[3]
    _, out = _write(tmp_path, text)
    again = tmp_path / "again.xlsx"
    recalc_file(out, again)
    assert _failed(again) == ("OK", [])
    assert not any(
        name.startswith("What a budget") for name in openpyxl.load_workbook(out).sheetnames
    )


RAMP_TEXT = (
    '[[scenarios]]\nname = "ramp"\nchinchilla_params = 7e9\nmonthly_ramp = '
    "{ first_month_requests = 2e7, monthly_growth = 0.25, months = 36, peak_requests = 3e8 }\n"
)
HOSTILE = [
    (
        "[training]\ngpus = 8\ndeadline_days = 20\n" + RAMP_TEXT,
        "scenario 'ramp': training.deadline_days = 20 is too short for loss=2.12743 on gpus=8: "
        "the least training that reaches that loss (the Chinchilla model, 7e+09 parameters on "
        "2.764e+11 tokens) takes 33.97 days; give deadline_days >= 33.97 or gpus >= 14",
    ),
    (
        "[training]\ndeadline_days = 0.001\n" + RAMP_TEXT,
        "scenario 'ramp': training.deadline_days = 0.001 is too short",
    ),
    ("[training]\ndeadline_days = -5\n" + RAMP_TEXT, "training.deadline_days = -5"),
    ("[training]\ndeadline_days = 1e9\n" + RAMP_TEXT, "training.deadline_days = 1e+09"),
    ('[training]\ndeadline_days = "30"\n' + RAMP_TEXT, "training.deadline_days"),
    ("[training]\ngpus = 0.5\ndeadline_days = 30\n" + RAMP_TEXT, "training.gpus = 0.5"),
    (
        "[training]\ndeadline_days = 30\n"
        + RAMP_TEXT.replace("chinchilla_params = 7e9", "budget_dollars = 1e6"),
        "scenario 'ramp' gives a budget with a monthly schedule and training.deadline_days",
    ),
    (
        "unique_tokens = 1e12\n[training]\ndeadline_days = 30\n" + RAMP_TEXT,
        "scenario 'ramp' gives unique_tokens with a monthly schedule and training.deadline_days",
    ),
]


@pytest.mark.parametrize("text, message", HOSTILE)
def test_hostile_training_values_with_a_schedule_give_one_clear_line(
    tmp_path, capsys, text, message
):
    path = tmp_path / "plan.toml"
    path.write_text(HARDWARE + text)
    with pytest.raises(XlplanError) as info:
        plan_rows(load_scenario(path))
    assert message in str(info.value)
    assert main(["report", "-q", "-o", str(tmp_path / "r.xlsx"), "--scenario", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.xlsx").exists()


@needs_soffice
def test_libreoffice_recalculates_the_calendar_checks(report, tmp_path):
    from test_deploy_blocks import _libreoffice_checks

    master, rows = _libreoffice_checks(report[1], tmp_path)
    assert master == "OK" and set(rows.values()) == {"OK"}
    assert "7B launch ramp: the cash flow's first serving month = the Deployment sheet's" in rows
    wb = openpyxl.load_workbook(report[1])  # formulas kept, cached results dropped
    first, _ = _cash_block(wb[CASH], "7B launch ramp")
    wb[CASH][f"B{first + 1}"] = 1e6  # requests served in a training month
    patched = tmp_path / "patched.xlsx"
    wb.save(patched)
    master, rows = _libreoffice_checks(patched, tmp_path)
    assert master == "ERROR"
    assert rows["7B launch ramp: no requests are served before the launch month"] == "ERROR"


def test_answer_page_shows_the_runs_gpu_hours_not_a_present_value(report, tmp_path):
    out = tmp_path / "again.xlsx"
    recalc_file(report[1], out)
    answer = openpyxl.load_workbook(out, data_only=True)["Answer"]
    headers = [c.value for c in answer[6]]
    column = headers.index("Training: GPU-hours") + 1
    for k in SCHEDULED:
        plan = _launch(k)
        run = training_time(plan.params, plan.tokens, 16, "h100")
        assert_allclose(answer.cell(7 + k, column).value, run.gpu_hours, rtol=1e-12)


def test_the_summarys_launch_notes_are_inside_its_first_printed_page(report):
    """The notes under the Summary's table (how each launch plan was sized, which constraint
    binds) are in its first print block, not cut off below it."""
    _, out = report
    ws = openpyxl.load_workbook(out)["Summary"]
    notes = [
        r
        for r in range(SUMMARY_HEADER + 4, ws.max_row + 1)
        if isinstance(ws.cell(r, 1).value, str) and "binds" in ws.cell(r, 1).value
    ]
    assert len(notes) == 2  # the ramp (deadline) and the listed plan (loss)
    first, *others = str(ws.print_area).split(",")
    assert first.endswith(f"$H${ws.max_row}") and ws.max_row >= max(notes)
    for block in others:  # the later page blocks stop at the table's last plan
        assert block.endswith(f"${SUMMARY_HEADER + 3}")
