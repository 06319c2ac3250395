"""Seeded fitting problems: runs generated from random plausible laws, with noise.

The recorded test set of the fit (``tests/data/fit_optima.json``, written by
``scripts/record_fit_optima.py``) is made here, so the test, the benchmark and
the recording script all see the same problems. Problem ``i`` of seed ``s``
depends only on ``(s, i)``.

Ranges (issue 18): alpha, beta uniform in [0.05, 0.8]; A, B log-uniform in
[1, 1e5]; E uniform in [0.5, 3]; 8 to 300 runs with N log-uniform in
[1e7, 1e11] and D / N log-uniform in [2, 1000]; each loss multiplied by
exp(noise * z), z standard normal, noise log-uniform in [1e-4, 1e-2].
"""

from dataclasses import dataclass

import numpy as np

from ..engine.laws import ScalingLaw
from .runs import Runs

__all__ = ["Problem", "make_problem", "make_problems", "DEFAULT_SEED"]

DEFAULT_SEED = 18
EXPONENTS = (0.05, 0.8)
SCALES = (1.0, 1e5)
IRREDUCIBLE = (0.5, 3.0)
RUN_COUNTS = (8, 300)
PARAMS = (1e7, 1e11)
TOKENS_PER_PARAM = (2.0, 1000.0)
NOISE = (1e-4, 1e-2)


@dataclass(frozen=True, eq=False)
class Problem:
    """One generated problem: the runs, the law that made them and the noise level."""

    index: int
    runs: Runs
    law: ScalingLaw
    noise: float


def _log_uniform(rng, bounds, size=None):
    return np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]), size))


def make_problem(index, seed=DEFAULT_SEED):
    """Problem ``index`` of the set ``seed``: a random plausible law and noisy runs from it."""
    rng = np.random.default_rng([seed, index])
    law = ScalingLaw(
        float(_log_uniform(rng, SCALES)),
        float(_log_uniform(rng, SCALES)),
        float(rng.uniform(*IRREDUCIBLE)),
        float(rng.uniform(*EXPONENTS)),
        float(rng.uniform(*EXPONENTS)),
        name=f"generator-{seed}-{index}",
    )
    count = int(rng.integers(RUN_COUNTS[0], RUN_COUNTS[1] + 1))
    noise = float(_log_uniform(rng, NOISE))
    params = _log_uniform(rng, PARAMS, count)
    tokens = params * _log_uniform(rng, TOKENS_PER_PARAM, count)
    clean = law.plain_loss(params, tokens)
    loss = clean * np.exp(noise * rng.standard_normal(count))
    return Problem(index, Runs(params, tokens, loss), law, noise)


def make_problems(count, seed=DEFAULT_SEED):
    """Problems 0 .. count - 1 of the set ``seed``."""
    return [make_problem(i, seed) for i in range(count)]
