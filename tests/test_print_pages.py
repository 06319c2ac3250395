"""Printed pages (issues 15 and 23): every template and five reports (the default, a chatbot,
a monthly schedule, a demand range with serving settings, a fixed budget) rendered through
LibreOffice to PDF and PNG (pdftoppm), each once; the page text is read back (pdftotext) to
check what a reader sees."""

import re
import shutil
import subprocess

import openpyxl
import pytest

from xlplan.cli import main
from xlplan.report.compute import REQUESTS
from xlplan.templates.build import TEMPLATES, build_template

from lo_helpers import PDFTOPPM, convert, needs_pdftoppm, needs_soffice
from report_scenarios import BUDGET, RANGES, SCHEDULE

PDFTOTEXT = shutil.which("pdftotext")
pytestmark = [
    needs_soffice,
    needs_pdftoppm,
    pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) missing"),
]

CUSTOM = """title = "Chatbot on H100s"
hardware = "h100"
sweep_quality_params = [7e9, 13e9, 30e9]
[[scenarios]]
name = "Customer-support assistant, 13B-class quality, low demand 0.5B requests a year"
chinchilla_params = 13e9
requests = 1e9
[[scenarios]]
name = "Internal search helper, 7B-class quality"
loss = 2.2
requests = 3e8
"""


def _pages(path, folder):
    """(text of each printed page, PNG of each page) of a workbook."""
    pdf = convert(path, "pdf", folder)
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    stem = folder / f"{path.stem}-page"
    subprocess.run([PDFTOPPM, "-png", "-r", "40", str(pdf), str(stem)], check=True)
    pngs = sorted(folder.glob(f"{path.stem}-page*.png"))
    return text.split("\f")[: len(pngs)], pngs


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")
    files = [build_template(name, folder)[0] for name in TEMPLATES]
    for name, text in REPORTS.items():
        args = []
        if text is not None:
            (folder / f"{name}.toml").write_text(text)
            args = ["--scenario", str(folder / f"{name}.toml")]
        assert main(["report", "-q", "-o", str(folder / name), *args]) == 0
        files.append(folder / name)
    return {path.name: (*_pages(path, folder), path) for path in files}


REPORTS = {
    "default.xlsx": None,
    "custom.xlsx": CUSTOM,
    "schedule.xlsx": SCHEDULE,
    "ranges.xlsx": RANGES,
    "budget.xlsx": BUDGET,
}


def test_every_page_is_rendered(rendered):
    assert set(rendered) == set(TEMPLATES) | set(REPORTS)
    for name, (texts, pngs, _) in rendered.items():
        assert pngs, name
        assert all(png.stat().st_size > 2000 for png in pngs), name
        assert len(texts) == len(pngs)


def test_no_scientific_notation_where_a_person_reads(rendered):
    for name, (texts, _, _) in rendered.items():
        for number, text in enumerate(texts, start=1):
            assert not re.search(r"\d[eE][+-]?\d", text), (name, number)
            assert "###" not in text, (name, number)  # a number too wide for its column


def test_sweep_pages_all_carry_their_headers(rendered):
    """With three quality levels the cost sweep runs over two pages; each page of its table
    repeats the header row."""
    texts, _, _ = rendered["custom.xlsx"]
    last = f"{REQUESTS[-2] / 1e12:.2f}T"  # the sweep's next-to-last row: on the last page
    first = f"{REQUESTS[1] / 1e6:.2f}M"
    table_pages = [
        t
        for t in texts
        if re.search(rf"^\s*({re.escape(last)}|{re.escape(first)})\s", t, re.M) and "%" in t
    ]
    assert len(table_pages) >= 2
    for text in table_pages:
        assert "Cost saving:" in text or "FLOP saving:" in text


def test_labels_and_names_are_printed_whole(rendered):
    texts, _, _ = rendered["table3_cost_optimal.xlsx"]
    flat = " ".join(" ".join(texts).split())
    for label in ("Loss law preset (pick", "Input (prompt) tokens per", "Output (generated)"):
        assert label in flat
    texts, _, _ = rendered["custom.xlsx"]
    words = " ".join(" ".join(texts).split())
    for word in ("Customer-support", "assistant,", "low demand", "0.5B requests a year"):
        assert word in words


def test_custom_report_puts_the_paper_tables_in_an_appendix(rendered):
    texts, _, _ = rendered["custom.xlsx"]
    appendix = [t for t in texts if "APPENDIX" in t]
    assert appendix and all("not this plan" in t for t in appendix)
    assert texts.index(appendix[0]) > max(i for i, t in enumerate(texts) if "Assumption" in t)


def _shown_count(value):
    """A count as COUNT_FORMAT shows it: 2.81B, 318.32M, 3.31T."""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if value >= scale:
            return f"{value / scale:,.2f}{suffix}"
    raise AssertionError(f"{value} is below a million")


@pytest.mark.parametrize("name", list(REPORTS))
def test_report_first_page_is_the_answer(rendered, name):
    """Page 1: the master check and, for every plan, its recommended size and cost, as the
    Summary computes them, headers and footers, and nothing of the wide Summary table."""
    texts, _, path = rendered[name]
    page = " ".join(texts[0].split())
    summary = openpyxl.load_workbook(path, data_only=True)["Summary"]
    header = [c.value for c in summary[5]]
    params = header.index("Recommended params")
    cost = next(
        i
        for i, h in enumerate(header)  # its money basis follows in brackets
        if str(h).startswith("Same-quality Chinchilla-style model: lifetime cost $")
    )
    for row in summary.iter_rows(min_row=6):
        if row[0].value is None:  # the plans end at the first blank row
            break
        assert _shown_count(row[params].value) in page, (name, row[0].value)
        assert f"${row[cost].value:,.0f}" in page, (name, row[0].value)
    assert re.search(r"Master check \(Checks sheet\) (OK|ERROR)\b", page)
    assert "Page 1 of" in page and "Training-compute overhead" not in page


@pytest.mark.parametrize("name", list(REPORTS))
def test_report_first_page_shows_the_master_check_ok(rendered, name):
    page = " ".join(rendered[name][0][0].split())
    assert "Master check (Checks sheet) OK" in page


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_template_first_page_shows_the_master_check(rendered, name):
    texts, _, _ = rendered[name]
    page = " ".join(texts[0].split())
    assert "Master check (Checks sheet)" in page and "Page 1 of" in page
    checks = [t for t in texts if "Master check: all" in t]
    assert checks, name  # the Checks sheet is printed too


def test_ranges_first_page_shows_low_high_and_the_robust_plan(rendered):
    texts, _, path = rendered["ranges.xlsx"]
    page = " ".join(texts[0].split())
    risk = openpyxl.load_workbook(path, data_only=True)["Risk"]
    robust = next(
        r
        for r in risk.iter_rows(values_only=True)
        if r[0] == "Robust plan (least worst-case regret)"
    )
    assert "Robust plan" in page and _shown_count(robust[1]) in page  # headers wrap
    assert f"${robust[6]:,.0f}" in page  # its worst-case regret
    assert "500.00M" in page and "10.00B" in page  # the low and high lifetime requests


def test_schedule_first_page_shows_nominal_and_present_value(rendered):
    texts, _, path = rendered["schedule.xlsx"]
    page = " ".join(texts[0].split())
    summary = openpyxl.load_workbook(path, data_only=True)["Summary"]
    present_value = summary["I6"].value  # the ramp plan's lifetime cost, in present value
    cash = openpyxl.load_workbook(path, data_only=True)["Cash flow"]
    nominal = next(r[4] for r in cash.iter_rows(values_only=True) if r[0] == "total")
    assert f"${present_value:,.0f}" in page and f"${nominal:,.0f}" in page
    assert nominal > present_value  # discounting and cheaper GPUs: PV below the cash paid


def test_every_page_has_its_header_footer_and_more_than_a_note(rendered):
    """Page x of y and the date on every page; no page holds only a stray note or a lone
    header row (at least four lines besides the page header and footer)."""
    for name, (texts, _, _) in rendered.items():
        for number, text in enumerate(texts, start=1):
            assert f"Page {number} of {len(texts)}" in text, (name, number)
            assert "Printed " in text, (name, number)
            lines = [line for line in text.splitlines() if line.strip()]
            assert len(lines) >= 6, (name, number, lines)


@pytest.mark.parametrize("name", list(REPORTS))
def test_summary_notes_print_whole_on_its_first_page_only(rendered, name):
    """The Summary's title and notes print on its first page, whole; its later pages (the
    table's other columns, column A repeated) start at the table, with no note cut."""
    texts, _, _ = rendered[name]
    pages = [t for t in texts if t.lstrip().startswith("Summary")]
    assert len(pages) >= 3, name
    first = " ".join(pages[0].split())
    assert "Details on the other sheets." in first and "Recommended = the model" in first
    for text in pages[1:]:
        assert "Recommended =" not in text and "Law:" not in text, name
        assert "Scenario" in text
    words = " ".join(" ".join(pages).split())
    assert "at peak" in words or "peak month" in words  # the serving basis, not cut
