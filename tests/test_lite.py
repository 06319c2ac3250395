"""xlplan.lite: every registered Excel function, as xlwings Lite would register and call it.

xlwings' open-source package (BSD) makes ``func``/``arg`` no-op decorators outside a
Lite or server runtime; the code that reads their marks in Lite lives in
``xlwings.pro`` (PolyForm Noncommercial or paid), which these tests never import.
They record what xlplan.lite passes to the decorators instead and check it against
the registry and the Office add-in's metadata, then call every function.
"""

import importlib
import inspect
import os
import subprocess
import sys
import typing
from pathlib import Path

import numpy as np
import pytest
import xlwings

import xlplan.lite
from xlplan import udfs
from xlplan.engine.hardware import HARDWARE_PRESETS
from xlplan.engine.laws import LAW_PRESETS
from xlplan.excel.cell_error import CellError
from xlplan.excel.registry import FUNCTIONS, office_name
from xlplan.fit.runs import load_runs
from xlplan.server.manifest import NAMESPACE
from xlplan.server.metadata import functions_metadata

_RUNS = load_runs(Path(__file__).parent / "data" / "sardana_mpt_47runs.csv")
RUNS = np.column_stack([_RUNS.params, _RUNS.tokens, _RUNS.loss]).tolist()  # as a range


def _record_func(f=None, **options):
    def mark(f):
        f.recorded_func = options
        return f

    return mark if f is None else mark(f)


def _record_arg(name, convert=None, **options):
    def mark(f):
        f.__dict__.setdefault("recorded_args", {})[name] = options
        return f

    return mark


@pytest.fixture(scope="module")
def recorded():
    """xlplan.lite re-imported with decorators that record what it asks xlwings for."""
    real = xlwings.func, xlwings.arg
    xlwings.func, xlwings.arg = _record_func, _record_arg
    try:
        module = importlib.reload(xlplan.lite)
        yield module
    finally:
        xlwings.func, xlwings.arg = real
        importlib.reload(xlplan.lite)


def test_every_registered_function_is_exported(recorded):
    assert sorted(recorded.__all__) == sorted(office_name(name) for name in FUNCTIONS)
    assert set(recorded.__all__) >= {"OPT_PARAMS", "COST_OPT", "FIT_COEFFS"}
    namespace = {}
    exec("from xlplan.lite import *", namespace)  # main.py's one line
    assert sorted(k for k in namespace if not k.startswith("__")) == sorted(recorded.__all__)
    assert all(
        getattr(recorded, office_name(name)) is getattr(recorded, name) for name in FUNCTIONS
    )  # the Python names stay, for Python callers


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_registered_name_namespace_and_help(recorded, name):
    f = getattr(recorded, name)
    assert f.recorded_func == {}
    assert f.__name__ == office_name(name)  # Lite calls it back by this name
    assert getattr(recorded, f.__name__) is f
    assert inspect.getmodule(f) is recorded  # Lite reads the namespace from here
    assert recorded.__xlwings_func_namespace__ == "XLPLAN" == NAMESPACE
    assert f.__doc__ == FUNCTIONS[name].description
    helps = {p.name: p.help for p in FUNCTIONS[name].params}
    assert {k: v["doc"] for k, v in f.recorded_args.items()} == helps
    assert all(len(text) <= 128 for text in helps.values())  # Office's limit
    ranges = {k for k, v in f.recorded_args.items() if v.get("ndim") == 2}
    assert ranges == {p.name for p in FUNCTIONS[name].params if p.range}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_parameters_follow_the_registry_and_lites_rules(recorded, name):
    parameters = list(inspect.signature(getattr(recorded, name)).parameters.values())
    spec = FUNCTIONS[name]
    assert [p.name for p in parameters] == [p.name for p in spec.params]
    assert [p.default is not p.empty for p in parameters] == [p.optional for p in spec.params]
    # Lite: positional parameters only (no keyword-only, no *args with optionals)
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters)
    assert all(p.default is None for p in parameters if p.default is not p.empty)
    optional = [p.default is not p.empty for p in parameters]
    assert optional == sorted(optional)  # required ones first


def test_office_names_match_the_add_in(recorded):
    """Lite's names (namespace.NAME, as Office registers them) are the add-in's: XLPLAN.HARDWARE
    for XLPLAN_HARDWARE, the namespace not doubled."""
    addin = {f["name"]: f for f in functions_metadata()["functions"]}
    for name in recorded.__all__:
        f = getattr(recorded, name)
        shown = f"{inspect.getmodule(f).__xlwings_func_namespace__}.{f.__name__.upper()}"
        assert shown == f"{NAMESPACE}.{office_name(name)}"
        assert "XLPLAN.XLPLAN" not in shown
        params = [(p["name"], p["optional"]) for p in addin[office_name(name)]["parameters"]]
        lite = [
            (p.name, p.default is not p.empty) for p in inspect.signature(f).parameters.values()
        ]
        assert lite == params


def test_preset_names_are_dropdowns(recorded):
    hints = typing.get_type_hints(recorded.XLPLAN_LAW)
    assert typing.get_args(hints["name"]) == tuple(LAW_PRESETS)
    hints = typing.get_type_hints(recorded.XLPLAN_HARDWARE)
    assert typing.get_args(hints["name"]) == tuple(HARDWARE_PRESETS)
    for name in recorded.__all__:  # the law/hardware arguments also take ranges
        if name not in ("LAW", "HARDWARE"):  # XLPLAN_LAW and XLPLAN_HARDWARE
            assert typing.get_type_hints(getattr(recorded, name)) == {}


# One valid value per argument name; an argument not listed gets None (blank cell).
SAMPLES = {
    "params": 7e9,
    "tokens": 2e12,
    "loss": 2.1,
    "inf_tokens": 1e13,
    "requests": 1e9,
    "input_tokens": 70,
    "output_tokens": 215,
    "law": "chinchilla",
    "hardware": "h100",
    "name": "chinchilla",
    "unique_tokens": 5e11,
    "size_fraction": 0.5,
    "requests_scenarios": [[1e8, 1e9, 1e10]],
    "runs": RUNS,
    "resamples": 10,
    "seed": 1,
    "level": 0.8,
    "model": "llama-3-8b",
    "context": 4096,
    "tpot_target": 0.05,
    "gpus": 8,
    "days": 30,
    "deadline_days": 400,
}
CASES = [  # (function, arguments): hand-picked calls, errors included
    ("OPT_PARAMS", (2.1, "1e13")),
    ("OPT_PARAMS", (1.5, 1e13)),
    ("OPT_PARAMS", (2.1, "abc")),
    ("OPT_PARAMS", (2.1, 1e13, [[406.4, 410.7, 1.69, 0.336, 0.283]])),
    ("COST_OPT", (2.0, 1e10, None, None, "paper-a100", "sardana-all")),
    ("XLPLAN_HARDWARE", ("paper-a100",)),
    ("XLPLAN_HARDWARE", ("nope",)),
    ("XLPLAN_LAW", ("epoch-2024",)),
    ("SCALING_LOSS", (1e9, 2e10, None, 1e10)),
    ("TOTAL_FLOPS", (-1, 1e12, 0)),
    ("LIFETIME_COST", (7e9, 2e12, 1e9)),
    ("COST_OPT_LAUNCH", (2.1, [[1e8] * 36], 90, 8, 0.1, -0.25, None, None, "h100")),
    ("COST_OPT_LAUNCH", (2.1, [[1e8] * 36], 90, 4, 0.1, -0.25, None, None, "h100")),
    ("CASHFLOW", (7e9, 2e12, [[1e8], [2e8]], 0.1, None, None, None, "h100", 512, 100)),
]


def _generic_cases():
    for name, spec in sorted(FUNCTIONS.items()):
        if spec.slow and name != "FIT_COEFFS":
            continue  # PLAN_INTERVAL refits the law per resample: one hand call below
        yield name, tuple(SAMPLES.get(p.name) for p in spec.params)
        yield name, ("not a number",) + tuple(SAMPLES.get(p.name) for p in spec.params[1:])


ALL_CASES = CASES + list(_generic_cases()) + [("PLAN_INTERVAL", (RUNS, 2.1, 1e13, 0.8, 10, 1))]


def test_every_function_has_a_case():
    assert {name for name, _ in ALL_CASES} == set(FUNCTIONS)


@pytest.mark.parametrize(
    "name, args", ALL_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(ALL_CASES)]
)
def test_results_and_errors_as_udfs(name, args):
    expected = getattr(udfs, name)(*args)
    lite = getattr(xlplan.lite, name)
    if isinstance(expected, CellError):
        with pytest.raises(xlplan.lite.ExcelFunctionError) as raised:
            lite(*args)
        assert (raised.value.code, raised.value.message) == (expected.code, expected.message)
        assert str(raised.value) == str(expected)  # "#NUM! loss=1.5 is out of range ..."
    else:
        result = lite(*args)
        np.testing.assert_equal(result, expected)
        assert type(result) is type(expected)


def test_some_cases_are_errors_and_some_numbers():
    outcomes = [isinstance(getattr(udfs, n)(*a), CellError) for n, a in CASES]
    assert 0 < sum(outcomes) < len(outcomes)


def test_import_needs_no_noncommercial_xlwings_component():
    """Fresh interpreter: func/arg come from the BSD package; xlwings.pro never loads."""
    code = (
        "import sys, xlwings, xlplan.lite; "
        "print(xlwings.func.__module__, xlwings.arg.__module__, "
        "'xlwings.pro' in sys.modules, 'xlwings.server' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "XLWINGS_ON_SERVER"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.split() == ["xlwings", "xlwings", "False", "False"]
