"""A fitted law's uncertainty carried through to the plan (Besiroglu et al. 2024).

:func:`xlplan.fit.bootstrap.bootstrap_law` refits the law on runs resampled
with replacement. Each refitted law gives its own compute-optimal model for the
same target loss and inference demand (Sardana et al. 2024, Eq. 3); the spread
of those models is how well the runs pin the plan down.

A resampled law whose irreducible loss E is at or above the target loss cannot
reach it at any size. Such resamples are counted, excluded and reported (a
field and a :class:`PlanIntervalWarning`), never dropped silently; when more
than half are excluded the runs cannot say whether the loss is reachable and
the interval is refused.

Quantiles are taken of each quantity on its own: the "low" parameter count and
the "low" token count generally come from different resamples.
"""

import warnings
from dataclasses import dataclass

import numpy as np

from ..engine.args import INFERENCE_TOKENS, LOSS, gate
from ..engine.constants import DEFAULT_DELTA
from ..engine.errors import InvalidValueError
from ..engine.laws import ScalingLaw
from ..engine.paper.sizing import compute_optimal
from .args import (
    DEFAULT_LEVEL,
    DEFAULT_RESAMPLES,
    DELTA,
    INTERVAL_LEVEL,
    MAX_TOKENS_PER_PARAM,
    MIN_RESAMPLES,
    RESAMPLES,
    RUNS,
    SEED,
)
from .bootstrap import bootstrap_law

__all__ = [
    "PlanDistribution",
    "PlanInterval",
    "PlanIntervalWarning",
    "plan_distribution",
    "plan_interval",
    "MIN_RESAMPLES",
    "DEFAULT_LEVEL",
    "DEFAULT_RESAMPLES",
]

# More than this share of unusable resamples and no interval is given.
MAX_EXCLUDED_SHARE = 0.5
QUANTITIES = ("params", "tokens", "total_flops")
# A warning names the line that called the function: past the kernel and the three
# frames of the gate of a function with keyword arguments (engine.args._by_name).
_CALLER = 5


class PlanIntervalWarning(UserWarning):
    """Some bootstrap laws could not reach the target loss and were left out."""


@dataclass(frozen=True)
class PlanInterval:
    """Low / median / high of the compute-optimal model over the bootstrap laws.

    Attributes
    ----------
    level : float
        Two-sided level: low and high are the (1 - level)/2 and (1 + level)/2 quantiles.
    low, median, high : tuple of float
        (params, training tokens, total FLOPs) at each quantile, taken separately.
    point : tuple of float
        (params, tokens, total FLOPs) of the plan with the law fitted to all runs.
    n_resamples, n_used, n_excluded : int
        Resamples drawn, used, and excluded (their E at or above the loss, or no valid law).
    message : str
        Empty, or what was excluded and why.
    """

    level: float
    low: tuple
    median: tuple
    high: tuple
    point: tuple
    n_resamples: int
    n_used: int
    n_excluded: int
    message: str = ""

    def as_rows(self):
        """3x3: rows low, median, high; columns params, tokens, total FLOPs."""
        return [list(self.low), list(self.median), list(self.high)]


@dataclass(frozen=True, eq=False)
class PlanDistribution:
    """The compute-optimal model under every bootstrap law (the whole distribution).

    Attributes
    ----------
    loss, inference_tokens : float
        Target loss (nats per token) and lifetime inference tokens.
    laws : ndarray, shape (n, 5)
        (A, B, E, alpha, beta) of each refit, in resample order.
    params, tokens, total_flops : ndarray, shape (n,)
        The compute-optimal model under each law; NaN where excluded.
    excluded : ndarray of bool, shape (n,)
        Resamples left out: E at or above the loss, or not a valid law.
    point : tuple of float
        (params, tokens, total FLOPs) with the law fitted to all runs.
    fit : FitResult
        The fit to all runs.
    seed : int
    """

    loss: float
    inference_tokens: float
    laws: np.ndarray
    params: np.ndarray
    tokens: np.ndarray
    total_flops: np.ndarray
    excluded: np.ndarray
    point: tuple
    fit: object
    seed: int

    @property
    def n_excluded(self):
        return int(self.excluded.sum())

    @property
    def message(self):
        """What was excluded and why ('' when nothing was)."""
        return _exclusion_message(self)

    def interval(self, level=DEFAULT_LEVEL):
        """The :class:`PlanInterval` at two-sided ``level``; an error if over half excluded."""
        return self._interval(INTERVAL_LEVEL.check(level))

    def _interval(self, level):
        n, excluded = len(self.excluded), self.n_excluded
        if excluded > MAX_EXCLUDED_SHARE * n:
            raise InvalidValueError(
                f"{self.message}: more than half, so the runs cannot say "
                f"whether loss={self.loss:g} is reachable; no interval",
                argument="loss",
                value=self.loss,
            )
        kept = np.column_stack([self.params, self.tokens, self.total_flops])[~self.excluded]
        tail = 50.0 * (1.0 - level)
        low, median, high = np.percentile(kept, [tail, 50.0, 100.0 - tail], axis=0)
        return PlanInterval(
            level,
            tuple(map(float, low)),
            tuple(map(float, median)),
            tuple(map(float, high)),
            self.point,
            n,
            n - excluded,
            excluded,
            self.message,
        )


def _exclusion_message(dist):
    if not dist.excluded.any():
        return ""
    unreachable = int((dist.laws[:, 2] >= dist.loss).sum())
    other = dist.n_excluded - unreachable
    parts = (
        [
            f"{unreachable} of {len(dist.excluded)} bootstrap laws have E at or above "
            f"loss={dist.loss:g} and were excluded"
        ]
        if unreachable
        else []
    )
    if other:
        parts.append(f"{other} of {len(dist.excluded)} refits gave no valid law and were excluded")
    return "; ".join(parts)


def _plan_under(coefficients, loss, inference_tokens):
    """(params, tokens, total FLOPs) of the compute-optimal model; None if it cannot exist."""
    A, B, E, alpha, beta = (float(c) for c in coefficients)
    if not loss > E:
        return None
    try:
        law = ScalingLaw(A, B, E, alpha, beta, name="bootstrap")
    except InvalidValueError:  # a refit that left the valid region (e.g. alpha <= 0)
        return None
    plan = compute_optimal(loss, inference_tokens, law).optimal
    values = (plan.params, plan.tokens, plan.total)
    return values if all(np.isfinite(values)) else None


@gate(RUNS, LOSS, INFERENCE_TOKENS, RESAMPLES, SEED, MAX_TOKENS_PER_PARAM, DELTA)
def plan_distribution(
    runs,
    loss,
    inference_tokens,
    resamples=DEFAULT_RESAMPLES,
    seed=0,
    *,
    max_tokens_per_param=None,
    delta=DEFAULT_DELTA,
    progress=None,
):
    """The compute-optimal model under each of ``resamples`` bootstrap refits of the law.

    Parameters
    ----------
    runs : Runs or anything :func:`xlplan.fit.runs.load_runs` accepts
    loss : float
        Target loss, nats per token; must exceed E of the law fitted to all runs.
    inference_tokens : float
        Lifetime inference tokens (input + output), >= 0.
    resamples : int
        Bootstrap refits, >= 10.
    seed : int
        Seed of the resampling; same seed, same answer.
    max_tokens_per_param, delta, progress :
        As for :func:`xlplan.fit.bootstrap.bootstrap_law`.

    Returns
    -------
    PlanDistribution
        Warns :class:`PlanIntervalWarning` when resamples are excluded.

    Raises
    ------
    XlplanError
        One error naming every bad argument (``positions_by_argument``);
        :class:`~xlplan.engine.errors.UnreachableLossError` when ``loss`` is at or
        below E of the law fitted to all runs.
    """
    boot = bootstrap_law.kernel(
        runs,
        resamples,
        seed=seed,
        progress=progress,
        max_tokens_per_param=max_tokens_per_param,
        delta=delta,
    )
    point = compute_optimal(loss, inference_tokens, boot.fit.law).optimal
    plans = [_plan_under(c, loss, inference_tokens) for c in boot.samples]
    excluded = np.array([p is None for p in plans])
    values = np.array([p if p is not None else (np.nan,) * 3 for p in plans])
    dist = PlanDistribution(
        loss,
        inference_tokens,
        boot.samples,
        *values.T,
        excluded,
        (float(point.params), float(point.tokens), float(point.total)),
        boot.fit,
        seed,
    )
    if excluded.any():
        warnings.warn(dist.message, PlanIntervalWarning, stacklevel=_CALLER)
    return dist


@gate(RUNS, LOSS, INFERENCE_TOKENS, INTERVAL_LEVEL, RESAMPLES, SEED, MAX_TOKENS_PER_PARAM, DELTA)
def plan_interval(
    runs,
    loss,
    inference_tokens,
    level=DEFAULT_LEVEL,
    resamples=DEFAULT_RESAMPLES,
    seed=0,
    **options,
):
    """Low / median / high compute-optimal params, tokens and total FLOPs (PLAN_INTERVAL).

    Arguments as for :func:`plan_distribution`, plus the two-sided ``level`` in
    (0, 1). Raises :class:`~xlplan.engine.errors.InvalidValueError` when more
    than half of the resamples are excluded.

    Returns
    -------
    PlanInterval
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlanIntervalWarning)  # warned once, below
        dist = plan_distribution.kernel(runs, loss, inference_tokens, resamples, seed, **options)
    result = dist._interval(level)
    if result.n_excluded:
        warnings.warn(result.message, PlanIntervalWarning, stacklevel=_CALLER)
    return result
