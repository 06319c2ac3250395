"""The solver's and the fitter's thread paths against their single-threaded path (Pyodide).

Pyodide (xlwings Lite) has no threads; :mod:`xlplan.engine.parallel` runs the same
blocks in order there. The results must be bit-for-bit the same as with threads.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

from xlplan.engine import parallel
from xlplan.engine.paper import sizing, solver
from xlplan.fit import search
from xlplan.fit.law import fit_law, hoffmann_grid
from xlplan.fit.runs import load_runs

DATA = Path(__file__).parent / "data"


@pytest.fixture
def no_threads(monkeypatch):
    """Pyodide's platform, and a pool that fails if anything still asks for one."""
    monkeypatch.setattr(sys, "platform", "emscripten")

    def refuse(*args):
        raise AssertionError("a thread pool was requested on emscripten")

    monkeypatch.setattr(parallel, "_pool", refuse)


def _big_sweep():
    # enough elements for the solver's threaded path (PARALLEL_CHUNKS blocks of CHUNK)
    size = solver.CHUNK * solver.PARALLEL_CHUNKS + 12345
    rng = np.random.default_rng(7)
    return 1.8 + 2.0 * rng.random(size), 10.0 ** rng.uniform(0, 15, size)


def test_threads_detected_from_the_platform_and_the_environment(monkeypatch):
    monkeypatch.delenv(parallel.SERIAL_ENV, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert parallel.threads_available()
    monkeypatch.setenv(parallel.SERIAL_ENV, "1")
    assert not parallel.threads_available()
    monkeypatch.delenv(parallel.SERIAL_ENV)
    monkeypatch.setattr(sys, "platform", "emscripten")
    assert not parallel.threads_available()


def test_threaded_path_really_uses_the_pool(monkeypatch):
    monkeypatch.delenv(parallel.SERIAL_ENV, raising=False)
    calls = []
    real = parallel._pool

    def counting(*args):
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(parallel, "_pool", counting)
    monkeypatch.setattr(solver.os, "cpu_count", lambda: 2)  # threads even on one core
    loss, demand = _big_sweep()
    sizing.compute_optimal(loss, demand)
    assert calls and calls[0][1] == "xlplan-solver"


def test_solver_identical_without_threads(monkeypatch):
    monkeypatch.delenv(parallel.SERIAL_ENV, raising=False)
    monkeypatch.setattr(solver.os, "cpu_count", lambda: 2)
    loss, demand = _big_sweep()
    threaded = sizing.compute_optimal(loss, demand)
    with monkeypatch.context() as m:
        m.setattr(sys, "platform", "emscripten")
        m.setattr(parallel, "_pool", None)  # calling it would raise TypeError
        serial = sizing.compute_optimal(loss, demand)
    np.testing.assert_array_equal(serial.optimal.params, threaded.optimal.params)
    np.testing.assert_array_equal(serial.optimal.tokens, threaded.optimal.tokens)
    np.testing.assert_array_equal(serial.iterations, threaded.iterations)


def test_fit_objective_identical_without_threads(monkeypatch):
    runs = load_runs(DATA / "sardana_mpt_47runs.csv")
    fun = search.make_objective(runs, 1e-3)
    starts = hoffmann_grid()  # 4,500 starts: several blocks
    assert len(starts) * len(runs.params) > search.BLOCK_ELEMENTS
    monkeypatch.setattr(search.os, "cpu_count", lambda: 4)
    f_threads, g_threads = fun(starts)
    monkeypatch.setenv(parallel.SERIAL_ENV, "1")
    f_serial, g_serial = fun(starts)
    np.testing.assert_array_equal(f_serial, f_threads)
    np.testing.assert_array_equal(g_serial, g_threads)


def test_fit_law_identical_on_emscripten(monkeypatch, no_threads):
    runs = load_runs(DATA / "sardana_mpt_47runs.csv")
    serial = fit_law(runs)
    monkeypatch.undo()
    threaded = fit_law(runs)
    assert serial.law.as_tuple() == threaded.law.as_tuple()
