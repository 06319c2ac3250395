"""xlplan report with monthly schedules: PV-optimal plans, the cash-flow sheet and its chart."""

import subprocess

import numpy as np
import openpyxl
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import xlplan
from xlplan.engine.errors import XlplanError
from xlplan.engine.money.cashflow import cashflow
from xlplan.engine.money.schedule import cost_optimal_pv, demand_ramp
from xlplan.report.build import write_report
from xlplan.report.monthly import SHEET

from lo_helpers import SOFFICE, convert, needs_soffice, read_csv

SCENARIO = """
hardware = "h100"
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
LISTED = [1e6, 2e6, 4e6, 8e6, 0, 8e6]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    directory = tmp_path_factory.mktemp("monthly")
    scenario = directory / "plan.toml"
    scenario.write_text(SCENARIO)
    write_report(directory / "r.xlsx", scenario, show_progress=False)
    return directory / "r.xlsx"


def _expected():
    ramp = demand_ramp(2e7, 0.25, 36, 3e8)
    loss7 = xlplan.chinchilla_from_params(7e9).loss
    return [
        (ramp, cost_optimal_pv(loss7, ramp, 0.10, -0.25, hardware="h100"), 0.10, -0.25),
        (LISTED, cost_optimal_pv(2.4, LISTED, 0.2, hardware="h100"), 0.2, 0.0),
    ]


def test_summary_sizes_monthly_plans_on_present_value(report):
    frame = pd.read_excel(report, sheet_name="Summary", header=4)
    (ramp, plan, _, _), (_, listed, _, _) = _expected()
    for k, expected in ((0, plan), (2, listed)):
        row = frame.iloc[k]
        assert row["Recommended params"] == pytest.approx(expected.optimal.params, rel=1e-12)
        assert row["Lifetime cost $ (present value)"] == pytest.approx(
            expected.optimal.total, rel=1e-12
        )
        assert row["Saving"] == pytest.approx(expected.saving, rel=1e-9)
    assert frame.iloc[0]["Lifetime requests"] == pytest.approx(ramp.sum(), rel=1e-15)
    lump = xlplan.cost_optimal(xlplan.chinchilla_from_params(13e9).loss, 3.51e9, hardware="h100")
    assert frame.iloc[1]["Recommended params"] == pytest.approx(lump.optimal.params, rel=1e-12)


def test_cash_flow_sheet_is_the_engine_with_one_chart_per_schedule(report):
    wb = openpyxl.load_workbook(report)
    assert wb.sheetnames[:3] == ["Answer", "Summary", SHEET]
    ws = wb[SHEET]
    assert len(ws._charts) == 2
    blocks = [r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "month"]
    assert len(blocks) == 2
    for header, (months, plan, discount, change) in zip(blocks, _expected(), strict=True):
        flow = cashflow(
            plan.optimal.params, plan.optimal.tokens, months, discount, change, hardware="h100"
        )
        rows = range(header + 1, header + 2 + len(months))
        table = np.array([[ws.cell(r, c).value for c in range(1, 10)] for r in rows])
        assert_allclose(table[:, :6], flow.table(), rtol=1e-12)
        assert_allclose(table[:, 8], np.cumsum(flow.cost), rtol=1e-12)
        assert_allclose(table[:, 6] + table[:, 7], flow.cost, rtol=1e-15)
        assert_allclose(flow.present_value.sum(), plan.optimal.total, rtol=1e-12)


def test_a_report_without_schedules_has_no_cash_flow_sheet(tmp_path):
    write_report(tmp_path / "r.xlsx", show_progress=False)
    assert SHEET not in openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames


@pytest.mark.parametrize(
    "entry, words",
    [
        (
            "requests_by_month = [1e6, -4, 2e6]",
            ["scenarios[1].requests_by_month", "month 2", "-4", ">= 0"],
        ),
        ("requests_by_month = [1e6, 'x']", ["scenarios[1].requests_by_month", "list of numbers"]),
        (
            "requests_by_month = [1e6]\ndiscount_rate = -0.1",
            ["scenarios[1].discount_rate = -0.1", ">= 0"],
        ),
        (
            "requests_by_month = [1e6]\nprice_change = -1.5",
            ["scenarios[1].price_change = -1.5", "> -1"],
        ),
        ("requests_by_month = [1e6]\nrequests = 1e9", ["both requests and a monthly schedule"]),
        (
            "requests_by_month = [1e6]\nmonthly_ramp = { first_month_requests = 1, "
            "monthly_growth = 0, months = 2 }",
            ["exactly one of"],
        ),
        (
            "monthly_ramp = { first_month_requests = 1e6, monthly_growth = 0.1 }",
            ["missing ['months']"],
        ),
        (
            "monthly_ramp = { first_month_requests = 1e6, monthly_growth = 0.1, months = 2000 }",
            ["scenarios[1].monthly_ramp.months = 2000", "1 to 1,200"],
        ),
        ("discount_rate = 0.1", ["exactly one of"]),
        (
            "requests_by_month = [1e6]\nrequests_low = 1e5\nrequests_high = 1e7",
            ["requests_low with a monthly schedule"],
        ),
    ],
)
def test_bad_schedules_name_the_key_the_value_and_the_range(tmp_path, entry, words):
    scenario = tmp_path / "bad.toml"
    scenario.write_text(f"[[scenarios]]\nchinchilla_params = 7e9\n{entry}\n")
    with pytest.raises(XlplanError) as error:
        write_report(tmp_path / "r.xlsx", scenario, show_progress=False)
    for word in words:
        assert word in str(error.value), str(error.value)
    assert not (tmp_path / "r.xlsx").exists()


def test_yaml_schedules(tmp_path):
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(
        "scenarios:\n  - name: y\n    loss: 2.4\n    requests_by_month: "
        "[1.0e+6, 2.0e+6]\n    discount_rate: 0.05\n    price_change: -0.3\n"
    )
    write_report(tmp_path / "r.xlsx", scenario, show_progress=False)
    frame = pd.read_excel(tmp_path / "r.xlsx", sheet_name="Summary", header=4)
    plan = cost_optimal_pv(2.4, [1e6, 2e6], 0.05, -0.3)
    assert frame.iloc[0]["Recommended params"] == pytest.approx(plan.optimal.params, rel=1e-12)


@needs_soffice
def test_libreoffice_opens_the_cash_flow_sheet(report, tmp_path):
    convert(report, "pdf", tmp_path)
    # The last filter option (-1) writes every sheet to its own "<name>-<sheet>.csv".
    done = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(tmp_path),
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    rows = read_csv(tmp_path / f"r-{SHEET}.csv")
    header = next(k for k, row in enumerate(rows) if row and row[0] == "month")
    plan = _expected()[0][1]
    assert float(rows[header + 1][4]) == pytest.approx(plan.optimal.training, rel=1e-12)
    assert not any(v.startswith("#") for row in rows for v in row)
