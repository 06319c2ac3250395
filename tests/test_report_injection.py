"""Formula injection (issue 22, "Reports"): text from the user is stored as text, never as a
formula, in every sheet of a report; the helper itself on its own."""

import json
import re
import zipfile

import openpyxl
import pytest

from xlplan.report.build import write_report
from xlplan.shared.safe_text import MAX_CELL_CHARS, clean_text, write_text

# Starts a spreadsheet may read as a formula (=, +, -, @) or hide one behind (tab, CR);
# each carries a marker no formula of xlplan's own contains.
HOSTILE = [
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A1",
    "-2+cmd|' /C calc'!A2",
    "@SUM(1+1)*cmd|' /C calc'!A3",
    "\t=cmd|' /C calc'!A4",
    "\r=cmd|' /C calc'!A5",
    '=HYPERLINK("http://evil.example","x")',
]
MARKERS = ("cmd|", "HYPERLINK", "evil.example", "TITLE()", "LAW()", "SOURCE()")


def _toml(text):
    return json.dumps(text)  # a JSON string is a valid TOML basic string


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("injection")
    law = folder / "=law.json"
    law.write_text(
        json.dumps(
            {
                "name": "=LAW()",
                "source": "=SOURCE()",
                "A": 406.4,
                "B": 410.7,
                "E": 1.69,
                "alpha": 0.34,
                "beta": 0.28,
            }
        )
    )
    kinds = [
        "chinchilla_params = 7e9\nrequests = 1e9",
        "chinchilla_params = 7e9\nrequests = 1e9\nrequests_low = 5e8\n"
        "requests_high = 2e9",  # a Risk sheet block
        "chinchilla_params = 7e9\nrequests_by_month = [1e6, 2e6, 4e6]",  # a Cash flow block
        "budget_dollars = 2e6\nrequests = 1e9",
    ]  # the budget sheet's label
    entries = [
        f"[[scenarios]]\nname = {_toml(name)}\n{kinds[k % len(kinds)]}\n"
        for k, name in enumerate(HOSTILE)
    ]
    scenario = folder / "plan.toml"
    scenario.write_text(
        f"title = {_toml('=TITLE()')}\nlaw = {_toml(law.name)}\n"
        'hardware = "h100"\n' + "\n".join(entries)
    )
    out = folder / "report.xlsx"
    write_report(out, scenario, show_progress=False)
    return out


def test_no_formula_of_a_report_carries_a_hostile_name(report):
    with zipfile.ZipFile(report) as archive:
        sheets = {
            name: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name)
        }
    assert sheets
    for name, xml in sheets.items():
        formulas = re.findall(r"<f(?:\s[^>]*)?>(.*?)</f>", xml, re.DOTALL)
        assert not [f for f in formulas if any(m in f for m in MARKERS)], name


def test_every_hostile_name_is_there_as_text(report):
    workbook = openpyxl.load_workbook(report)
    texts = {
        cell.value
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "s"
    }
    for name in HOSTILE:
        name = name.replace("\r", "\n")  # XML readers turn a raw CR into a line feed
        assert name in texts or any(t.startswith(f"{name}:") for t in texts), name
    assert any("=LAW()" in t for t in texts) and any("=TITLE()" in t for t in texts)
    summary = workbook["Summary"]
    names = [summary.cell(row, 1).value for row in range(6, 6 + len(HOSTILE))]
    # Summary!A6 onwards, where a name used to become a live formula.
    assert names == [n.replace("\r", "\n") for n in HOSTILE]
    assert all(summary.cell(row, 1).data_type == "s" for row in range(6, 6 + len(HOSTILE)))


def test_write_text_stores_a_formula_like_string_as_text(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    write_text(sheet["A1"], "=1+1")
    write_text(sheet["A2"], 3.5)
    workbook.save(tmp_path / "t.xlsx")
    with zipfile.ZipFile(tmp_path / "t.xlsx") as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "=1+1" in xml
    assert openpyxl.load_workbook(tmp_path / "t.xlsx").active["A2"].value == 3.5


def test_clean_text_drops_what_xml_cannot_hold_and_cuts_at_excels_limit():
    assert clean_text("a\x00b\x1fc\td\ne") == "a\ufffdb\ufffdc\td\ne"
    long = clean_text("x" * (MAX_CELL_CHARS + 10))
    assert len(long) == MAX_CELL_CHARS and long.endswith("\u2026")
    assert clean_text(12) == "12"
