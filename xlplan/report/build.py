"""Assemble a report workbook from a scenario, with a progress bar, and save it safely."""

import datetime
import platform
from pathlib import Path

import numpy as np
import openpyxl
from openpyxl.styles import Alignment

from .. import __version__
from ..paper import table2, table3
from ..shared.atomic import check_not_same
from ..shared.checks import checks_sheet
from ..shared.progress import Progress
from ..shared.styles import fit_page, note
from ..workbook.evaluate import evaluate
from ..workbook.recalc import save
from . import compute, data_limits, deployment, monthly, risk, sheets
from .answer import answer_sheet, fit_one_page
from .budget_sheet import budget_plans, budget_sheet, budget_view, sheet_name
from .checks import Layout, report_checks
from .launch import launch_text
from .scenario import EMBEDDED, load_scenario

__all__ = ["build_report", "write_report"]

STEPS = 9


def build_report(scenario, progress=None):
    """The report as an openpyxl workbook: values and native charts; the first page and the
    Checks sheet are formulas reading them (:func:`write_report` caches their results)."""
    progress = progress or Progress(STEPS, "report", enabled=False)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    stamp = f"xlplan {__version__}, {now}."
    wb = openpyxl.Workbook()
    first = wb.active  # the answer page, written last: it reads every other sheet
    rows = compute.plan_rows(scenario)
    summary = wb.create_sheet("Summary")
    sheets.summary_sheet(summary, scenario, rows, stamp)
    if data_limits.epoch_note(rows):
        row = sheets.SUMMARY_HEADER + len(rows) + 2
        note(summary, f"A{row}", data_limits.epoch_note(rows))
        summary.merge_cells(f"A{row}:H{row}")  # wrapped on the page, not run off it
        summary[f"A{row}"].alignment = Alignment(wrap_text=True, vertical="top")
    _launch_notes(summary, rows)
    sheets.print_notes_under_table(summary, rows)
    progress.step("summary")
    cashflow = {}
    if monthly.has_monthly(scenario):
        note(
            summary,
            "A4",
            "Scenarios with a monthly schedule are sized on present value: "
            "every $ here is a present value (a scenario without a schedule is undiscounted); "
            "cash paid is in the last column and on the Cash flow sheet.",
        )
        cashflow = monthly.cashflow_sheet(wb.create_sheet(monthly.SHEET), scenario, rows)
    budget_sheets = {}
    for n, k in enumerate(budget_plans(scenario, rows), start=1):
        budget_sheet(wb.create_sheet(sheet_name(n)), scenario, budget_view(scenario, rows, k))
        budget_sheets[sheet_name(n)] = k
    progress.step("what a budget buys")
    deployed = deployment.deployment_sheet(
        wb.create_sheet(deployment.SHEET), scenario, compute.deploy_rows(scenario, rows)
    )
    appendix = scenario.source != EMBEDDED  # a plan of one's own: the paper goes last
    if not appendix:
        _paper_tables(wb, "", progress)
    sheets.sweep_sheet(
        wb.create_sheet("Sweep FLOPs"),
        "Compute-optimal models against inference demand (paper Figure 2)",
        "Law: " + scenario.law_source,
        "Inference tokens",
        *compute.flops_sweep(scenario),
        "FLOP saving",
    )
    progress.step("sweep FLOPs")
    sheets.sweep_sheet(
        wb.create_sheet("Sweep cost"),
        "Cost-optimal models against inference requests (paper Figure 6)",
        f"Hardware: {scenario.hardware.name}",
        "Inference requests",
        *compute.cost_sweep(scenario),
        "Cost saving",
    )
    progress.step("sweep cost")
    data_limits.overhead_sheet(wb.create_sheet("Overhead"), scenario)
    progress.step("overhead")
    blocks = risk.risk_blocks(scenario)
    tops = []
    if blocks:  # only scenarios that give a demand range get a Risk sheet
        tops = risk.risk_sheet(wb.create_sheet("Risk"), scenario, blocks)
    assumptions = sheets.assumptions_sheet(
        wb.create_sheet("Assumptions"),
        scenario,
        [
            *data_limits.assumption_rows(scenario),
            ("xlplan version", __version__, "this report"),
            ("Generated", now, "this report"),
            (
                "Python / numpy / openpyxl",
                f"{platform.python_version()} / {np.__version__} / {openpyxl.__version__}",
                "this report",
            ),
        ],
    )
    progress.step("assumptions")
    ranged = [k for k, plan in enumerate(scenario.plans) if plan.has_range]
    layout = Layout(
        assumptions,
        cashflow,
        dict(zip(ranged, tops, strict=True)),
        budget_sheets=budget_sheets,
        deployment=deployed,
        launch={k: row.launch for k, row in enumerate(rows) if row.launch is not None},
    )
    master = checks_sheet(wb, report_checks(scenario, rows, layout), "the report")
    answer_sheet(first, scenario, layout, blocks, master, stamp)
    if appendix:
        _paper_tables(wb, APPENDIX, progress)
    for ws in wb.worksheets:
        fit_page(ws)
    fit_one_page(first)
    return wb


def _launch_notes(summary, rows):
    """Under the Summary's table: how each launch plan was sized and which constraint binds."""
    r = sheets.SUMMARY_HEADER + len(rows) + 3  # below the epoch note's row
    for row in rows:
        if row.launch is not None:
            note(summary, f"A{r}", launch_text(row.name, row.launch))
            summary.merge_cells(f"A{r}:H{r}")
            summary[f"A{r}"].alignment = Alignment(wrap_text=True, vertical="top")
            summary.row_dimensions[r].height = 45
            r += 1


# A report of one's own scenario keeps the paper's tables, as the evidence that the engine
# reproduces the paper, but as clearly titled appendix sheets after everything else: their
# dollars are the paper's A100 prices and law, which a reader could mistake for the plan's.
APPENDIX = "Appendix "
_APPENDIX_NOTE = (
    "APPENDIX, not this plan: the paper's own table (law 'chinchilla', the "
    "paper's A100 hardware and prices), kept to show that xlplan reproduces "
    "the paper. "
)


def _paper_tables(wb, prefix, progress):
    """The paper's Tables 2 and 3 (stated and print settings); ``prefix`` names them as an
    appendix."""
    lead, head = (_APPENDIX_NOTE, "APPENDIX: ") if prefix else ("", "")
    sheets.table_sheet(
        wb.create_sheet(f"{prefix}Table 2"),
        f"{head}Table 2 (paper App. B.1): compute-optimal vs Chinchilla-style, FLOPs",
        lead + "Law 'chinchilla', as in the paper.",
        2,
        table2(),
    )
    progress.step("Table 2")
    for name, preset, subtitle in (
        (
            "Table 3 stated",
            "paper-a100",
            "Hardware as the paper states it (paper-a100): "
            "Chinchilla costs come out ~10% above the print.",
        ),
        (
            "Table 3 print",
            "paper-a100-table3",
            "Hardware paper-a100-table3: INFERRED "
            "inference price $0.986/h (not stated in the paper) reproduces the print.",
        ),
    ):
        sheets.table_sheet(
            wb.create_sheet(f"{prefix}{name}"),
            f"{head}Table 3 (paper App. B.2): cost-optimal vs Chinchilla-style, US$",
            lead + subtitle,
            3,
            table3(preset),
        )
        progress.step(name)


def write_report(output, scenario_path=None, show_progress=None, law=None):
    """Write the report of ``scenario_path`` (default: the paper's settings) to ``output``.

    ``law`` (a preset name or a law file) replaces the scenario's law.
    """
    if scenario_path is not None:
        check_not_same(scenario_path, output)
    scenario = load_scenario(scenario_path, law)
    with Progress(STEPS + 1, "xlplan report", enabled=show_progress) as progress:
        wb = build_report(scenario, progress)
        save(wb, evaluate(wb), Path(output))  # the checks' and first page's results cached
        progress.step("saved")
    return scenario
