"""Benchmark: the default report and the recalculation of a template, with baselines.

Baselines in the same process: the report against a plain openpyxl write of the
same number of cells; the recalculation against openpyxl's raw load of the file.
Targets: report < 2 s, recalculating a template < 1 s.
"""

import tempfile
import time
from pathlib import Path

import openpyxl

from xlplan.report.build import write_report
from xlplan.workbook.recalc import recalc_file

WORKBOOKS = Path(__file__).resolve().parent.parent / "workbooks"
REPEATS = 3


def best(func):
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    out = Path(tempfile.mkdtemp())
    write_report(out / "warm.xlsx", show_progress=False)  # imports, first solver calls
    report = best(lambda: write_report(out / "report.xlsx", show_progress=False))
    cells = sum(
        ws.max_row * ws.max_column for ws in openpyxl.load_workbook(out / "report.xlsx").worksheets
    )

    def plain_write():
        wb = openpyxl.Workbook()
        for i in range(cells):
            wb.active.cell(1 + i // 20, 1 + i % 20, float(i))
        wb.save(out / "plain.xlsx")

    plain = best(plain_write)
    print(
        f"report (default, sweeps and charts): {report:.3f} s  (target < 2 s); plain openpyxl "
        f"write of {cells} cells: {plain:.3f} s; ratio {report / plain:.1f}x"
    )
    for name in (
        "table2_compute_optimal.xlsx",
        "table3_cost_optimal.xlsx",
        "budget_planner.xlsx",
        "fit_coefficients.xlsx",
    ):
        source = WORKBOOKS / name
        recalc_file(source, out / name)  # warm
        # Default arguments bind this iteration's files (a closure would see the last ones).
        seconds = best(lambda source=source, name=name: recalc_file(source, out / name))
        raw = best(lambda source=source: openpyxl.load_workbook(source))
        print(
            f"recalc {name}: {seconds:.3f} s  (target < 1 s); openpyxl load alone "
            f"{raw:.3f} s; ratio {seconds / raw:.1f}x"
        )


if __name__ == "__main__":
    main()
