"""Build the template workbooks: formulas from the template modules, results cached.

Each template is written once per Excel route (:mod:`xlplan.templates.routes`):
plain function names for the xlwings desktop add-in in the directory itself, and
``_xldudf_XLPLAN_`` names for the Office add-in and xlwings Lite in ``addin/``. Each
is evaluated by :mod:`xlplan.workbook.evaluate` (which reads both spellings) and
saved with its results as cached values and without ``fullCalcOnLoad``: Excel
shows the numbers xlplan computed on opening, also where xlplan is not installed
(recalculating there would turn every xlplan cell into ``#NAME?``); with xlplan
present, changing an input recalculates what depends on it, and Ctrl+Alt+F9
recalculates everything.
"""

from pathlib import Path

from ..shared.styles import fit_page
from ..workbook.evaluate import evaluate
from ..workbook.recalc import save
from . import budget, fit, monthly, table2, table3
from .routes import ROUTES, to_route

__all__ = ["TEMPLATES", "ROUTES", "build_template", "build_all", "route_directory"]

TEMPLATES = {module.FILENAME: module.build for module in (table2, table3, budget, fit, monthly)}


def route_directory(directory, route):
    """Where ``route``'s templates go under ``directory``."""
    return Path(directory) / ROUTES[route]


def build_template(filename, directory, route="desktop"):
    """Write one template for ``route`` under ``directory``; returns its path and evaluation."""
    workbook = to_route(TEMPLATES[filename](), route)
    for ws in workbook.worksheets:
        fit_page(ws)
    evaluation = evaluate(workbook)
    path = route_directory(directory, route) / filename
    save(workbook, evaluation, path)
    return path, evaluation


def build_all(directory, routes=tuple(ROUTES)):
    """Write every template for ``routes`` under ``directory`` (created); returns the paths."""
    paths = []
    for route in routes:
        route_directory(directory, route).mkdir(parents=True, exist_ok=True)
        paths += [build_template(filename, directory, route)[0] for filename in TEMPLATES]
    return paths
