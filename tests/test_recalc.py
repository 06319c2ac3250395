"""Headless recalculation: the engine's numbers in every reader, spills, safety, errors."""

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import xlplan
from xlplan.cli import main
from xlplan.workbook.recalc import WorkbookError, parse_setting, recalc_file

from lo_helpers import convert, needs_soffice, read_csv

WORKBOOKS = Path(__file__).resolve().parent.parent / "workbooks"
PLANNER = WORKBOOKS / "budget_planner.xlsx"


def _sheet(cells, path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for ref, value in cells.items():
        ws[ref] = value
    wb.save(path)
    return path


def test_recalc_with_a_new_input_gives_the_engine_numbers(tmp_path):
    out = tmp_path / "out.xlsx"
    assert (
        main(
            [
                "recalc",
                str(PLANNER),
                "-o",
                str(out),
                "--set",
                "Planner!B5=13e9",
                "--set",
                "'Planner'!B6=5e6",
            ]
        )
        == 0
    )
    plan = xlplan.cost_optimal(xlplan.chinchilla_from_params(13e9).loss, 5e6 * 730)
    ws = openpyxl.load_workbook(out, data_only=True)["Planner"]
    assert ws["B19"].value == pytest.approx(plan.optimal.params, rel=1e-12)
    frame = pd.read_excel(out, sheet_name="Planner", header=None)
    assert frame.iloc[22, 1] == pytest.approx(plan.optimal.total, rel=1e-12)  # B23
    assert openpyxl.load_workbook(out)["Planner"]["B19"].value.startswith("=INDEX(COST_OPT(")


def test_a_bare_multi_value_formula_spills_right_and_recalculates_again(tmp_path):
    source = _sheet(
        {"A1": 2.1, "B1": 1e12, "C1": "=OPT_PARAMS(A1,B1)", "E1": "=D1*2"}, tmp_path / "in.xlsx"
    )
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    recalc_file(source, first)
    evaluation = recalc_file(first, second, [("S", "B1", 2e12)])
    assert not evaluation.errors
    plan = xlplan.compute_optimal(2.1, 2e12)
    frame = pd.read_excel(second, header=None)
    assert list(frame.iloc[0, 2:5]) == pytest.approx(
        [plan.optimal.params, plan.optimal.tokens, 2 * plan.optimal.tokens], rel=1e-12
    )


def test_an_occupied_spill_range_is_a_spill_error(tmp_path):
    source = _sheet({"A1": "=OPT_PARAMS(2.1,1e12)", "B1": 5}, tmp_path / "in.xlsx")
    evaluation = recalc_file(source, tmp_path / "out.xlsx")
    ((where, error),) = evaluation.errors
    assert where == "S!A1" and error.code == "#SPILL!" and "S!B1" in error.message


def test_recalc_never_overwrites_its_input(tmp_path):
    source = shutil.copy(PLANNER, tmp_path / "planner.xlsx")
    before = Path(source).read_bytes()
    assert main(["recalc", str(source), "-o", str(source)]) == 2
    assert Path(source).read_bytes() == before


def test_unsupported_formulas_are_listed_by_cell_and_leave_earlier_output(tmp_path, capsys):
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"earlier output")
    source = _sheet({"A1": 1, "B2": "=FOO(A1)", "C3": "=Missing!A1+1"}, tmp_path / "in.xlsx")
    assert main(["recalc", str(source), "-o", str(out)]) == 2
    message = capsys.readouterr().err
    assert "S!B2: =FOO(A1): unknown function FOO" in message
    assert "S!C3" in message and "sheet 'Missing'" in message
    assert out.read_bytes() == b"earlier output"
    assert not list(tmp_path.glob(".out.xlsx*"))


def test_text_where_a_number_belongs_names_the_cell(tmp_path, capsys):
    out = tmp_path / "out.xlsx"
    assert main(["recalc", str(PLANNER), "-o", str(out), "--set", "Planner!B6=lots"]) == 1
    err = capsys.readouterr().err
    assert "#VALUE! Planner!B6 holds text 'lots' where a number belongs\n    in Planner!B18," in err


@pytest.mark.parametrize(
    "setting, message",
    [
        ("Nope!B3=1", "no sheet 'Nope'"),
        ("Planner!B19=1", "holds the formula"),
        ("B3=1", "must look like Sheet!B3=2e12"),
    ],
)
def test_bad_settings(tmp_path, setting, message):
    with pytest.raises(WorkbookError, match=message):
        recalc_file(PLANNER, tmp_path / "out.xlsx", [parse_setting(setting)])


def test_corrupt_and_missing_files(tmp_path):
    corrupt = tmp_path / "corrupt.xlsx"
    corrupt.write_text("not a zip")
    with pytest.raises(WorkbookError, match=r"not a readable .xlsx workbook"):
        recalc_file(corrupt, tmp_path / "out.xlsx")
    with pytest.raises(WorkbookError, match="does not exist"):
        recalc_file(tmp_path / "absent.xlsx", tmp_path / "out.xlsx")


@needs_soffice
def test_libreoffice_reads_recalculated_numbers(tmp_path):
    out = tmp_path / "planner.xlsx"
    recalc_file(PLANNER, out, [("Planner", "B5", 30e9)])
    convert(out, "pdf", tmp_path)
    rows = read_csv(convert(out, "csv", tmp_path))
    plan = xlplan.cost_optimal(xlplan.chinchilla_from_params(30e9).loss, 1e6 * 730)
    assert float(rows[18][1]) == pytest.approx(plan.optimal.params, rel=1e-12)
