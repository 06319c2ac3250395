"""xlplan recalc's error list (issue 15): root causes first, labelled by the function that
failed, then the count of cells that only inherit them."""

from pathlib import Path

import openpyxl

from xlplan.cli import main
from xlplan.workbook.evaluate import evaluate

FIT = Path(__file__).resolve().parent.parent / "workbooks" / "fit_coefficients.xlsx"


def _chain_workbook():
    """A1 text; B1 fails on it; C1, D1 read B1 (inherit); E1 = INDEX of a failing call."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "S"
    sheet["A1"] = "x"
    sheet["B1"] = "=A1*2"
    sheet["C1"] = "=B1+1"
    sheet["D1"] = "=INDEX(B1:C1,1,2)"
    sheet["E1"] = '=INDEX(OPT_PARAMS(1.0,1e12,"chinchilla"),1,2)'
    return workbook


def test_root_cells_and_inheriting_cells_are_told_apart():
    evaluation = evaluate(_chain_workbook())
    roots = dict(evaluation.root_errors)
    inherited = dict(evaluation.inherited_errors)
    assert set(roots) == {"S!B1", "S!E1"}
    assert set(inherited) == {"S!C1", "S!D1"}
    assert inherited["S!C1"] is roots["S!B1"]  # the same error, passed on
    # INDEX of a failing call is that call's error, named by it (not "outside a 1x1 array").
    assert roots["S!E1"].code == "#NUM!" and roots["S!E1"].message.startswith("OPT_PARAMS:")


def test_recalc_prints_each_cause_once_then_the_inheriting_count(tmp_path, capsys):
    out = tmp_path / "out.xlsx"
    assert main(["recalc", str(FIT), "-o", str(out), "--set", "Fit!G10=1.0"]) == 1
    lines = capsys.readouterr().err.splitlines()[1:]
    # G14 calls OPT_PARAMS and G16 calls COST_OPT: each labelled by its own function.
    typed = "    from your input Fit!G10 = 1 (Target loss (nats/token))"  # what to fix
    assert lines[0].startswith("  #NUM! OPT_PARAMS: loss=1 is out of range")
    assert lines[1:3] == ["    in Fit!G14, Fit!G15", typed]
    assert lines[3].startswith("  #NUM! COST_OPT: loss=1 is out of range")
    assert lines[4:6] == ["    in Fit!G16, Fit!G17", typed]
    # Only the Checks sheet inherits: value, difference and relative difference of its two
    # rows (each "reaches the target loss" check reads G14:G15 or G16:G17); no "1x1" noise.
    assert lines[6:] == ["  6 other cell(s) show these errors because they use the cells above"]
    assert not any("1x1" in line for line in lines)


def test_one_bad_run_is_one_cause_and_a_count(tmp_path, capsys):
    out = tmp_path / "out.xlsx"
    assert main(["recalc", str(FIT), "-o", str(out), "--set", "Fit!A7=-5"]) == 1
    lines = capsys.readouterr().err.splitlines()[1:]
    assert lines[0] == (
        "  #NUM! FIT_COEFFS: row 2: params=-5 is out of range: it must be a finite number > 0"
    )
    assert lines[1] == "    in Fit!F7, Fit!G7, Fit!H7, Fit!I7, Fit!J7"
    assert lines[2] == "    from your input Fit!A7 = -5"  # a run: no label beside it
    # the four sizing cells G14:G17, and the Checks sheet's value, difference and relative
    # difference of its two rows (which read those four)
    assert lines[3] == "  10 other cell(s) show these errors because they use the cells above"
    assert len(lines) == 4
