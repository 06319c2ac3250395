"""One home for the defaults: the default law and hardware, and the hours of a month.

``engine.constants`` defines them; the engine, the Excel functions (desktop and
Lite), the templates and the report take them from there. A face that spells its
own default, or a module that defines a second copy, fails here.
"""

import ast
import inspect
from pathlib import Path

import openpyxl
import pytest
from numpy.testing import assert_allclose

import xlplan
from xlplan import lite, udfs
from xlplan.engine import constants
from xlplan.engine.constants import DEFAULT_HARDWARE, DEFAULT_LAW, HOURS_PER_MONTH
from xlplan.engine.deploy.serving import at_batch, gpus_needed
from xlplan.engine.hardware import get_hardware
from xlplan.engine.laws import get_law
from xlplan.engine.money.cashflow import cashflow
from xlplan.excel.registry import FUNCTIONS
from xlplan.report.scenario import load_scenario
from xlplan.templates import presets

PACKAGE = Path(xlplan.__file__).resolve().parent
WORKBOOKS = PACKAGE.parent / "workbooks"
SINGLE_HOMES = (
    "DEFAULT_LAW",
    "DEFAULT_HARDWARE",
    "DEFAULT_INPUT_TOKENS",
    "DEFAULT_OUTPUT_TOKENS",
    "DEFAULT_DELTA",
    "TRAIN_FLOPS_PER_PARAM_TOKEN",
    "INFERENCE_FLOPS_PER_PARAM_TOKEN",
    "SECONDS_PER_HOUR",
    "HOURS_PER_MONTH",
    "MONTHS_PER_YEAR",
    "DAYS_PER_YEAR",
)
# A preset other than the default, to show a test would notice a different one.
OTHER_LAW, OTHER_HARDWARE = "epoch-2024", "h100"


def _assigned_names(path):
    """Module-level names bound by assignment in ``path``."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else ([node.target] if isinstance(node, ast.AnnAssign) else [])
        )
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    names.add(leaf.id)
    return names


def test_every_shared_constant_is_assigned_in_constants_only():
    homes = {name: [] for name in SINGLE_HOMES}
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in _assigned_names(path) & set(SINGLE_HOMES):
            homes[name].append(str(path.relative_to(PACKAGE)))
    assert homes == {name: ["engine/constants.py"] for name in SINGLE_HOMES}


def test_a_month_is_8760_hours_over_12():
    assert HOURS_PER_MONTH == 365 * 24 / 12 == 730.0
    assert constants.DAYS_PER_MONTH * constants.HOURS_PER_DAY == HOURS_PER_MONTH


def test_the_engine_resolves_none_to_the_default_presets():
    assert get_law() is get_law(DEFAULT_LAW)
    assert get_hardware() is get_hardware(DEFAULT_HARDWARE)
    assert get_law() != get_law(OTHER_LAW)
    assert get_hardware() != get_hardware(OTHER_HARDWARE)


def test_excel_help_names_the_defaults():
    seen = set()
    for spec in FUNCTIONS.values():
        for param in spec.params:
            default = {"law": DEFAULT_LAW, "hardware": DEFAULT_HARDWARE}.get(param.name)
            if default is not None:
                assert param.help.endswith(f"Default {default}."), (spec.name, param.help)
                seen.add(param.name)
    assert seen == {"law", "hardware"}


@pytest.mark.parametrize("route", [udfs, lite], ids=["desktop", "lite"])
def test_excel_functions_omitting_law_and_hardware_use_the_defaults(route):
    # COST_OPT(loss, requests, input_tokens, output_tokens, hardware, law)
    omitted = route.COST_OPT(2.1, 1e10)
    assert omitted == route.COST_OPT(2.1, 1e10, None, None, DEFAULT_HARDWARE, DEFAULT_LAW)
    assert omitted != route.COST_OPT(2.1, 1e10, None, None, OTHER_HARDWARE, DEFAULT_LAW)
    assert omitted != route.COST_OPT(2.1, 1e10, None, None, DEFAULT_HARDWARE, OTHER_LAW)


def _sheet(filename, sheet, data_only):
    return openpyxl.load_workbook(WORKBOOKS / filename, data_only=data_only)[sheet]


@pytest.mark.parametrize(
    ("filename", "sheet", "law_cell", "hardware_cell", "settings_row"),
    [
        ("budget_planner.xlsx", "Planner", "B10", "B11", 13),
        ("monthly_budget.xlsx", "Monthly", "B13", "B14", 16),
        ("fit_coefficients.xlsx", "Fit", None, "G13", None),
    ],
)
def test_templates_start_from_the_default_presets(
    filename, sheet, law_cell, hardware_cell, settings_row
):
    # The committed workbooks equal the generator's (tests/test_workbooks.py).
    ws = _sheet(filename, sheet, data_only=True)
    if law_cell:
        assert ws[law_cell].value == DEFAULT_LAW
    assert ws[hardware_cell].value == DEFAULT_HARDWARE
    if settings_row:  # the cached settings in force are the default preset's
        row = [ws[f"{c}{settings_row}"].value for c in "BCDEFGH"]
        assert_allclose(row, get_hardware(DEFAULT_HARDWARE).as_tuple(), rtol=1e-12)
    assert inspect.signature(presets.hardware_block).parameters["preset"].default == (
        DEFAULT_HARDWARE
    )


def test_the_budget_sheet_writes_the_default_presets_board_powers():
    """The board powers follow the Planner's preset (issue 23 #5): as built, the default's."""
    ws = _sheet("budget_planner.xlsx", "What a budget buys", data_only=True)
    hw = get_hardware(DEFAULT_HARDWARE)
    assert (ws["B9"].value, ws["B10"].value) == (hw.train_power_watts, hw.inference_power_watts)
    formulas = _sheet("budget_planner.xlsx", "What a budget buys", data_only=False)
    assert all(
        "XLPLAN_HARDWARE(Planner!$B$11,TRUE,TRUE)" in formulas[ref].value for ref in ("B9", "B10")
    )


def test_the_report_defaults_are_the_default_presets(tmp_path):
    paper = load_scenario()
    assert paper.law == get_law(DEFAULT_LAW)
    assert paper.hardware == get_hardware(DEFAULT_HARDWARE)
    bare = tmp_path / "bare.toml"
    bare.write_text('[[scenarios]]\nname = "one"\nchinchilla_params = 7e9\nrequests = 1e9\n')
    scenario = load_scenario(bare)
    assert scenario.law == get_law(DEFAULT_LAW)
    assert scenario.hardware == get_hardware(DEFAULT_HARDWARE)


def test_gpu_hours_have_one_formula_across_cash_flow_and_serving():
    # Serving derives GPU-hours from its roofline tokens/s, the cash flow from the cost
    # model at 1 per GPU-hour: both are 2 N R (d_in / MFU_prefill + d_out / MFU_decode)
    # / (3600 x peak), and both divide by the same 730 hours.
    hw = at_batch("h100", 8)
    flow = cashflow(7e9, 1.4e12, [3e8, 1e9], input_tokens=70, output_tokens=215, hardware=hw)
    needs = [gpus_needed(7e9, r, 70, 215, hw) for r in (3e8, 1e9)]
    assert_allclose(flow.gpu_hours[1:], [n.gpu_hours_per_month for n in needs], rtol=1e-13)
    assert_allclose(flow.average_gpus[1:], [n.average for n in needs], rtol=1e-13)
    by_hand = (
        2
        * 7e9
        * 1e9
        * (70 / hw.prefill_mfu + 215 / hw.decode_mfu)
        / (3600 * hw.inference_peak_flops)
    )
    assert_allclose(flow.gpu_hours[2], by_hand, rtol=1e-13)
    assert_allclose(flow.average_gpus[2], by_hand / 730, rtol=1e-13)
