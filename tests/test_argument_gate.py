"""The argument gate: every public engine function checks all its arguments before
raising, reports every bad one in one error (``positions_by_argument``), and a single
float cell never touches numpy."""

import importlib
import inspect
import math
from pathlib import Path

import numpy as np
import pytest

import xlplan
from xlplan import udfs
from xlplan.engine import args as engine_args
from xlplan.engine.deploy import (
    energy,
    kv_breakeven,
    kv_budget,
    kv_schedule,
    kv_sizing,
    kvcache,
    latency,
    serving,
    shape,
    training,
)
from xlplan.engine.errors import InvalidTypeError, InvalidValueError, XlplanError
from xlplan.engine.money import breakeven, budget, cashflow, launch, regret, schedule
from xlplan.excel.convert import MAX_CELLS
from xlplan.fit.bootstrap import bootstrap_law
from xlplan.fit.law import fit_law, select_runs
from xlplan.fit.plan_interval import plan_distribution, plan_interval

BAD_LAW = "no-such-law"
BAD_HW = "no-such-gpu"

# Each call gives several bad arguments at once; the set is what the error must name.
# With a bad law a loss is still checked, as a number > 0 (E is unknown).
CALLS = {
    "chinchilla_from_loss": ((-1.0, BAD_LAW), {}, {"loss", "law"}),
    "chinchilla_from_params": ((-1.0, BAD_LAW), {}, {"params", "law"}),
    "chinchilla_from_compute": ((math.inf, BAD_LAW), {}, {"training_flops", "law"}),
    "compute_optimal": (
        (1.0, -1.0),
        {"unique_tokens": 0.0},
        {"loss", "inference_tokens", "unique_tokens"},
    ),
    "cost_optimal": (
        (1.0, -1.0, -2.0, math.nan, BAD_HW),
        {"unique_tokens": -1.0},
        {"loss", "requests", "input_tokens", "output_tokens", "hardware", "unique_tokens"},
    ),
    "total_flops": ((-1.0, 0.0, -3.0), {}, {"params", "tokens", "inference_tokens"}),
    "lifetime_cost": (
        (-1.0, 0.0, -1.0, -1.0, -1.0, BAD_HW),
        {},
        {"params", "tokens", "requests", "input_tokens", "output_tokens", "hardware"},
    ),
    "regret_table": (
        (1.0, [1e9], -1.0, -1.0, BAD_HW),
        {},
        {"loss", "requests_scenarios", "input_tokens", "output_tokens", "hardware"},
    ),
    "robust_plan": (
        (-1.0, [1e9, -1.0], -1.0, 70.0, None, BAD_LAW),
        {},
        {"loss", "requests_scenarios", "input_tokens", "law"},
    ),
    "expected_cost_plan": (
        (1.0, [0.0, 1e9], [-1.0, 1.0]),
        {"hardware": BAD_HW},
        {"loss", "requests_scenarios", "weights", "hardware"},
    ),
    "data_constrained_loss": (
        (-1.0, 0.0, -1.0, BAD_LAW),
        {},
        {"params", "tokens", "unique_tokens", "law"},
    ),
    "loss_floor": ((-1.0, BAD_LAW), {}, {"unique_tokens", "law"}),
    "epochs": ((-1.0, 0.0), {}, {"tokens", "unique_tokens"}),
    "compute_overhead": ((-0.5, BAD_LAW), {}, {"size_fraction", "law"}),
}

# Functions behind the Excel functions, outside xlplan.__all__.
MORE_CALLS = {
    budget.best_for_flops: ((0.0, -1.0, BAD_LAW), {}, {"total_flops", "inference_tokens", "law"}),
    budget.best_for_budget: (
        (-5.0, -1.0, -1.0, 215.0, BAD_HW),
        {},
        {"dollars", "requests", "input_tokens", "hardware"},
    ),
    budget.loss_at_budget: ((-1.0, -1.0, -1.0), {}, {"params", "total_flops", "inference_tokens"}),
    energy.footprint: (
        (-1.0, 0.0, 0.5, -1.0),
        {},
        {"gpu_hours", "power_watts", "pue", "grid_kg_per_kwh"},
    ),
    cashflow.cashflow: (
        (-1.0, 0.0, [1e8, -1.0], -0.1, -2.0),
        {"hardware": BAD_HW, "gpus": 0.0, "deadline_days": 4e4},
        {
            "params",
            "tokens",
            "requests_by_month",
            "discount_rate",
            "price_change",
            "hardware",
            "gpus",
            "deadline_days",
        },
    ),
    launch.cost_optimal_launch: (
        (-1.0, [-1.0], 0.0, -8.0, -1.0, -1.0),
        {"hardware": BAD_HW, "law": BAD_LAW},
        {
            "loss",
            "requests_by_month",
            "deadline_days",
            "gpus",
            "discount_rate",
            "price_change",
            "hardware",
            "law",
        },
    ),
    schedule.cost_optimal_pv: (
        (1.0, [-1.0], -1.0, -1.0, -1.0),
        {},
        {"loss", "requests_by_month", "discount_rate", "price_change", "input_tokens"},
    ),
    schedule.lifetime_pv: (
        (0.0, 1e12, [[1.0] * 1201]),
        {"price_change": math.inf},
        {"params", "requests_by_month", "price_change"},
    ),
    schedule.present_value_requests: (
        ([math.nan], -1.0, -1.0),
        {},
        {"requests_by_month", "discount_rate", "price_change"},
    ),
    schedule.demand_ramp: (
        (-1.0, -1.0, 0, -1.0),
        {},
        {"first_month_requests", "monthly_growth", "months", "peak_requests"},
    ),
    breakeven.breakeven_requests: (
        (0.0, 0.0, -1.0, -1.0),
        {"law": BAD_LAW},
        {"loss", "api_input_price", "api_output_price", "input_tokens", "law"},
    ),
    serving.gpus_needed: (
        (0.0, -1.0, 70.0, 215.0, "h100", 0.5),
        {},
        {"params", "requests_per_month", "peak_to_average"},
    ),
    serving.throughput: ((-1.0, BAD_HW), {}, {"params", "hardware"}),
    serving.decode_mfu: ((BAD_HW, 1.5, 2.0), {}, {"hardware", "batch", "bandwidth_utilisation"}),
}


# Every function in the __all__ of these deployment modules must be gated and listed in
# DEPLOY_CALLS (test_every_public_deployment_function_is_gated_and_listed_here).
DEPLOY_MODULES = (
    shape,
    kvcache,
    latency,
    training,
    kv_sizing,
    kv_breakeven,
    kv_schedule,
    kv_budget,
)
# A parameter named ``hw`` takes a hardware: its error names "hardware", as everywhere.
DEPLOY_CALLS = {
    shape.get_shape: (("gpt-9",), {}, {"shape"}),
    shape.rule_layers: ((-1.0,), {}, {"params"}),
    shape.shape_for_params: (([7e9],), {}, {"params"}),
    shape.model_shape: (("gpt-9",), {}, {"model"}),
    shape.kv_bytes_for_params: ((-1.0, 0.0), {}, {"params", "bytes_per_element"}),
    shape.model_kv_bytes: (("gpt-9", -1.0, BAD_HW), {}, {"model", "bytes_per_element", "hardware"}),
    shape.check_params: (("gpt-9", [1e9], -0.1), {}, {"shape", "params", "tolerance"}),
    kvcache.roofline_mfu: (
        (BAD_HW, 0.0, -1.0, 2.0),
        {},
        {"hardware", "tokens", "extra_bytes_per_param", "bandwidth_utilisation"},
    ),
    kvcache.kv_bytes_default: (
        (-1.0, BAD_HW, -1.0),
        {},
        {"params", "hardware", "kv_bytes_per_token"},
    ),
    kvcache.kv_serving: (
        (-1.0, BAD_HW, 1.5, -1.0, -1.0, 0.0, 2.0, 0.0),
        {},
        {
            "params",
            "hardware",
            "batch",
            "context",
            "kv_bytes_per_token",
            "input_tokens",
            "bandwidth_utilisation",
            "gpus",
        },
    ),
    kvcache.kv_gpus_needed: (
        (-1.0, -1.0, 0.0, -1.0, BAD_HW, 0, -1.0, -1.0, 0.0, 0.5),
        {},
        {
            "params",
            "requests_per_month",
            "input_tokens",
            "output_tokens",
            "hardware",
            "batch",
            "context",
            "kv_bytes_per_token",
            "bandwidth_utilisation",
            "peak_to_average",
        },
    ),
    latency.max_batch: (
        (-1.0, BAD_HW, -1.0, 0.0, -1.0, -1.0, 0.0, 2.0, 0.0),
        {},
        {
            "params",
            "hardware",
            "context",
            "tpot_target",
            "ttft_target",
            "kv_bytes_per_token",
            "input_tokens",
            "bandwidth_utilisation",
            "gpus",
        },
    ),
    training.training_time: (
        (-1.0, 0.0, 0.0, BAD_HW),
        {},
        {"params", "tokens", "gpus", "hardware"},
    ),
    training.gpus_for_deadline: (
        (-1.0, 0.0, -2.0, BAD_HW),
        {},
        {"params", "tokens", "days", "hardware"},
    ),
    training.training_months: ((-3.0,), {}, {"days"}),
    kv_sizing.kv_request_cost: (
        (-1.0, BAD_HW, -1.0, -1.0, -1.0, 0.5, -1.0, 0.0, 2.0),
        {},
        {"params", "hardware", "requests", "d_in", "d_out", "batch", "context", "kv_element", "u"},
    ),
    kv_sizing.kv_cost_optimal: (
        (-1.0, -1.0, -1.0, -1.0, BAD_HW, BAD_LAW, [2.0], -1.0, 2.0, 0.0),
        {},
        {
            "loss",
            "requests",
            "input_tokens",
            "output_tokens",
            "hardware",
            "law",
            "batch",
            "context",
            "bandwidth_utilisation",
            "kv_bytes_per_element",
        },
    ),
    kv_schedule.kv_cost_optimal_pv: (
        (-1.0, [1e8, -1.0], -0.1, -1.0, -1.0, -1.0, BAD_HW, BAD_LAW, [2.0], -1.0, 2.0, 0.0),
        {},
        {
            "loss",
            "requests_by_month",
            "discount_rate",
            "price_change",
            "input_tokens",
            "output_tokens",
            "hardware",
            "law",
            "batch",
            "context",
            "bandwidth_utilisation",
            "kv_bytes_per_element",
        },
    ),
    kv_budget.kv_best_for_budget: (
        (0.0, -1.0, -1.0, -1.0, BAD_HW, BAD_LAW, 0.5, -1.0, 0.0, -2.0),
        {},
        {
            "dollars",
            "requests",
            "input_tokens",
            "output_tokens",
            "hardware",
            "law",
            "batch",
            "context",
            "bandwidth_utilisation",
            "kv_bytes_per_element",
        },
    ),
    kv_budget.kv_loss_at_dollars: (
        (-1.0, 0.0, -1.0, -1.0, -1.0, BAD_HW, BAD_LAW, 0.5, -1.0, 0.0, -2.0),
        {},
        {
            "params",
            "dollars",
            "requests",
            "input_tokens",
            "output_tokens",
            "hardware",
            "law",
            "batch",
            "context",
            "bandwidth_utilisation",
            "kv_bytes_per_element",
        },
    ),
    kv_breakeven.kv_breakeven_requests: (
        (-1.0, 0.0, 0.0, -1.0, -1.0, BAD_HW, BAD_LAW, 0.5, -1.0, 2.0),
        {},
        {
            "loss",
            "api_input_price",
            "api_output_price",
            "input_tokens",
            "output_tokens",
            "hardware",
            "law",
            "batch",
            "context",
            "bandwidth_utilisation",
        },
    ),
}


def test_every_public_deployment_function_is_gated_and_listed_here():
    for module in DEPLOY_MODULES:
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value):
                assert value in DEPLOY_CALLS, f"add a call of {module.__name__}.{name}"
                assert hasattr(value, "kernel"), name


@pytest.mark.parametrize("function", list(DEPLOY_CALLS), ids=lambda f: f.__name__)
def test_all_bad_arguments_in_one_error_in_deployment(function):
    _reports_all(function, *DEPLOY_CALLS[function])


def _public_numeric_functions():
    """Names in xlplan.__all__ of engine functions taking more than one argument."""
    names = []
    for name in xlplan.engine.__all__:
        value = getattr(xlplan, name)
        if inspect.isfunction(value) and len(inspect.signature(value).parameters) > 1:
            names.append(name)
    return names


def test_every_public_numeric_function_is_gated_and_listed_here():
    names = _public_numeric_functions()
    assert set(names) == set(CALLS), "add a call with several bad arguments for each"
    for name in names:
        assert hasattr(getattr(xlplan, name), "kernel"), name


def _reports_all(function, call_args, kwargs, expected):
    with pytest.raises(XlplanError) as caught:
        function(*call_args, **kwargs)
    error = caught.value
    assert set(error.positions_by_argument) == expected
    message = str(error)
    for name in expected:  # each argument named in the one message
        assert name in message, (name, message)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_all_bad_arguments_in_one_error(name):
    _reports_all(getattr(xlplan, name), *CALLS[name])


@pytest.mark.parametrize("function", list(MORE_CALLS), ids=lambda f: f.__name__)
def test_all_bad_arguments_in_one_error_behind_excel(function):
    _reports_all(function, *MORE_CALLS[function])


def test_positions_of_array_and_scalar_arguments():
    with pytest.raises(InvalidValueError) as caught:
        xlplan.total_flops(np.array([[1e9, -1.0], [0.0, 2e9]]), -1.0, np.array([1e12, 1e12]))
    assert caught.value.positions_by_argument == {"params": [(0, 1), (1, 0)], "tokens": [()]}


def test_one_bad_argument_keeps_its_own_error_and_lists_its_positions():
    with pytest.raises(InvalidValueError) as caught:
        xlplan.compute_optimal(2.1, -1.0)
    assert str(caught.value).startswith("inference_tokens=-1 is out of range")
    assert caught.value.positions_by_argument == {"inference_tokens": [()]}
    assert caught.value.positions is None


def test_a_cell_names_every_bad_argument_under_its_excel_name():
    cell = udfs.OPT_PARAMS(1.0, -1.0, None, 0.0)
    assert cell.code == "#NUM!"
    assert "loss=1" in cell.message and "inf_tokens=-1" in cell.message
    assert "unique_tokens=0" in cell.message and "inference_tokens" not in cell.message
    text = udfs.COST_OPT("many", "lots", None, None, "h100", None, "x")
    assert text.code == "#VALUE!"
    for name in ("loss='many'", "requests='lots'", "unique_tokens='x'"):
        assert name in text.message


def test_gated_functions_keep_their_signatures():
    for function in [getattr(xlplan, n) for n in CALLS] + list(MORE_CALLS) + list(DEPLOY_CALLS):
        assert inspect.signature(function) == inspect.signature(function.kernel)


class _NoNumpy:
    def __getattr__(self, name):
        raise AssertionError(f"numpy.{name} used on the scalar path")


@pytest.mark.parametrize(
    "call",
    [
        lambda: xlplan.compute_optimal(2.1, 1e12),
        lambda: xlplan.cost_optimal(2.1, 1e9),
        lambda: udfs.OPT_PARAMS(2.1, 1e12),
        lambda: udfs.COST_OPT(2.1, 1e9),
        lambda: breakeven.breakeven_requests(2.1, 0.5, 1.5),
        lambda: udfs.BREAKEVEN_REQUESTS(2.1, 0.2, 0.6, None, None, "h100", "epoch-2024"),
        lambda: schedule.cost_optimal_pv(2.1, [1e8] * 12, 0.1, -0.25),
        lambda: udfs.COST_OPT_PV(2.1, [[1e8] * 36]),
        lambda: udfs.COST_OPT_PV(2.1, [[1e8] * 1200]),  # zero rates: no powers at all
        lambda: udfs.ROBUST_OPT(2.1, [[1e8, 1e9, 1e10]]),  # numpy only in ScalingLaw.plain_loss
    ],
)
def test_one_float_per_argument_never_touches_numpy(monkeypatch, call):
    expected = call()
    from xlplan.engine import hardware, roots, validate
    from xlplan.engine.paper import sizing, solver

    for module in (
        sizing,
        solver,
        validate,
        engine_args,
        hardware,
        roots,
        breakeven,
        schedule,
        regret,
    ):
        if hasattr(module, "np"):
            monkeypatch.setattr(module, "np", _NoNumpy())
    assert call() == expected


def test_present_value_overflow_names_the_price_change():
    with pytest.raises(InvalidValueError, match=r"price_change=1e\+06 is too large") as caught:
        schedule.present_value_requests([1e6] * 1200, 0, 1e6)
    assert caught.value.argument == "price_change"
    with pytest.raises(InvalidValueError, match="price_change"):
        schedule.cost_optimal_pv(2.1, [1e6] * 1200, 0, 1e6)
    cell = udfs.COST_OPT_PV(2.1, [[1e6] * 1200], 0, 1e6)
    assert cell.code == "#NUM!" and cell.message.startswith("price_change=1e+06")
    # Huge months that sum past the float range name the schedule instead.
    with pytest.raises(InvalidValueError, match="requests_by_month sums past"):
        schedule.present_value_requests([1.5e308, 1.5e308])
    # A large but representable price change still gives a finite answer.
    assert math.isfinite(schedule.present_value_requests([1e6] * 12, 0, 1e6))


def test_zero_tokens_per_request_is_a_clear_error():
    with pytest.raises(InvalidValueError, match="zero tokens costs nothing") as caught:
        xlplan.robust_plan(2.0, [1e6, 1e13], 0, 0)
    assert "nan" not in str(caught.value)
    cell = udfs.ROBUST_OPT(2.0, [[1e6, 1e13]], 0, 0)
    assert cell.code == "#NUM!" and "input_tokens=0 and output_tokens=0" in cell.message
    # One token either way is a plan.
    assert xlplan.robust_plan(2.0, [1e6, 1e13], 0, 1).params > 0


def test_range_arguments_are_capped_on_every_route_before_copying():
    from xlplan import lite
    from xlplan.server.settings import Settings

    with pytest.raises(lite.ExcelFunctionError, match="1,000,000,000 cells") as caught:
        lite.FIT_COEFFS(range(10**9))
    assert caught.value.code == "#NUM!" and f"{MAX_CELLS:,}" in str(caught.value)
    too_many = [[1e9, 1e11, 2.5]] * (MAX_CELLS // 3 + 1)
    cell = udfs.FIT_COEFFS(too_many)
    assert cell.code == "#NUM!" and cell.message.startswith("runs has 100,002 cells")
    cell = udfs.ROBUST_OPT(2.1, [[1e9] * (MAX_CELLS + 1)])  # a 1x3 answer: the input's cap
    assert cell.code == "#NUM!" and "requests_scenarios has 100,001 cells" in cell.message
    assert Settings().max_cells == MAX_CELLS  # the server's default is the same limit


def test_excel_arguments_come_from_the_engine_declarations():
    from xlplan.engine.constants import DEFAULT_INPUT_TOKENS

    specs = {p.name: p for p in udfs.FUNCTIONS["COST_OPT"].params}
    for arg in (
        engine_args.LOSS,
        engine_args.REQUESTS,
        engine_args.INPUT_TOKENS,
        engine_args.HARDWARE,
        engine_args.LAW,
        engine_args.UNIQUE_TOKENS,
    ):
        assert specs[arg.name].help == arg.help
    assert specs["input_tokens"].convert("input_tokens", None) == DEFAULT_INPUT_TOKENS
    assert engine_args.INPUT_TOKENS.default == DEFAULT_INPUT_TOKENS
    opt = {p.name: p for p in udfs.FUNCTIONS["OPT_PARAMS"].params}
    assert opt["inf_tokens"].help == engine_args.INFERENCE_TOKENS.help
    # A signature whose default differs from its declaration is refused at import.
    with pytest.raises(TypeError, match="defaults"):

        @engine_args.gate(engine_args.INPUT_TOKENS)
        def drifted(input_tokens=71.0):
            return input_tokens


def _declared_args():
    functions = [getattr(xlplan, n) for n in CALLS] + list(MORE_CALLS) + list(DEPLOY_CALLS)
    return {(a.name, a.low, a.low_open, a.high, a.high_open): a for f in functions for a in f.args}


def test_the_gates_one_comparison_is_exactly_the_declared_range():
    """``lo < x < hi`` (what the gate tests on a float) agrees with ``Arg.fits`` at and
    around every bound declared, and at the values no range admits."""
    numbers = [a for a in _declared_args().values() if a.kind == "number"]
    assert len(numbers) > 20
    for arg in numbers:
        low, high = arg.open_bounds()
        probes = [0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan, 5e-324, -5e-324]
        for bound in (arg.low, arg.high):
            if math.isfinite(bound):
                probes += [bound, math.nextafter(bound, -math.inf), math.nextafter(bound, math.inf)]
        for x in probes:
            assert (low < x < high) == arg.fits(x), (arg.name, x)


# The fitter: runs, options and demand checked together. Four rows are too few runs.
FEW_RUNS = [[1e8, 2e9, 3.4], [2e8, 4e9, 3.1], [4e8, 8e9, 2.9], [8e8, 1.6e10, 2.7]]
SARDANA = Path(__file__).parent / "data" / "sardana_mpt_47runs.csv"
FIT_CALLS = {
    fit_law: (
        (FEW_RUNS,),
        {"max_tokens_per_param": "100", "delta": 0.0, "grid": np.zeros((3, 4))},
        {"runs", "max_tokens_per_param", "delta", "grid"},
    ),
    select_runs: ((FEW_RUNS, -1.0), {}, {"runs", "max_tokens_per_param"}),
    bootstrap_law: (  # the runs are good: every option is still reported
        (SARDANA, 1),
        {"seed": -1, "level": 2, "delta": "x", "grid": {"a": [1.0]}},
        {"n_resamples", "seed", "level", "delta", "grid"},
    ),
    plan_distribution: (
        (FEW_RUNS, -1.0, -1.0, 9, -1),
        {"max_tokens_per_param": 0.0, "delta": math.nan},
        {"runs", "loss", "inference_tokens", "resamples", "seed", "max_tokens_per_param", "delta"},
    ),
    plan_interval: (  # max_tokens_per_param and delta are keys of its **options
        (SARDANA, 0.0, "lots", 1.0, 10.5, 2.5),
        {"max_tokens_per_param": -5, "delta": [1e-3]},
        {
            "loss",
            "inference_tokens",
            "level",
            "resamples",
            "seed",
            "max_tokens_per_param",
            "delta",
        },
    ),
}


def test_every_fitting_function_is_gated_and_listed_here():
    for name in ("law", "bootstrap", "plan_interval"):
        module = importlib.import_module(f"xlplan.fit.{name}")
        for public in module.__all__:
            value = getattr(module, public)
            if inspect.isfunction(value) and public not in ("check_delta", "hoffmann_grid"):
                assert value in FIT_CALLS, f"add a call of {module.__name__}.{public}"
                assert inspect.signature(value) == inspect.signature(value.kernel)


@pytest.mark.parametrize("function", list(FIT_CALLS), ids=lambda f: f.__name__)
def test_all_bad_arguments_in_one_error_in_fitting(function):
    _reports_all(function, *FIT_CALLS[function])


def test_fitting_errors_keep_their_messages_and_types():
    with pytest.raises(InvalidValueError) as caught:
        bootstrap_law(SARDANA, 1, seed=-1, level=2)
    assert str(caught.value) == (
        "n_resamples=1 is out of range: it must be a whole number >= 2; "
        "seed=-1 is out of range: it must be a whole number >= 0; "
        "level=2 is out of range: it must be a number in (0, 1)"
    )
    with pytest.raises(InvalidValueError, match="at most 100,000 resamples"):
        bootstrap_law(SARDANA, 100_001)
    with pytest.raises(InvalidTypeError, match=r"^delta=\[0.001\] must be a number$"):
        fit_law(SARDANA, delta=[1e-3])  # one number, not an array
    # Relations between arguments stay in the kernel: a cut-off that leaves too few runs.
    with pytest.raises(InvalidValueError, match="leaves 0 of 47 runs") as caught:
        select_runs(SARDANA, 9)
    assert caught.value.argument == "max_tokens_per_param"


def test_runs_are_read_once_per_call(monkeypatch):
    from xlplan.fit import args as fit_args
    from xlplan.fit.runs import load_runs

    reads = []
    monkeypatch.setattr(fit_args, "load_runs", lambda *a: reads.append(1) or load_runs(*a))
    rows = load_runs(SARDANA)
    table = np.column_stack([rows.params, rows.tokens, rows.loss]).tolist()
    result = plan_interval(table, 2.2, 1e12, 0.8, 10, 1, max_tokens_per_param=500)
    assert reads == [1]  # plan_interval -> plan_distribution -> bootstrap -> fit: once
    assert result.n_resamples == 10
    # Checked values reach the kernels: the same answer as from parsed runs and floats.
    again = plan_interval.kernel(rows, 2.2, 1e12, 0.8, 10, 1, max_tokens_per_param=500.0)
    assert result == again


def _by_name_gate():
    @engine_args.gate(
        engine_args.PARAMS,
        engine_args.TOKENS,
        engine_args.INPUT_TOKENS,
        engine_args.OUTPUT_TOKENS,
    )
    def kernel(params, *, tokens=1.0, input_tokens=70.0, **options):
        return params, tokens, input_tokens, options

    return kernel


def test_gate_passes_keyword_only_parameters_and_declared_options_by_name():
    kernel = _by_name_gate()
    # output_tokens is a declared key of **options: checked, and its default passed.
    assert kernel(2.0) == (2.0, 1.0, 70.0, {"output_tokens": 215.0})
    assert kernel(2.0, tokens=3, output_tokens=4, note="x") == (
        2.0,
        3.0,
        70.0,
        {"output_tokens": 4.0, "note": "x"},  # an undeclared key passes unchecked
    )
    with pytest.raises(InvalidValueError) as caught:
        kernel(-1.0, tokens=0.0, input_tokens=-1.0, output_tokens=-2.0)
    assert set(caught.value.positions_by_argument) == {
        "params",
        "tokens",
        "input_tokens",
        "output_tokens",
    }
    assert inspect.signature(kernel) == inspect.signature(kernel.kernel)
    # Calls Python refuses get Python's own TypeError, before any check.
    for call, words in (
        (lambda: kernel(2.0, 3.0), "positional"),
        (lambda: kernel(), "params"),
        (lambda: kernel(2.0, params=-1.0), "params"),
    ):
        with pytest.raises(TypeError, match=words):
            call()


def test_gate_refuses_drift_and_shapes_it_cannot_check():
    with pytest.raises(TypeError, match="defaults"):

        @engine_args.gate(engine_args.INPUT_TOKENS)
        def drifted(*, input_tokens=71.0):
            return input_tokens

    with pytest.raises(TypeError, match="need a default"):

        @engine_args.gate(engine_args.PARAMS)
        def required_key(**options):
            return options

    with pytest.raises(TypeError, match="no parameters"):  # no **options: a typo

        @engine_args.gate(engine_args.PARAMS)
        def typo(*, param=1.0):
            return param


def test_excel_fit_arguments_come_from_the_fitting_declarations():
    from xlplan.fit import args as fit_args

    fit = {p.name: p for p in udfs.FUNCTIONS["FIT_COEFFS"].params}
    interval = {p.name: p for p in udfs.FUNCTIONS["PLAN_INTERVAL"].params}
    for specs, arg in (
        (fit, fit_args.RUNS),
        (fit, fit_args.MAX_TOKENS_PER_PARAM),
        (fit, fit_args.DELTA),
        (interval, fit_args.RUNS),
        (interval, fit_args.INTERVAL_LEVEL),
        (interval, fit_args.RESAMPLES),
        (interval, fit_args.SEED),
    ):
        assert specs[arg.name].help == arg.help
    assert fit["delta"].convert("delta", None) == fit_law.args[2].default == 1e-3
    assert interval["level"].convert("level", None) == 0.9
    assert interval["resamples"].convert("resamples", None) == 200
    assert interval["seed"].convert("seed", None) == 0
    assert inspect.signature(plan_interval).parameters["level"].default == 0.9


def test_a_fitting_warning_names_the_line_that_called_the_function():
    from xlplan.fit.plan_interval import PlanIntervalWarning
    from xlplan.fit.runs import load_runs

    gadre = Path(__file__).parent / "data" / "gadre_overtraining_104runs.csv"
    runs = load_runs(gadre, loss_col="loss_c4_val")  # some refits put E above 1.8
    for function in (plan_distribution, plan_interval):
        with pytest.warns(PlanIntervalWarning, match="of 200 bootstrap laws") as record:
            function(runs, 1.8, 1e13)
        assert [w.filename for w in record] == [__file__], function.__name__
