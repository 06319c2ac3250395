"""The Checks sheet (issue 23): every template and report checks its faces against each other.

Templates: the checks are live formulas, evaluated by xlplan's evaluator; a result typed over
a formula turns the master check to ERROR. Reports: formulas over the report's values,
cached on writing; a value patched into the Summary and recalculated turns it to ERROR.
Issue 23's disagreements 1-4 made checks fail here until they were fixed (branch basis);
KNOWN lists any check still expected to fail, with its reason (none today).
"""

import openpyxl
import pytest

from xlplan.cli import main
from xlplan.shared.checks import FIRST_ROW, MASTER, SHEET, TOLERANCE
from xlplan.templates import budget, fit, monthly, table2, table3
from xlplan.templates.build import TEMPLATES
from xlplan.templates.routes import to_route
from xlplan.workbook.evaluate import evaluate
from xlplan.workbook.recalc import recalc_file

from report_scenarios import BUDGET, RANGES, SCHEDULE, UNIQUE

MASTER_KEY = (SHEET, 5, 2)
assert MASTER.endswith("$B$5")

# {file: {part of a check's label: the disagreement that check finds today}}
KNOWN = {}

REPORTS = {
    "default": None,
    "schedule": SCHEDULE,
    "ranges": RANGES,
    "budget": BUDGET,
    "unique": UNIQUE,
}
# A result each template shows, typed over with a number: (module, sheet, cell).
TYPED_OVER = {
    table2.FILENAME: ("Table 2", "E7"),
    table3.FILENAME: ("Table 3", "H14"),
    budget.FILENAME: ("Planner", "B21"),
    fit.FILENAME: ("Fit", "G14"),
    monthly.FILENAME: ("Monthly", "B25"),
}


def _rows(values):
    """{check label: (value, compared with, relative difference, result)} of a Checks sheet,
    from a {(sheet, row, column): value} mapping."""
    rows, r = {}, FIRST_ROW
    while (SHEET, r, 1) in values or values.get((SHEET, r, 6)) is not None:
        rows[values[(SHEET, r, 1)]] = tuple(values.get((SHEET, r, c)) for c in (2, 3, 5, 6))
        r += 1
    return rows


def _known(name, label):
    return next((why for part, why in KNOWN.get(name, {}).items() if part in label), None)


@pytest.fixture(scope="module")
def templates():
    """{filename: evaluated values} of every template, as built (formulas)."""
    out = {}
    for name, build in TEMPLATES.items():
        workbook = to_route(build(), "desktop")
        out[name] = (workbook, evaluate(workbook).values)
    return out


def _labels(workbook):
    ws = workbook[SHEET]
    return {(SHEET, r, 1): ws.cell(r, 1).value for r in range(FIRST_ROW, ws.max_row + 1)}


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_every_template_master_check_is_ok(templates, name):
    workbook, values = templates[name]
    assert values[MASTER_KEY] == "OK"
    assert workbook.worksheets[0][_master_cell(workbook)].value == f"={MASTER}"


def _master_cell(workbook):
    first = workbook.worksheets[0]
    return next(c.coordinate for row in first.iter_rows() for c in row if c.value == f"={MASTER}")


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_every_template_check_but_the_known_disagreements_is_ok(templates, name):
    """Each row computes both values (no error hidden as a pass) and agrees to 1e-9, unless
    it is a known disagreement (then it must fail: the check is what proves the fix)."""
    workbook, values = templates[name]
    rows = _rows(values | _labels(workbook))
    assert len(rows) >= 2
    for label, (left, right, relative, result) in rows.items():
        assert isinstance(left, float) and isinstance(right, float), label
        if not _known(name, label):
            assert result == "OK" and relative <= TOLERANCE, (label, left, right)


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_a_result_typed_over_a_formula_shows_error(name):
    workbook = to_route(TEMPLATES[name](), "desktop")
    sheet, cell = TYPED_OVER[name]
    assert str(workbook[sheet][cell].value).startswith("=")
    workbook[sheet][cell] = 12345.0  # a number typed over the formula
    values = evaluate(workbook).values
    assert values[MASTER_KEY] == "ERROR"


def test_switching_the_planner_to_h100_is_checked(tmp_path, templates):
    """recalc --set the hardware preset: the planner's checks follow it, every identity holds
    (the serving block and the plan agree since issue 23 #1 was fixed)."""
    source = tmp_path / "planner.xlsx"
    templates[budget.FILENAME][0].save(source)
    evaluation = recalc_file(source, tmp_path / "h100.xlsx", [("Planner", "B11", "h100")])
    workbook = openpyxl.load_workbook(tmp_path / "h100.xlsx")
    rows = _rows(evaluation.values | _labels(workbook))
    assert rows and all(row[3] == "OK" for row in rows.values())


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checked_reports")
    paths = {}
    for name, text in REPORTS.items():
        args = []
        if text is not None:
            (folder / f"{name}.toml").write_text(text)
            args = ["--scenario", str(folder / f"{name}.toml")]
        assert main(["report", "-q", "-o", str(folder / f"{name}.xlsx"), *args]) == 0
        paths[name] = folder / f"{name}.xlsx"
    return paths


def _report_rows(path):
    ws = openpyxl.load_workbook(path, data_only=True)[SHEET]
    values = {
        (SHEET, r, c): ws.cell(r, c).value
        for r in range(FIRST_ROW, ws.max_row + 1)
        for c in range(1, 7)
    }
    return ws["B5"].value, _rows(values)


@pytest.mark.parametrize("name", ["default", "ranges", "budget"])
def test_report_master_check_is_ok(reports, name):
    master, rows = _report_rows(reports[name])
    assert master == "OK"
    assert len(rows) >= 10
    first = openpyxl.load_workbook(reports[name], data_only=True).worksheets[0]
    assert first.title == "Answer" and first["B4"].value == "OK"


@pytest.mark.parametrize("name", ["schedule", "unique"])
def test_report_master_check_is_ok_now_the_disagreements_are_fixed(reports, name):
    assert _report_rows(reports[name])[0] == "OK"


@pytest.mark.parametrize("name", list(REPORTS))
def test_report_checks_fail_only_on_the_known_disagreements(reports, name):
    _, rows = _report_rows(reports[name])
    for label, (left, right, relative, result) in rows.items():
        assert isinstance(left, (int, float)) and isinstance(right, (int, float)), label
        if not _known(name, label):
            assert result == "OK" and relative <= TOLERANCE, (label, left, right)


def test_a_patched_summary_value_shows_error(reports, tmp_path):
    """A lifetime cost patched in the Summary and recalculated: the master check says ERROR."""
    out = tmp_path / "patched.xlsx"
    evaluation = recalc_file(reports["default"], out, [("Summary", "I7", 1.0)])
    assert evaluation.values[MASTER_KEY] == "ERROR"
    answer = openpyxl.load_workbook(out, data_only=True)["Answer"]
    assert answer["B4"].value == "ERROR"


def test_a_data_limited_report_checks_its_budget_sheet_buys_the_summary_model(reports):
    """The budget sheet buys under the plan's data cap, so its same-model row is checked."""
    master, rows = _report_rows(reports["unique"])
    same = [label for label in rows if "on the same model" in label]
    assert master == "OK" and len(same) == 1
    assert rows[same[0]][3] == "OK" and rows[same[0]][2] <= 1e-9
