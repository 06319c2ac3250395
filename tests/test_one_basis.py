"""One plan, one basis: two faces that a CFO reads as the same quantity give the same number.

Each test puts the same inputs through two faces (Excel functions, the budget planner
recalculated headlessly, the report's sheets) and compares their numbers.
"""

import dataclasses
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from xlplan import udfs
from xlplan.cli import main
from xlplan.engine.data.data_limits import RepetitionWarning
from xlplan.engine.deploy.energy import plan_footprint
from xlplan.engine.deploy.serving import at_batch, decode_mfu, gpus_needed
from xlplan.engine.hardware import HARDWARE_PRESETS, get_hardware
from xlplan.engine.money.budget import best_for_budget
from xlplan.engine.paper.sizing import cost_optimal
from xlplan.report.build import write_report
from xlplan.report.compute import plan_rows
from xlplan.report.scenario import load_scenario
from xlplan.templates import budget_buys, serving_block

PLANNER = Path(__file__).resolve().parents[1] / "workbooks" / "budget_planner.xlsx"
SERVED = [name for name, hw in HARDWARE_PRESETS.items() if hw.has_serving_settings]


@pytest.mark.parametrize("preset", SERVED)
def test_gpus_needed_by_default_is_the_gpu_hours_the_cost_model_pays_for(preset):
    hours = udfs.GPUS_NEEDED(7e9, 1e9, None, None, preset)[0][0]
    month = udfs.CASHFLOW(7e9, 1.4e11, [[1e9]], None, None, None, None, preset)[1]
    assert hours == pytest.approx(month[2], rel=1e-9)
    inference = udfs.LIFETIME_COST(7e9, 1.4e11, 1e9, None, None, preset)[0][1]
    price = get_hardware(preset).inference_price_per_hour
    assert hours * price == pytest.approx(inference, rel=1e-9)
    # The preset's decode MFU is the roofline at the batch it implies.
    assert udfs.SERVING(7e9, preset)[0][0] == get_hardware(preset).decode_mfu
    from xlplan.engine.deploy.serving import implied_batch

    assert decode_mfu(get_hardware(preset).replace(decode_mfu=0.5), 1) * implied_batch(
        preset
    ) == pytest.approx(get_hardware(preset).decode_mfu, rel=1e-12)


def test_an_explicit_batch_is_the_roofline_and_prices_the_plan_alike():
    hw = at_batch("h100", 8)
    hours = udfs.GPUS_NEEDED(7e9, 1e9, None, None, "h100", 8)[0][0]
    inference = udfs.LIFETIME_COST(7e9, 1.4e11, 1e9, None, None, [list(hw.as_tuple(all=True))])[0][
        1
    ]
    assert hours * hw.inference_price_per_hour == pytest.approx(inference, rel=1e-9)
    assert udfs.SERVING(7e9, "h100", 8)[0][0] == pytest.approx(decode_mfu("h100", 8), rel=0)


def _planner(tmp_path, *settings):
    out = tmp_path / "planner.xlsx"
    args = ["recalc", str(PLANNER), "-o", str(out)]
    for setting in settings:
        args += ["--set", setting]
    assert main(args) == 0
    return openpyxl.load_workbook(out, data_only=True)


def _by_label(ws):
    return {
        ws[f"A{r}"].value: ws[f"B{r}"].value for r in range(1, ws.max_row + 1) if ws[f"A{r}"].value
    }


@pytest.mark.parametrize(("batch", "override"), [(None, None), (8, None), (8, 0.02)])
def test_planner_serving_block_costs_what_the_plan_costs(tmp_path, batch, override):
    ws = openpyxl.load_workbook(PLANNER)["Planner"]
    batch_cell = next(
        f"Planner!B{r}"
        for r in range(1, ws.max_row + 1)
        if ws[f"A{r}"].value == serving_block.BATCH
    )
    settings = (
        ["Planner!B11=h100"]
        + ([f"{batch_cell}={batch}"] if batch else [])
        + ([f"Planner!H14={override}"] if override else [])
    )
    ws = _planner(tmp_path, *settings)["Planner"]
    values = _by_label(ws)
    gpu_hours = values["GPU-hours per month"]
    months = ws["B7"].value * 12 / 365
    assert gpu_hours * ws["E13"].value * months == pytest.approx(ws["B22"].value, rel=1e-9)
    # H13, the decode MFU in force: the override, else the roofline at the batch, else the
    # preset's; the plan (B22) and the serving block both use it.
    expected = override or (decode_mfu("h100", batch) if batch else get_hardware("h100").decode_mfu)
    assert ws["H13"].value == pytest.approx(expected, rel=1e-12)
    label = next(label for label in values if str(label).startswith("Decode MFU in force"))
    assert values[label] == ws["H13"].value
    assert "H14" in label and "put it in H13" not in label


def _summary(path):
    return pd.read_excel(path, sheet_name="Summary", header=4, keep_default_na=False)


def _scenario(tmp_path, text):
    path = tmp_path / "plan.toml"
    path.write_text(text)
    out = tmp_path / "report.xlsx"
    write_report(out, path, show_progress=False)
    return path, out


DATA_LIMITED = """hardware = "h100"
[[scenarios]]
name = "7B data-limited"
chinchilla_params = 7e9
requests = 1e10
unique_tokens = 1e11
"""


def test_summary_energy_and_gpus_are_those_of_the_data_limited_model(tmp_path):
    path, out = _scenario(tmp_path, DATA_LIMITED)
    row = _summary(out).iloc[0]
    scenario = load_scenario(path)
    with pytest.warns(RepetitionWarning):  # 30 epochs over the unique data
        plan = cost_optimal(scenario.plans[0].loss, 1e10, hardware="h100", unique_tokens=1e11)
    assert row["Recommended params"] == pytest.approx(plan.optimal.params, rel=1e-9)
    f = plan_footprint(
        row["Recommended params"], row["Recommended training tokens"], 1e10, hardware="h100"
    )
    assert row["Training energy MWh"] == pytest.approx(f.training_mwh, rel=1e-9)
    assert row["Inference energy MWh"] == pytest.approx(f.inference_mwh, rel=1e-9)
    needs = gpus_needed(row["Recommended params"], 1e10 / 24, hardware="h100")
    assert row["GPUs to reserve"] == needs.peak
    assert plan_rows(scenario)[0].training_mwh == pytest.approx(f.training_mwh, rel=1e-12)


RAMP = """hardware = "h100"
[serving]
peak_to_average = 1.5
[[scenarios]]
name = "ramp"
chinchilla_params = 7e9
discount_rate = 0.10
price_change = -0.25
[scenarios.monthly_ramp]
first_month_requests = 2e7
monthly_growth = 0.25
months = 36
peak_requests = 1.5e9
"""


def _cash_flow_average_gpus(path):
    ws = openpyxl.load_workbook(path, data_only=True)["Cash flow"]
    header = next(r for r in range(1, ws.max_row + 1) if ws[f"D{r}"].value == "average GPUs")
    # Months 1 on: month 0 is training, and the totals row has no month number.
    return [
        ws[f"D{r}"].value
        for r in range(header + 1, ws.max_row + 1)
        if isinstance(ws[f"D{r}"].value, float)
        and isinstance(ws[f"A{r}"].value, (int, float))
        and ws[f"A{r}"].value >= 1
    ]


def test_gpus_to_reserve_with_a_schedule_serve_its_peak_month(tmp_path):
    path, out = _scenario(tmp_path, RAMP)
    row = _summary(out).iloc[0]
    months = load_scenario(path).plans[0].monthly.requests_by_month
    needs = gpus_needed(
        row["Recommended params"], max(months), hardware="h100", peak_to_average=1.5
    )
    assert row["GPUs to reserve"] == needs.peak
    # The cash-flow sheet's busiest month fits in the reserve, with the headroom asked for.
    busiest = max(_cash_flow_average_gpus(out))
    assert busiest == pytest.approx(needs.average, rel=1e-9)
    assert row["GPUs to reserve"] >= 1.5 * busiest
    assert "peak month" in row["GPUs sized for (load, horizon)"]


def _budget_sheet_buys_the_summary_plan(out):
    """(budget sheet, Summary frame, its lifetime cost column) once the sheet is checked to
    spend the Summary's lifetime cost on the Summary's model."""
    ws = openpyxl.load_workbook(out, data_only=True)["What a budget buys"]
    frame = _summary(out)
    total = next(c for c in frame.columns if c.startswith("Lifetime cost $"))
    assert ws["B5"].value == pytest.approx(frame[total][0], rel=1e-12)
    assert ws["B9"].value == pytest.approx(frame["Recommended params"][0], rel=1e-9)
    return ws, frame, total


def test_the_budget_sheet_given_the_summary_cost_buys_the_summary_plan(tmp_path):
    _path, out = _scenario(tmp_path, RAMP)
    ws, _frame, total = _budget_sheet_buys_the_summary_plan(out)
    money = [ws[f"A{r}"].value for r in range(1, 20) if "$" in str(ws[f"A{r}"].value)]
    assert money and all("present value" in label for label in money)
    assert "present value" in total


BUDGETS = """[[scenarios]]
name = "5M budget"
budget_dollars = 5e6
requests = 1e11
[[scenarios]]
name = "2M budget"
budget_dollars = 2e6
requests = 1e10
"""


def test_every_budget_scenario_gets_its_sheet_and_the_two_chinchillas_differ_by_name(tmp_path):
    _path, out = _scenario(tmp_path, BUDGETS)
    wb = openpyxl.load_workbook(out, data_only=True)
    frame = _summary(out)
    budget_sheets = [name for name in wb.sheetnames if name.startswith("What a budget buys")]
    assert len(budget_sheets) == 2
    for k, name in enumerate(budget_sheets):
        ws = wb[name]
        assert ws["B5"].value == [5e6, 2e6][k]
        best = best_for_budget([5e6, 2e6][k], [1e11, 1e10][k])
        assert ws["B9"].value == pytest.approx(frame["Recommended params"][k], rel=1e-9)
        assert ws["B9"].value == pytest.approx(best.params, rel=1e-12)
        assert ws["C8"].value != ws["B8"].value and "Chinchilla" not in ws["C8"].value
    chinchilla = [c for c in frame.columns if "Chinchilla" in c and "$" in c]
    assert chinchilla and all("Same-quality" in c for c in chinchilla)


def test_planner_board_power_follows_the_preset_with_an_override(tmp_path):
    wb = _planner(tmp_path, "Planner!B11=h100")
    ws = wb[budget_buys.SHEET]
    h100 = get_hardware("h100")
    assert (ws["B9"].value, ws["B10"].value) == (h100.train_power_watts, h100.inference_power_watts)
    planner = wb["Planner"]
    f = plan_footprint(
        planner["B19"].value,
        planner["B20"].value,
        planner["B18"].value,
        hardware="h100",
        pue=ws["B7"].value,
        grid_kg_per_kwh=ws["B8"].value,
    )
    values = {ws[f"A{r}"].value: ws[f"C{r}"].value for r in range(22, 28)}
    assert values["Training energy (MWh)"] == pytest.approx(f.training_mwh, rel=1e-9)
    assert values["Inference emissions (t CO2e)"] == pytest.approx(f.inference_t, rel=1e-9)
    mine = _planner(tmp_path, "Planner!B11=h100", f"'{budget_buys.SHEET}'!C9=500")
    assert mine[budget_buys.SHEET]["B9"].value == 500
    assert mine[budget_buys.SHEET]["B10"].value == 700


def test_the_report_and_the_planner_use_the_same_board_power():
    scenario = load_scenario(None)
    assert math.isclose(
        scenario.hardware.train_power_watts,
        udfs.XLPLAN_HARDWARE(scenario.hardware.name, True, True)[0][10],
    )
    assert np.isfinite(udfs.XLPLAN_HARDWARE("h100", None, True)[0][8])


def test_the_scenario_file_is_parsed_without_computing_and_resolved_by_compute(tmp_path):
    from xlplan.engine.paper.chinchilla import chinchilla_from_params
    from xlplan.report.compute import resolved
    from xlplan.report.scenario import parse_scenario

    path = tmp_path / "plan.toml"
    path.write_text(
        BUDGETS + '[[scenarios]]\nname = "7B"\nchinchilla_params = 7e9\nrequests = 1e9\n'
    )
    parsed = parse_scenario(path)
    assert all(math.isnan(p.loss) for p in parsed.plans)
    assert [math.isnan(p.chinchilla_params) for p in parsed.plans] == [True, True, False]
    loaded = load_scenario(path)
    assert loaded == resolved(parsed)
    assert loaded.plans[2].loss == float(chinchilla_from_params(7e9).loss)
    assert loaded.plans[0].loss == pytest.approx(best_for_budget(5e6, 1e11).loss, rel=1e-12)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan_rows(loaded)[0].params = 1.0


def test_a_data_limited_budget_sheet_buys_the_summary_plan_under_its_cap(tmp_path):
    """The budget sheet buys with the plan's data cap: the Summary's cost buys its plan."""
    _path, out = _scenario(tmp_path, DATA_LIMITED)
    ws, frame, total = _budget_sheet_buys_the_summary_plan(out)
    assert ws["B10"].value == pytest.approx(frame["Recommended training tokens"][0], rel=1e-9)
    assert "unlimited" not in str(ws["A3"].value) and "unique tokens" in str(ws["A3"].value)
    free = best_for_budget(frame[total][0], 1e10, hardware="h100")
    assert ws["B11"].value > free.loss + 1e-3  # the cap costs quality at the same money
