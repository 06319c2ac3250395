"""Excel functions for plans with ranges: demand scenarios and a fitted law's uncertainty.

``REGRET_TABLE`` and ``ROBUST_OPT`` wrap :mod:`xlplan.engine.money.regret`;
``PLAN_INTERVAL`` wraps :mod:`xlplan.fit.plan_interval` and runs on the
server's slow path (worker processes with a time limit), like ``FIT_COEFFS``.
Re-exported by :mod:`xlplan.udfs`, so xlwings, the server and the formula
evaluator see them with the other functions.
"""

import functools
import logging
import warnings

from ..engine.errors import PLACEHOLDER, InvalidTypeError
from ..engine.money import regret
from ..fit import args as fit_args
from . import convert, params
from .params import excel_param
from .registry import excel_function

__all__ = ["REGRET_TABLE", "ROBUST_OPT", "PLAN_INTERVAL"]

# Excluded bootstrap resamples are reported here: a cell holds numbers only, so the
# note goes to the log (the server's stderr) instead of being dropped.
LOG = logging.getLogger("xlplan.excel")


def _scenarios(name, value):
    """The cells of a one-row or one-column range as numbers (each cell named on error)."""
    if type(value) is list and len(value) == 1 and type(value[0]) is list:
        cells = value[0]  # one row, as Excel passes it: floats stay as they are
        if len(cells) <= convert.MAX_CELLS and set(map(type, cells)) <= {float}:
            return list(cells)
    rows = convert.table(name, value)
    if len(rows) > 1 and any(len(r) > 1 for r in rows):
        raise InvalidTypeError(
            f"{PLACEHOLDER} must be one row or one column, got a "
            f"{len(rows)}x{max(len(r) for r in rows)} range",
            argument=name,
            value=value,
        )
    cells = [c for r in rows for c in r]
    # A float is a number already: the engine checks its range and names the cell.
    return [
        c if type(c) is float else convert.number(f"{name}[{i}]", c) for i, c in enumerate(cells, 1)
    ]


_SCENARIOS = excel_param(regret.SCENARIOS, range=True, converter=_scenarios)
_OPTIONS = (params.INPUT_TOKENS, params.OUTPUT_TOKENS, params.HARDWARE, params.LAW)


def _matrix(rows):
    return [[convert.result(v) for v in row] for row in rows]


@excel_function(
    params.LOSS,
    _SCENARIOS,
    *_OPTIONS,
    result=("lifetime $ under each scenario", "worst-case regret $"),
)
def REGRET_TABLE(
    loss, requests_scenarios, input_tokens=None, output_tokens=None, hardware=None, law=None
):
    """Lifetime $ of each scenario's cost-optimal plan (rows) under each demand (k x k+1)."""
    table = regret.regret_table(
        loss, requests_scenarios, input_tokens, output_tokens, hardware, law
    )
    return _matrix(table.as_rows())


@excel_function(
    params.LOSS, _SCENARIOS, *_OPTIONS, result=("params", "tokens", "worst-case regret $")
)
def ROBUST_OPT(
    loss, requests_scenarios, input_tokens=None, output_tokens=None, hardware=None, law=None
):
    """Params, tokens, worst-case regret $ (1x3) of the least-regret plan over the demand range."""
    plan = regret.robust_plan(loss, requests_scenarios, input_tokens, output_tokens, hardware, law)
    return convert.row(plan.params, plan.tokens, plan.worst_regret)


@excel_function(
    params.RUNS,
    params.LOSS,
    params.INF_TOKENS,
    excel_param(fit_args.INTERVAL_LEVEL),
    excel_param(fit_args.RESAMPLES, converter=params.whole_number(fit_args.DEFAULT_RESAMPLES)),
    excel_param(fit_args.SEED, converter=params.whole_number(fit_args.SEED.default)),
    result=("params", "tokens", "total FLOPs"),
    slow=True,
)
def PLAN_INTERVAL(runs, loss, inf_tokens, level=None, resamples=None, seed=None):
    """Low/median/high params, tokens, total FLOPs (3x3) over bootstrap refits of the law."""
    rows = tuple(tuple(row) for row in runs)
    key = (loss, inf_tokens, level, resamples, seed)
    try:
        hash(rows)
    except TypeError:  # a cell value that cannot be a cache key: compute without the cache
        return _matrix(_interval.__wrapped__(rows, *key))
    return _matrix(_interval(rows, *key))


# Excel evaluates INDEX(PLAN_INTERVAL(...), r, c) once per cell: remember the last results
# (200 refits take about half a second). Failures raise, so they are never cached.
@functools.lru_cache(maxsize=32)
def _interval(rows, loss, inf_tokens, level, resamples, seed):
    # Imported here: the fitter pulls in the optimiser, which the cheap functions never need.
    from ..fit.plan_interval import PlanIntervalWarning, plan_interval
    from ..fit.runs import load_runs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlanIntervalWarning)  # logged below instead
        result = plan_interval(
            load_runs([list(row) for row in rows]), loss, inf_tokens, level, resamples, seed
        )
    if result.n_excluded:
        LOG.warning("PLAN_INTERVAL: %s", result.message)
    return result.as_rows()
