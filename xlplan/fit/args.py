"""The fitter's arguments, declared once (:class:`~xlplan.engine.args.Arg`).

:func:`~xlplan.fit.law.fit_law`, :func:`~xlplan.fit.bootstrap.bootstrap_law`,
:func:`~xlplan.fit.plan_interval.plan_distribution` and ``plan_interval`` check their
arguments through :func:`~xlplan.engine.args.gate` with these declarations, so one call
with several bad arguments names all of them in one error; ``FIT_COEFFS`` and
``PLAN_INTERVAL`` take their Excel help and defaults from the same declarations.

Importing it loads no pandas (:mod:`xlplan.fit.runs` imports it only to read a dict or a
file), so the Excel functions import the declarations cheaply.
"""

from ..engine import validate
from ..engine.args import Arg
from ..engine.constants import DEFAULT_DELTA
from ..engine.errors import PLACEHOLDER, InvalidValueError
from .runs import Runs, load_runs
from .search import check_grid

__all__ = [
    "RUNS",
    "MAX_TOKENS_PER_PARAM",
    "DELTA",
    "GRID",
    "N_RESAMPLES",
    "RESAMPLES",
    "SEED",
    "LEVEL",
    "INTERVAL_LEVEL",
    "MIN_RESAMPLES",
    "MAX_RESAMPLES",
    "DEFAULT_RESAMPLES",
    "DEFAULT_LEVEL",
    "BOOTSTRAP_LEVEL",
]

MIN_RESAMPLES = 10  # of a plan interval: fewer and its quantiles are a few refits
MAX_RESAMPLES = 100_000  # hours of refits already; beyond, only memory would run out
DEFAULT_RESAMPLES = 200
DEFAULT_LEVEL = 0.9  # two-sided level of a plan interval
BOOTSTRAP_LEVEL = 0.95  # of the coefficients' intervals


def _runs(value, on_invalid, law):
    return value if isinstance(value, Runs) else load_runs(value)


def _grid(value, on_invalid, law):
    return check_grid(value)


def _scalar(name, **bounds):
    """A custom check: one real number in range (an array or text is refused)."""

    def check(value, on_invalid, law):
        return validate.scalar(name, value, **bounds)

    return check


def _whole(name, low, most=None):
    """A custom check: a whole number >= ``low`` and, for a count of resamples, <= ``most``."""

    def check(value, on_invalid, law):
        number = validate.whole_number(name, value, low=low)
        if most is not None and number > most:  # refused before an (n, 5) array is made
            raise InvalidValueError(
                f"{PLACEHOLDER}={number} is out of range: at most {most:,} resamples",
                argument=name,
                value=number,
            )
        return number

    return check


# Office's schemas allow at most 128 characters per argument description (tested).
RUNS = Arg(
    "runs",
    "Training runs: an n x 3 range of params, tokens, loss; a header row is allowed.",
    "parameters, tokens, nats",
    kind="custom",
    check_value=_runs,
)
MAX_TOKENS_PER_PARAM = Arg(
    "max_tokens_per_param",
    "Use only runs with at most this many tokens per parameter. Default: all runs.",
    "tokens per parameter",
    kind="custom",
    check_value=_scalar("max_tokens_per_param"),
    optional_none=True,
    default=None,
)
DELTA = Arg(
    "delta",
    f"Huber loss threshold of the fit. Default {DEFAULT_DELTA:g}.",
    "log-loss",
    kind="custom",
    check_value=_scalar("delta"),
    default=DEFAULT_DELTA,
)
GRID = Arg(
    "grid",
    "Starting points: a dict of axis values for a, b, e, alpha, beta, or an (S, 5) array.",
    kind="custom",
    check_value=_grid,
    optional_none=True,
    default=None,
)
N_RESAMPLES = Arg(
    "n_resamples",
    "Bootstrap refits of the law, a whole number >= 2 (1,000 is usual).",
    "resamples",
    kind="custom",
    check_value=_whole("n_resamples", 2, MAX_RESAMPLES),
    low=2,
    low_open=False,
    high=MAX_RESAMPLES,
)
RESAMPLES = Arg(
    "resamples",
    f"Bootstrap refits of the law, a whole number >= {MIN_RESAMPLES}. Default {DEFAULT_RESAMPLES}.",
    "resamples",
    kind="custom",
    check_value=_whole("resamples", MIN_RESAMPLES, MAX_RESAMPLES),
    low=MIN_RESAMPLES,
    low_open=False,
    high=MAX_RESAMPLES,
    default=DEFAULT_RESAMPLES,
)
SEED = Arg(
    "seed",
    "Seed of the resampling: same seed, same answer. Default 0.",
    kind="custom",
    check_value=_whole("seed", 0),
    low_open=False,
    default=0,
)
LEVEL = Arg(
    "level",
    f"Confidence level of the intervals, in (0, 1). Default {BOOTSTRAP_LEVEL:g}.",
    kind="custom",
    check_value=_scalar("level", high=1.0, high_open=True),
    high=1.0,
    high_open=True,
    default=BOOTSTRAP_LEVEL,
)
INTERVAL_LEVEL = LEVEL.but(
    help=f"Two-sided level of the interval, in (0, 1). Default {DEFAULT_LEVEL:g}.",
    default=DEFAULT_LEVEL,
)
