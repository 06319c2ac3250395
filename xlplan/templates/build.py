"""Build the template workbooks: formulas from the template modules, results cached.

Each template is evaluated by :mod:`xlplan.workbook.evaluate` and saved with
its results as cached values, so it shows numbers in any reader, and asks
Excel to recalculate on opening so it is live with the add-in.
"""

from pathlib import Path

from ..shared.styles import fit_page
from ..workbook.evaluate import evaluate
from ..workbook.recalc import save
from . import budget, fit, monthly, table2, table3

__all__ = ["TEMPLATES", "build_template", "build_all"]

TEMPLATES = {module.FILENAME: module.build for module in (table2, table3, budget, fit,
                                                        monthly)}


def build_template(filename, directory):
    """Write one template into ``directory``; returns its path and :class:`Evaluation`."""
    workbook = TEMPLATES[filename]()
    for ws in workbook.worksheets:
        fit_page(ws)
    evaluation = evaluate(workbook)
    path = Path(directory) / filename
    save(workbook, evaluation, path, live=True)
    return path, evaluation


def build_all(directory):
    """Write every template into ``directory`` (created if missing); returns the paths."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    return [build_template(filename, directory)[0] for filename in TEMPLATES]
