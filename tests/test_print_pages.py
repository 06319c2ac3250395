"""Printed pages (issue 15): every template and two reports rendered through LibreOffice to
PDF and PNG (pdftoppm); the page text is read back (pdftotext) to check what a reader sees."""

import re
import shutil
import subprocess

import pytest

from xlplan.cli import main
from xlplan.report.compute import REQUESTS
from xlplan.templates.build import TEMPLATES, build_template

from lo_helpers import PDFTOPPM, convert, needs_pdftoppm, needs_soffice

PDFTOTEXT = shutil.which("pdftotext")
pytestmark = [needs_soffice, needs_pdftoppm,
              pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) missing")]

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
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    stem = folder / f"{path.stem}-page"
    subprocess.run([PDFTOPPM, "-png", "-r", "40", str(pdf), str(stem)], check=True)
    pngs = sorted(folder.glob(f"{path.stem}-page*.png"))
    return text.split("\f")[:len(pngs)], pngs


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")
    files = [build_template(name, folder)[0] for name in TEMPLATES]
    scenario = folder / "chatbot.toml"
    scenario.write_text(CUSTOM)
    for args, name in (([], "default.xlsx"), (["--scenario", str(scenario)], "custom.xlsx")):
        assert main(["report", "-q", "-o", str(folder / name), *args]) == 0
        files.append(folder / name)
    return {path.name: _pages(path, folder) for path in files}


def test_every_page_is_rendered(rendered):
    assert set(rendered) == set(TEMPLATES) | {"default.xlsx", "custom.xlsx"}
    for name, (texts, pngs) in rendered.items():
        assert pngs, name
        assert all(png.stat().st_size > 2000 for png in pngs), name
        assert len(texts) == len(pngs)


def test_no_scientific_notation_where_a_person_reads(rendered):
    for name, (texts, _) in rendered.items():
        for number, text in enumerate(texts, start=1):
            assert not re.search(r"\d[eE][+-]?\d", text), (name, number)


def test_sweep_pages_all_carry_their_headers(rendered):
    """With three quality levels the cost sweep runs over two pages; each page of its table
    repeats the header row."""
    texts, _ = rendered["custom.xlsx"]
    last = f"{REQUESTS[-2] / 1e12:.2f}T"  # the sweep's next-to-last row: on the last page
    first = f"{REQUESTS[1] / 1e6:.2f}M"
    table_pages = [t for t in texts if re.search(rf"^\s*({re.escape(last)}|{re.escape(first)})\s",
                                                 t, re.M) and "%" in t]
    assert len(table_pages) >= 2
    for text in table_pages:
        assert "Cost saving:" in text or "FLOP saving:" in text


def test_labels_and_names_are_printed_whole(rendered):
    texts, _ = rendered["table3_cost_optimal.xlsx"]
    flat = " ".join(" ".join(texts).split())
    for label in ("Loss law preset (pick", "Input (prompt) tokens per", "Output (generated)"):
        assert label in flat
    texts, _ = rendered["custom.xlsx"]
    words = " ".join(" ".join(texts).split())
    for word in ("Customer-support", "assistant,", "low demand", "0.5B requests a year"):
        assert word in words


def test_custom_report_puts_the_paper_tables_in_an_appendix(rendered):
    texts, _ = rendered["custom.xlsx"]
    appendix = [t for t in texts if "APPENDIX" in t]
    assert appendix and all("not this plan" in t for t in appendix)
    assert texts.index(appendix[0]) > max(i for i, t in enumerate(texts) if "Assumption" in t)
