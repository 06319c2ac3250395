"""Templates (issue 15): preset dropdowns, settings that follow the preset, finance formats."""

import math

import openpyxl
import pytest

from xlplan.cli import main
from xlplan.engine.hardware import HARDWARE_PRESETS, get_hardware
from xlplan.engine.laws import LAW_PRESETS, get_law
from xlplan.engine.paper.sizing import cost_optimal, lifetime_cost
from xlplan.shared.styles import COUNT_FORMAT, FORMATS
from xlplan.templates.build import TEMPLATES, build_template


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("templates")
    return {name: build_template(name, folder)[0] for name in TEMPLATES}


def _validations(path):
    """{cell: list of names} of every list data validation, read back with openpyxl."""
    found = {}
    for ws in openpyxl.load_workbook(path).worksheets:
        for validation in ws.data_validations.dataValidation:
            if validation.type != "list":  # numeric inputs: tests/test_input_rules.py
                continue
            names = validation.formula1.strip('"').split(",")
            for ref in str(validation.sqref).split():
                found[f"{ws.title}!{ref}"] = names
    return found


@pytest.mark.parametrize(
    ("name", "hardware", "law"),
    [
        ("budget_planner.xlsx", "Planner!B11", "Planner!B10"),
        ("table2_compute_optimal.xlsx", None, "Table 2!B4"),
        ("table3_cost_optimal.xlsx", "Table 3!B9", "Table 3!B4"),
        ("table3_cost_optimal.xlsx", "Table 3!B10", None),
        ("fit_coefficients.xlsx", "Fit!G13", None),
    ],
)
def test_preset_cells_have_dropdowns_of_the_preset_names(built, name, hardware, law):
    found = _validations(built[name])
    if hardware:
        assert found[hardware] == list(HARDWARE_PRESETS)
    if law:
        assert found[law] == list(LAW_PRESETS)


def _values(path, sheet="Planner"):
    return openpyxl.load_workbook(path, data_only=True)[sheet]


def test_switching_the_planner_to_h100_changes_every_dependent_number(built, tmp_path):
    out = tmp_path / "h100.xlsx"
    assert (
        main(
            [
                "recalc",
                str(built["budget_planner.xlsx"]),
                "-o",
                str(out),
                "--set",
                "Planner!B11=h100",
            ]
        )
        == 0
    )
    before, after = _values(built["budget_planner.xlsx"]), _values(out)
    h100 = get_hardware("h100")
    assert [after[f"{c}13"].value for c in "BCDEFGH"] == pytest.approx(list(h100.as_tuple()))
    assert before["A13"].value == "In force: preset paper-a100"
    assert after["A13"].value == "In force: preset h100"
    for ref in ("B19", "B20", "B21", "B22", "B23", "B25", "B26", "B27"):  # priced cells
        assert not math.isclose(before[ref].value, after[ref].value, rel_tol=1e-6), ref
    for r in range(31, 37):  # the sensitivity table's sizes and dollars
        for c in "CDEF":
            assert not math.isclose(
                before[f"{c}{r}"].value, after[f"{c}{r}"].value, rel_tol=1e-6
            ), f"{c}{r}"
    # The numbers are h100's: the engine's plan, and it meets the target loss.
    loss, requests = after["B17"].value, after["B18"].value
    plan = cost_optimal(loss, requests, 70, 215, hardware=h100, law=get_law("chinchilla"))
    assert after["B19"].value == pytest.approx(float(plan.optimal.params), rel=1e-9)
    law = get_law("chinchilla")
    assert float(law.loss(after["B19"].value, after["B20"].value)) == pytest.approx(loss, abs=1e-9)
    total = lifetime_cost(after["B19"].value, after["B20"].value, requests, 70, 215, hardware=h100)
    assert after["B23"].value == pytest.approx(float(total.total), rel=1e-9)


def test_an_override_replaces_one_setting_and_the_label_says_so(built, tmp_path):
    out = tmp_path / "override.xlsx"
    assert (
        main(
            [
                "recalc",
                str(built["budget_planner.xlsx"]),
                "-o",
                str(out),
                "--set",
                "Planner!B11=h100",
                "--set",
                "Planner!E14=3.5",
            ]
        )
        == 0
    )
    ws = _values(out)
    assert ws["E13"].value == 3.5  # inference $/GPU-hour: the override
    assert ws["B13"].value == get_hardware("h100").train_price_per_hour  # the rest: preset
    assert ws["A13"].value == "In force: preset h100, 1 setting(s) overridden below"


def test_finance_number_formats(built):
    ws = openpyxl.load_workbook(built["budget_planner.xlsx"])["Planner"]
    assert ws["B19"].number_format == COUNT_FORMAT  # 2.79B
    assert ws["B20"].number_format == COUNT_FORMAT  # 1.00T
    assert ws["B23"].number_format == FORMATS["usd"]  # $87,879
    assert ws["B27"].number_format == FORMATS["percent"]
    assert ws["B6"].number_format == FORMATS["integer"]  # requests per day: 1,000,000
    assert ws["D13"].number_format == FORMATS["percent"]  # train MFU as 50.0%
    for name, path in built.items():
        for sheet in openpyxl.load_workbook(path).worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert "E+" not in cell.number_format.upper(), (name, cell.coordinate)


def test_count_format_reads_as_a_finance_reader_writes():
    """The custom format's sections against the values it must show (Excel semantics: each
    trailing comma divides by 1,000)."""
    sections = COUNT_FORMAT.split(";")
    assert sections[0].startswith("[>=1000000000000]") and sections[0].endswith('"T"')
    assert sections[0].count(",") - sections[0].count("#,##") == 4  # 4.30e12 -> 4.30T
    assert sections[1].startswith("[>=1000000000]") and sections[1].count(",") == 3  # 3.78B
    assert sections[2].count(",") == 2 and sections[2].endswith('"M"')


def test_table3_blocks_follow_their_preset_cells(built, tmp_path):
    out = tmp_path / "t3.xlsx"
    assert (
        main(
            [
                "recalc",
                str(built["table3_cost_optimal.xlsx"]),
                "-o",
                str(out),
                "--set",
                "'Table 3'!B9=h100",
            ]
        )
        == 0
    )
    before, after = (_values(p, "Table 3") for p in (built["table3_cost_optimal.xlsx"], out))
    assert after["B9"].value == "h100"
    assert [after[f"{c}9"].value for c in "CDEFGHI"] == pytest.approx(
        list(get_hardware("h100").as_tuple())
    )
    assert [after[f"{c}10"].value for c in "CDEFGHI"] == [before[f"{c}10"].value for c in "CDEFGHI"]
    for r in range(14, 19):  # block 1 is repriced; its cost-optimal size moves
        assert not math.isclose(before[f"F{r}"].value, after[f"F{r}"].value, rel_tol=1e-6)
        assert after[f"F{r + 9}"].value == before[f"F{r + 9}"].value  # block 2 is not
