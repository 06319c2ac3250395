"""Templates for each Excel route: plain names (xlwings) and _xldudf_XLPLAN_ names (add-ins)."""

import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

import xlplan
from xlplan.cli import main
from xlplan.excel.registry import FUNCTIONS
from xlplan.templates import budget
from xlplan.templates.build import TEMPLATES, build_all
from xlplan.templates.routes import ADDIN_PREFIX, route_formula, stored_name
from xlplan.workbook.parse import parse
from xlplan.workbook.recalc import EXCEL_CALC_ID

from lo_helpers import convert, needs_soffice, read_csv

WORKBOOKS = Path(__file__).resolve().parent.parent / "workbooks"
ADDIN = WORKBOOKS / "addin"
CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\(")


def _cells(path, data_only):
    wb = openpyxl.load_workbook(path, data_only=data_only)
    return {
        (ws.title, c.coordinate): c.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    }


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    directory = tmp_path_factory.mktemp("templates")
    build_all(directory, routes=["addin"])
    return directory / "addin"


@pytest.mark.parametrize("filename", list(TEMPLATES))
def test_committed_addin_templates_match_the_generator(fresh, filename):
    assert _cells(ADDIN / filename, False) == _cells(fresh / filename, False)
    old, new = _cells(ADDIN / filename, True), _cells(fresh / filename, True)
    assert old.keys() == new.keys()
    for key, value in old.items():
        assert new[key] == (
            pytest.approx(value, rel=1e-9) if isinstance(value, float) else value
        ), key


@pytest.mark.parametrize("filename", list(TEMPLATES))
def test_routes_differ_only_in_the_stored_names(filename):
    desktop, addin = _cells(WORKBOOKS / filename, False), _cells(ADDIN / filename, False)
    assert desktop.keys() == addin.keys()
    calls = 0
    for key, formula in desktop.items():
        if not (isinstance(formula, str) and formula.startswith("=")):
            assert addin[key] == formula
            continue
        expected = CALL.sub(
            lambda m: (
                (stored_name(m[1].upper(), "addin") if m[1].upper() in FUNCTIONS else m[1]) + "("
            ),
            formula,
        )
        assert addin[key] == expected, key
        names = {m.upper() for m in CALL.findall(addin[key])}
        assert not names & set(FUNCTIONS), key  # no plain xlplan name left
        calls += sum(name.startswith(ADDIN_PREFIX.upper()) for name in names)
    assert calls > 0
    # the same cached numbers: the evaluator read both spellings alike
    assert _cells(WORKBOOKS / filename, True) == _cells(ADDIN / filename, True)


@pytest.mark.parametrize(
    "path", [WORKBOOKS / f for f in TEMPLATES] + [ADDIN / f for f in TEMPLATES]
)
def test_templates_keep_their_cached_numbers_on_opening(path):
    """No fullCalcOnLoad, Excel's own calcId: Excel shows the cached results on opening."""
    with zipfile.ZipFile(path) as archive:
        calc = re.search(r"<calcPr[^>]*>", archive.read("xl/workbook.xml").decode())[0]
    assert f'calcId="{EXCEL_CALC_ID}"' in calc
    assert 'fullCalcOnLoad="1"' not in calc and 'fullCalcOnLoad="true"' not in calc


def test_stored_name_parses_back_to_the_function():
    for name in FUNCTIONS:
        assert parse(f"={stored_name(name, 'addin')}(1)") == ("call", name, [("num", 1.0)])
        assert "XLPLAN_XLPLAN" not in stored_name(name, "addin")
        # files written before the namespace was single still read
        assert parse(f"={ADDIN_PREFIX}{name}(1)") == ("call", name, [("num", 1.0)])
    # XLPLAN_LAW is the add-in's XLPLAN.LAW: stored _xldudf_XLPLAN_LAW, the namespace once
    assert route_formula('=XLPLAN_LAW("OPT_PARAMS(")&OPT_PARAMS(1,2)', "addin") == (
        f'={ADDIN_PREFIX}LAW("OPT_PARAMS(")&{ADDIN_PREFIX}OPT_PARAMS(1,2)'
    )


def test_recalc_gives_the_engines_numbers_on_both_routes(tmp_path):
    values = {}
    for route, source in (("desktop", WORKBOOKS), ("addin", ADDIN)):
        out = tmp_path / f"{route}.xlsx"
        assert (
            main(
                [
                    "recalc",
                    str(source / budget.FILENAME),
                    "-o",
                    str(out),
                    "--set",
                    "Planner!B5=13e9",
                    "--set",
                    "Planner!B6=5e6",
                ]
            )
            == 0
        )
        ws = openpyxl.load_workbook(out, data_only=True)["Planner"]
        values[route] = [ws["B19"].value, ws["B23"].value]
        formula = openpyxl.load_workbook(out)["Planner"]["B19"].value
        assert (ADDIN_PREFIX in formula) == (route == "addin")  # names kept as stored
    loss = xlplan.chinchilla_from_params(13e9).loss
    plan = xlplan.cost_optimal(loss, 5e6 * 730)
    assert values["desktop"] == values["addin"]
    assert values["addin"][0] == pytest.approx(plan.optimal.params, rel=1e-12)
    assert values["addin"][1] == pytest.approx(plan.optimal.total, rel=1e-12)


def test_build_one_route(tmp_path):
    assert main(["workbooks", "build", "-d", str(tmp_path), "--route", "addin"]) == 0
    assert sorted(p.name for p in (tmp_path / "addin").iterdir()) == sorted(TEMPLATES)
    assert not list(tmp_path.glob("*.xlsx"))


@needs_soffice
def test_libreoffice_shows_the_cached_numbers_of_the_addin_templates(tmp_path):
    rows = read_csv(convert(ADDIN / "table2_compute_optimal.xlsx", "csv", tmp_path))
    assert not any(v.startswith("#") for row in rows for v in row)
    desktop = read_csv(
        convert(WORKBOOKS / "table2_compute_optimal.xlsx", "csv", tmp_path / "desktop")
    )
    assert rows == desktop
