"""xlplan report: the engine's numbers, the paper's tables, charts, scenarios, safety, rendering."""

import io
import os
import stat
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import xlplan
from xlplan.cli import main
from xlplan.engine.errors import XlplanError
from xlplan.report.build import write_report
from xlplan.report.scenario import load_scenario
from xlplan.report.sheets import SWEEP_HEADER
from xlplan.shared.progress import Progress

from lo_helpers import PDFTOPPM, convert, needs_pdftoppm, needs_soffice, read_csv


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.xlsx"
    assert main(["report", "-o", str(path), "-q"]) == 0
    return path


def test_summary_is_the_engine_at_the_paper_settings(report):
    frame = pd.read_excel(report, sheet_name="Summary", header=4)
    loss = xlplan.chinchilla_from_params(7e9).loss
    plan = xlplan.cost_optimal(loss, 702e6, hardware="paper-a100")
    row = frame.iloc[1]
    assert row["Recommended params"] == pytest.approx(plan.optimal.params, rel=1e-12)
    assert row["Lifetime cost $ (nominal)"] == pytest.approx(plan.optimal.total, rel=1e-12)
    assert row["Saving"] == pytest.approx(plan.saving, rel=1e-12)


def test_sheets_tables_charts_and_provenance(report):
    wb = openpyxl.load_workbook(report)
    assert wb.sheetnames == [
        "Answer",
        "Summary",
        "What a budget buys",
        "Deployment",
        "Table 2",
        "Table 3 stated",
        "Table 3 print",
        "Sweep FLOPs",
        "Sweep cost",
        "Overhead",
        "Assumptions",
        "Checks",
    ]
    assert len(wb["Sweep FLOPs"]._charts) == 2 and len(wb["Sweep cost"]._charts) == 2
    table2 = wb["Table 2"]  # deviation grid: rows 22-26, amounts within 0.5%
    deviations = [table2.cell(r, c).value for r in range(22, 27) for c in range(2, 10)]
    assert max(abs(d) for d in deviations) < 0.005
    text = [str(c.value) for row in wb["Assumptions"].iter_rows() for c in row]
    assert "xlplan version" in text and xlplan.__version__ in text


def test_sweep_is_figure_6_from_the_engine(report):
    frame = pd.read_excel(report, sheet_name="Sweep cost", header=SWEEP_HEADER - 1)
    requests = frame["Inference requests"].to_numpy()
    loss = xlplan.chinchilla_from_params(7e9).loss
    plan = xlplan.cost_optimal(loss, requests)
    assert frame["Cost saving: 7B-class quality"].to_numpy() == pytest.approx(plan.saving)


@pytest.mark.parametrize(
    "suffix, text",
    [
        (
            ".toml",
            'law = "epoch-2024"\nhardware = "h100"\n[[scenarios]]\nname = "mine"\n'
            "loss = 2.3\nrequests = 1e9\n",
        ),
        (
            ".yaml",
            "law: epoch-2024\nhardware: h100\nscenarios:\n  - name: mine\n    loss: 2.3\n"
            "    requests: 1.0e+9\n",
        ),
    ],
)
def test_scenario_files(tmp_path, suffix, text):
    scenario = tmp_path / f"plan{suffix}"
    scenario.write_text(text)
    out = tmp_path / "r.xlsx"
    write_report(out, scenario, show_progress=False)
    frame = pd.read_excel(out, sheet_name="Summary", header=4)
    plan = xlplan.cost_optimal(2.3, 1e9, hardware="h100", law="epoch-2024")
    assert frame.iloc[0]["Recommended params"] == pytest.approx(plan.optimal.params, rel=1e-12)


def test_law_file_in_a_scenario_and_the_law_option(tmp_path, capsys):
    """law = "file.json" in a scenario, and --law, which replaces the scenario's law."""
    law_file = tmp_path / "mine.json"
    xlplan.write_law_file(xlplan.get_law("epoch-2024"), law_file)
    scenario = tmp_path / "plan.toml"
    scenario.write_text(f'law = "{law_file}"\n[[scenarios]]\nloss = 2.3\nrequests = 1e9\n')
    expected = xlplan.cost_optimal(2.3, 1e9, law="epoch-2024").optimal.params
    for args in ([], ["--law", str(law_file)], ["--law", "epoch-2024"]):
        out = tmp_path / "r.xlsx"
        plain = tmp_path / "plain.toml"
        plain.write_text("[[scenarios]]\nloss = 2.3\nrequests = 1e9\n")
        source = scenario if not args else plain  # the plain scenario's law is chinchilla
        assert main(["report", "-o", str(out), "-q", "--scenario", str(source), *args]) == 0
        frame = pd.read_excel(out, sheet_name="Summary", header=4)
        assert frame.iloc[0]["Recommended params"] == pytest.approx(expected, rel=1e-12), args
    assert main(["report", "-o", str(out), "--law", str(tmp_path / "none.json")]) == 2
    assert "none.json' does not exist" in capsys.readouterr().err
    assert main(["report", "-o", str(out), "--law", "kaplan"]) == 2
    assert "unknown law 'kaplan'" in capsys.readouterr().err


def test_scenario_errors_name_the_key_as_the_file_spells_it(tmp_path):
    scenario = tmp_path / "plan.toml"
    scenario.write_text('[[scenarios]]\nloss = "low"\nrequests = 1e9\n')
    with pytest.raises(XlplanError) as info:
        load_scenario(scenario)
    assert str(info.value) == "scenarios[1].loss = 'low' must be a number"
    assert info.value.argument == "scenarios[1].loss"


def test_bad_scenario_keeps_earlier_output_and_input(tmp_path):
    out = tmp_path / "r.xlsx"
    out.write_bytes(b"earlier")
    scenario = tmp_path / "bad.toml"
    scenario.write_text('law = "chinchilla"\nbudget = 3\n')
    with pytest.raises(XlplanError, match="unknown key"):
        write_report(out, scenario)
    scenario.write_text("[[scenarios]]\nloss = 1.5\nrequests = 1e9\n")
    with pytest.raises(XlplanError, match=r"E=1.69"):
        write_report(out, scenario)
    assert out.read_bytes() == b"earlier"
    with pytest.raises(XlplanError, match="never overwrites"):
        write_report(scenario, scenario)


def test_progress_bar_goes_to_stderr():
    stream = io.StringIO()
    with Progress(2, "report", stream=stream, enabled=True) as bar:
        bar.step("one")
        bar.step("two")
    assert "2/2" in stream.getvalue() and stream.getvalue().endswith("\n")


@needs_soffice
@needs_pdftoppm
def test_libreoffice_renders_the_report(report, tmp_path):
    pdf = convert(report, "pdf", tmp_path)
    rows = read_csv(convert(report, "csv", tmp_path))  # first sheet: the answer
    plan = xlplan.cost_optimal(xlplan.chinchilla_from_params(1e9).loss, 175e6)
    # its first plan's parameters: a formula reading the Summary, shown from its cached result
    assert float(rows[6][1]) == pytest.approx(plan.optimal.params, rel=1e-12)
    subprocess.run(
        [PDFTOPPM, "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    (page,) = tmp_path.glob("page*.png")
    assert page.stat().st_size > 5000


def test_written_files_get_ordinary_permissions(tmp_path):
    """Not the owner-only mode of the temporary file; a replaced file keeps its own mode."""
    old_umask = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.xlsx"
        write_report(fresh, show_progress=False)
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        shared = tmp_path / "shared.xlsx"
        shared.write_bytes(b"old")
        shared.chmod(0o664)
        write_report(shared, show_progress=False)
        assert stat.S_IMODE(shared.stat().st_mode) == 0o664 and shared.read_bytes() != b"old"
        law = tmp_path / "law.json"
        assert (
            main(
                [
                    "fit",
                    str(Path(__file__).parent / "data" / "sardana_mpt_47runs.csv"),
                    "--output",
                    str(law),
                ]
            )
            == 0
        )
        assert stat.S_IMODE(law.stat().st_mode) == 0o644
    finally:
        os.umask(old_umask)
