"""KV-aware cost-optimal sizing against a dense brute force along the loss constraint."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from xlplan.engine.deploy.kv_sizing import kv_cost_optimal, kv_request_cost
from xlplan.engine.deploy.kvcache import kv_serving
from xlplan.engine.deploy.serving import at_batch
from xlplan.engine.errors import InvalidValueError, UnreachableLossError
from xlplan.engine.hardware import HARDWARE_PRESETS
from xlplan.engine.laws import get_law
from xlplan.engine.paper.sizing import cost_optimal


def _brute_force(
    loss, requests, hardware, batch, context, law="chinchilla", d_in=70.0, d_out=215.0
):
    """Cheapest N on a dense grid of the constraint, then a dense grid around the best."""
    law, hw = get_law(law), HARDWARE_PRESETS[hardware]
    gap = loss - law.E
    n_min = (law.A / gap) ** (1 / law.alpha)

    def cost(n):
        tokens = (law.B / (gap - law.A / n**law.alpha)) ** (1 / law.beta)
        inference = kv_request_cost(
            n, hw, requests, d_in, d_out, batch, context, hw.bytes_per_weight, 1.0
        )
        return 6 * hw.train_cost_per_flop * n * tokens + inference

    low, high = np.log(n_min) + 1e-12, np.log(n_min) + 5.0
    for _ in range(3):
        x = np.linspace(low, high, 200_001)
        values = cost(np.exp(x))
        i = int(np.argmin(values))
        low, high = x[max(i - 2, 0)], x[min(i + 2, len(x) - 1)]
    return np.exp(x[i]), values[i]


@pytest.mark.parametrize(
    "loss, requests, hardware, batch, context",
    [
        (2.05, 3.51e9, "paper-a100", 2, 4096),
        (2.05, 3.51e11, "h100", 32, 4096),
        (1.96, 1.75e10, "h100", 8, 32768),
        (2.53, 1.75e8, "a100-80gb", 64, 8192),
        (1.89, 1e6, "h200", 1, 128),
        (2.2, 1e13, "h100", 256, 16384),
    ],
)
def test_optimum_matches_a_dense_brute_force(loss, requests, hardware, batch, context):
    plan = kv_cost_optimal(loss, requests, hardware=hardware, batch=batch, context=context)
    n, cost = _brute_force(loss, requests, hardware, batch, context)
    assert_allclose(plan.optimal.params, n, rtol=1e-6)
    assert plan.optimal.total <= cost * (1 + 1e-12)
    law = get_law("chinchilla")
    assert_allclose(law.loss(plan.optimal.params, plan.optimal.tokens), loss, rtol=1e-13)
    # the plan's inference dollars are kv_serving's $ per 1M tokens times the tokens
    s = kv_serving(plan.optimal.params, hardware, batch, context, input_tokens=70)
    per_request = (70 * s.usd_per_million_input + 215 * s.usd_per_million_output) / 1e6
    assert_allclose(plan.optimal.inference, requests * per_request, rtol=1e-12)


def test_the_cache_moves_the_optimum_to_smaller_models():
    base = kv_cost_optimal(2.05, 3.51e11, hardware="h100", batch=32, context=0)
    kv = kv_cost_optimal(2.05, 3.51e11, hardware="h100", batch=32, context=4096)
    assert kv.optimal.params < base.optimal.params
    assert kv.optimal.total > base.optimal.total


def test_context_zero_is_the_closed_form():
    losses, requests = np.array([2.53, 2.13, 1.96]), np.array([1.75e8, 7.02e8, 1.75e10])
    closed = cost_optimal(losses, requests, hardware=at_batch("h100", 8))
    plan = kv_cost_optimal(losses, requests, hardware="h100", batch=8, context=0)
    for side in ("optimal", "chinchilla"):
        for field in ("params", "tokens", "training", "inference"):
            assert_array_equal(
                getattr(getattr(plan, side), field), getattr(getattr(closed, side), field)
            )


def test_array_equals_loop_and_mixes_context_zero():
    rng = np.random.default_rng(7)
    loss = rng.uniform(1.9, 2.6, 40)
    requests = 10 ** rng.uniform(6, 12, 40)
    context = np.where(rng.random(40) < 0.25, 0.0, rng.uniform(100, 32000, 40))
    plan = kv_cost_optimal(loss, requests, hardware="h100", batch=16, context=context)
    for i in range(40):
        one = kv_cost_optimal(loss[i], requests[i], hardware="h100", batch=16, context=context[i])
        assert_allclose(plan.optimal.params[i], one.optimal.params, rtol=1e-8)
        assert_allclose(plan.optimal.total[i], one.optimal.total, rtol=1e-13)
        if context[i] == 0:  # the closed form's array and scalar paths agree to 1e-15
            assert_allclose(plan.optimal.params[i], one.optimal.params, rtol=1e-14)
    assert isinstance(one.optimal.params, float)


def test_errors():
    with pytest.raises(UnreachableLossError, match=r"loss=1.5"):
        kv_cost_optimal(1.5, 1e9, hardware="h100", context=4096)
    with pytest.raises(InvalidValueError, match="context=-5"):
        kv_cost_optimal(2.0, 1e9, hardware="h100", context=-5)
    with pytest.raises(InvalidValueError, match="batch=0"):
        kv_cost_optimal(2.0, 1e9, hardware="h100", batch=0, context=10)


def test_a_search_worse_than_its_grid_is_an_error():
    from xlplan.engine.deploy.kv_sizing import _certify
    from xlplan.engine.errors import ConvergenceError

    _certify(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]), np.zeros(2))
    with pytest.raises(ConvergenceError, match=r"scenario 1\): the cost is not unimodal"):
        _certify(np.array([1.0, 2.0]), np.array([1.0, 1.9]), np.zeros(2))
