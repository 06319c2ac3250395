"""KV-aware break-even against a bracketing root-finder on a R - C*(R)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import brentq

from xlplan.engine.deploy.kv_breakeven import kv_breakeven_requests
from xlplan.engine.deploy.kv_sizing import kv_cost_optimal
from xlplan.engine.deploy.serving import at_batch
from xlplan.engine.errors import InvalidValueError
from xlplan.engine.money.breakeven import breakeven_requests


@pytest.mark.parametrize(
    "loss, p_in, p_out, hardware, batch, context",
    [
        (2.1, 0.20, 0.60, "h100", 32, 4096),
        (2.5, 0.05, 0.10, "a100-80gb", 8, 16384),
        (1.95, 1.0, 3.0, "h200", 64, 32768),
    ],
)
def test_root_matches_brentq(loss, p_in, p_out, hardware, batch, context):
    found = kv_breakeven_requests(
        loss, p_in, p_out, hardware=hardware, batch=batch, context=context
    )
    a = (70 * p_in + 215 * p_out) / 1e6

    def f(r):
        return (
            a * r
            - kv_cost_optimal(
                loss, r, hardware=hardware, batch=batch, context=context
            ).optimal.total
        )

    root = brentq(f, 1.0, 1e18, xtol=1e-6, rtol=1e-12)
    assert_allclose(found.requests, root, rtol=1e-9)
    assert found.floor_cost_per_request < a


def test_context_zero_is_todays_break_even():
    today = breakeven_requests([2.1, 2.4], 0.2, 0.6, hardware=at_batch("h100", 16))
    mine = kv_breakeven_requests([2.1, 2.4], 0.2, 0.6, hardware="h100", batch=16, context=0)
    assert np.array_equal(today.requests, mine.requests)


def test_api_cheaper_than_the_floor_never_breaks_even_and_arrays_equal_loops():
    never = kv_breakeven_requests(2.1, 0.001, 0.001, hardware="h100", batch=32, context=4096)
    assert never.requests == np.inf and never.api_cost_per_request < never.floor_cost_per_request
    losses, context = np.array([2.1, 2.5, 2.2]), np.array([4096.0, 8192.0, 0.0])
    plan = kv_breakeven_requests(losses, 0.2, 0.6, hardware="h100", batch=32, context=context)
    for i in range(3):
        one = kv_breakeven_requests(
            losses[i], 0.2, 0.6, hardware="h100", batch=32, context=context[i]
        )
        assert_allclose(plan.requests[i], one.requests, rtol=1e-10)


def test_errors():
    with pytest.raises(InvalidValueError, match="api_input_price=0"):
        kv_breakeven_requests(2.1, 0, 0.6, hardware="h100", context=4096)
    with pytest.raises(InvalidValueError, match="context=-1"):
        kv_breakeven_requests(2.1, 0.2, 0.6, hardware="h100", context=-1)
