"""Break-even's scalar path: one float per argument answers as a one-element array does."""

import math

import numpy as np
import pytest

from xlplan.engine.laws import get_law
from xlplan.engine.money import breakeven
from xlplan.engine.money.breakeven import breakeven_requests

# (loss, hardware, law): the floor moves with each, so prices are set from it below.
SETTINGS = [
    (2.1, "h100", "chinchilla"),
    (1.95, "paper-a100", "chinchilla"),
    (2.6, "a100-40gb", "epoch-2024"),
    (2.3, "paper-a100-table3", "sardana-all"),
    (1.75, "h200", "hoffmann-unrounded"),
]
# API price over the floor: from the scalar path's lowest, SCALAR_FLOOR_MULTIPLE, up.
MULTIPLES = [2.0, 2.5, 4.0, 10.0, 100.0, 1e4, 1e7]


def _floor(loss, hardware, law):
    return breakeven_requests(loss, 1e-9, 1e-9, hardware=hardware, law=law).floor_cost_per_request


@pytest.mark.parametrize("loss, hardware, law", SETTINGS)
def test_one_float_per_argument_equals_a_one_element_array(loss, hardware, law):
    prices = _floor(loss, hardware, law) * np.array(MULTIPLES) * 1e6 / 285  # 70 + 215 tokens
    for price, d_out in ((p, d) for p in prices for d in (215.0, 1.0)):
        one = breakeven_requests(loss, float(price), float(price), 70.0, d_out, hardware, law)
        array = breakeven_requests([loss], float(price), float(price), 70.0, d_out, hardware, law)
        assert isinstance(one.requests, float) and isinstance(one.iterations, int)
        for scalar, element in (
            (one.requests, array.requests[0]),
            (one.api_cost_per_request, array.api_cost_per_request[0]),
            (one.floor_cost_per_request, array.floor_cost_per_request[0]),
        ):
            assert scalar == pytest.approx(element, rel=1e-12, abs=0)
        assert one.requests < math.inf and one.crosses


def test_near_the_floor_a_cell_keeps_the_array_arithmetic():
    floor = _floor(2.1, "h100", "chinchilla")
    below = breakeven.SCALAR_FLOOR_MULTIPLE * (1 - 1e-9)
    for multiple in (1 + 1e-12, 1.01, below, 0.5):
        price = floor * multiple * 1e6 / 285
        one = breakeven_requests(2.1, price, price, hardware="h100")
        array = breakeven_requests([2.1], price, price, hardware="h100")
        assert one.requests == array.requests[0]  # bit for bit, inf below the floor
        assert one.floor_cost_per_request == array.floor_cost_per_request[0]


def test_past_the_float_range_a_cell_answers_as_the_array_path():
    law = get_law([406.4, 410.7, 1.69, 0.01, 0.283])  # N_min = (A / gap)**100 overflows
    with pytest.warns(RuntimeWarning, match="overflow"):
        one = breakeven_requests(1.7, 0.5, 1.5, law=law)
    assert one.requests == math.inf and one.floor_cost_per_request == math.inf


def test_the_optimum_is_explicit_in_the_solvers_log_ratio():
    """What the cell's Newton iterates on: from the root s of a sizing solve, r, D* and N*
    come back (r to rounding, N* and D* below 1 bit for bit), and log r - log D* is
    s - log(k_factor), the identity that makes break-even h(s) free of any solve."""
    from xlplan.engine.paper import solver

    rng = np.random.default_rng(5)
    for name in ("chinchilla", "sardana-100", "hoffmann-unrounded"):
        law = get_law(name)
        k_factor = law.beta / (law.alpha + law.beta)
        gaps, ratios = 10 ** rng.uniform(-2, 0.5, 100), 10 ** rng.uniform(-3, 16, 100)
        for gap, r in zip(gaps, ratios, strict=True):
            gap, r = float(gap), float(r)
            s = solver.scalar_root(law, gap, r)
            solved = solver.solve_tokens(law, gap, r)
            r_back, tokens, params, _ = solver.optimum_of_root(law, gap, s)
            assert r_back == pytest.approx(r, rel=1e-13)
            assert params == solved.params and solver.params_of_root(law, gap, s)[1] == params
            assert tokens == pytest.approx(solved.tokens, rel=1e-13)
            if math.exp(s) < 1:
                assert tokens == solved.tokens
            identity = math.log(r_back) - math.log(tokens) - (s - math.log(k_factor))
            assert abs(identity) < 1e-13 * max(1.0, abs(s), abs(math.log(tokens)))
