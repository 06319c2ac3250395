"""Template inputs (issue 23): every numeric input refuses an out-of-range number in the cell
(data validation), the key inputs have names, and recalc names the input a bad value was
typed into."""

import pytest

from xlplan.cli import main
from xlplan.engine.money.schedule import demand_ramp
from xlplan.templates import monthly
from xlplan.templates.build import TEMPLATES
from xlplan.templates.routes import to_route
from xlplan.workbook.recalc import recalc_file

INPUT_FILL = "00FFF4C2"  # the light yellow of input cells (xlplan.shared.styles)


@pytest.fixture(scope="module")
def built():
    return {name: to_route(build(), "desktop") for name, build in TEMPLATES.items()}


def _numeric_rules(ws):
    """{cell coordinate: validation} of the sheet's number rules (not the preset lists)."""
    rules = {}
    for validation in ws.data_validations.dataValidation:
        if validation.type in ("decimal", "whole"):
            for cell_range in validation.sqref.ranges:
                for row in (
                    ws[cell_range.coord] if ":" in cell_range.coord else [[ws[cell_range.coord]]]
                ):
                    for cell in row:
                        rules[cell.coordinate] = validation
    return rules


def _allows(validation, value):
    """What Excel does with ``value`` typed into a cell under ``validation``."""
    low = float(validation.formula1)
    high = None if validation.formula2 is None else float(validation.formula2)
    if validation.type == "whole" and value != int(value):
        return False
    return {
        "greaterThan": lambda: value > low,
        "greaterThanOrEqual": lambda: value >= low,
        "between": lambda: low <= value <= high,
    }[validation.operator]()


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_every_numeric_input_has_a_rule(built, name):
    checked = 0
    for ws in built[name].worksheets:
        rules = _numeric_rules(ws)
        for row in ws.iter_rows():
            for cell in row:
                numeric = cell.number_format != "General" or isinstance(cell.value, float)
                if (
                    cell.fill.fgColor.rgb == INPUT_FILL
                    and numeric
                    and not isinstance(cell.value, str)
                ):
                    assert cell.coordinate in rules, (name, ws.title, cell.coordinate)
                    checked += 1
                    assert rules[cell.coordinate].showErrorMessage
                    if cell.value is not None:  # the template's own value is allowed
                        assert _allows(rules[cell.coordinate], cell.value), cell.coordinate
    assert checked >= 3, name  # the yellow inputs were found


@pytest.mark.parametrize(
    "sheet, cell, bad, good",
    [
        ("Planner", "B5", -5, 7e9),
        ("Planner", "B7", 0, 730),
        ("Planner", "D14", 1.5, 0.4),
        ("Planner", "B64", 2.5, 8),
        ("What a budget buys", "B7", 0.9, 1.2),
    ],
)
def test_a_typed_bad_number_is_refused_in_the_cell(built, sheet, cell, bad, good):
    rule = _numeric_rules(built["budget_planner.xlsx"][sheet])[cell]
    assert not _allows(rule, bad) and _allows(rule, good)
    assert rule.errorStyle in (None, "stop")  # refused, not merely warned about
    assert "must be" in rule.error


def test_monthly_rates_are_checked_in_range(built):
    rules = _numeric_rules(built["monthly_budget.xlsx"]["Monthly"])
    assert not _allows(rules["B11"], -0.05) and not _allows(rules["B11"], 1.5)
    assert not _allows(rules["B12"], -1.0) and _allows(rules["B12"], -0.25)
    assert not _allows(rules["C39"], -1) and rules["C39"].allow_blank


@pytest.mark.parametrize(
    "name, names",
    [
        (
            "budget_planner.xlsx",
            {
                "TargetParams": "Planner!$B$5",
                "DaysInService": "Planner!$B$7",
                "Budget": "'What a budget buys'!$B$5",
            },
        ),
        (
            "monthly_budget.xlsx",
            {
                "DiscountRate": "Monthly!$B$11",
                "PriceChange": "Monthly!$B$12",
                "HardwarePreset": "Monthly!$B$14",
            },
        ),
    ],
)
def test_key_inputs_are_named(built, name, names):
    defined = built[name].defined_names
    for key, reference in names.items():
        assert defined[key].attr_text == reference
        sheet, cell = reference.replace("'", "").replace("$", "").split("!")
        assert built[name][sheet][cell].fill.fgColor.rgb == INPUT_FILL


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_every_template_names_its_inputs(built, name):
    workbook = built[name]
    assert workbook.defined_names
    for defined in workbook.defined_names.values():
        ((sheet, cells),) = defined.destinations
        block = workbook[sheet][cells.replace("$", "")]
        block = block if isinstance(block, tuple) else ((block,),)
        assert any(c.fill.fgColor.rgb == INPUT_FILL for row in block for c in row), defined.name


def test_recalc_names_the_input_typed(tmp_path, capsys, built):
    source = tmp_path / "planner.xlsx"
    built["budget_planner.xlsx"].save(source)
    assert (
        main(["recalc", str(source), "-o", str(tmp_path / "out.xlsx"), "--set", "Planner!B5=-5"])
        == 1
    )
    err = capsys.readouterr().err
    assert (
        "from your input Planner!B5 = -5 (Target quality: as good as a Chinchilla-style "
        "model of this many parameters)"
    ) in err


def test_the_monthly_horizon_is_an_input(tmp_path, built):
    """No month count is a constant in a formula: B34 sets the months in service; the table's
    later months carry no requests, and every check still holds."""
    ws = built["monthly_budget.xlsx"]["Monthly"]
    formulas = [
        c.value
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    ]
    assert not any(f",{monthly.MONTHS}," in f for f in formulas)
    source = tmp_path / "monthly.xlsx"
    built["monthly_budget.xlsx"].save(source)
    values = recalc_file(source, tmp_path / "24.xlsx", [("Monthly", "B34", 24.0)]).values
    expected = sum(demand_ramp(2e7, 0.25, 24, 3e8))
    assert values[("Monthly", 20, 2)] == pytest.approx(expected, rel=1e-12)
    assert values[("Monthly", monthly.FIRST_MONTH_ROW + 24, 4)] == 0  # month 25
    assert values[("Checks", 5, 2)] == "OK"
