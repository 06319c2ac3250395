"""The layering rule: the engine and the fitter never load a face or an Excel library."""

import json
import subprocess
import sys

import pytest

FACES = (
    "xlplan.excel",
    "xlplan.server",
    "xlplan.workbook",
    "xlplan.templates",
    "xlplan.report",
    "xlplan.commands",
    "xlplan.udfs",
    "xlplan.cli",
)
EXCEL_AND_WEB = ("xlwings", "openpyxl", "fastapi", "uvicorn", "starlette")

# Imports every module of the named packages (including ones added later) in a fresh
# interpreter and prints what got loaded.
PROBE = """
import importlib, json, pkgutil, sys
for package in {packages!r}:
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
print(json.dumps(sorted(sys.modules)))
"""


def _loaded(*packages):
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(packages=packages)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return set(json.loads(done.stdout))


def _offending(loaded, forbidden):
    return sorted(m for m in loaded if any(m == f or m.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize(
    "packages, also_forbidden",
    [
        (("xlplan.engine",), ("pandas",)),  # the engine is numpy/scipy only
        (("xlplan.engine", "xlplan.fit"), ()),
    ],
)
def test_engine_and_fit_load_no_face_and_no_excel_library(packages, also_forbidden):
    loaded = _loaded(*packages)
    assert set(packages) <= loaded
    assert _offending(loaded, FACES + EXCEL_AND_WEB + also_forbidden) == []


def test_import_xlplan_loads_only_the_engine():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, json, xlplan; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    loaded = set(json.loads(done.stdout))
    assert _offending(loaded, FACES + EXCEL_AND_WEB + ("pandas", "xlplan.fit")) == []
