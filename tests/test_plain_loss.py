"""L(N, D) has one home, ScalingLaw.plain_loss: checked loss() and every engine caller use it."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from xlplan.engine.errors import InvalidValueError
from xlplan.engine.laws import LAW_PRESETS, ScalingLaw, get_law
from xlplan.engine.money.budget import best_for_flops
from xlplan.engine.paper.chinchilla import chinchilla_from_compute
from xlplan.engine.scalars import plain

SIZES = [(1e8, 2e9), (7e9, 1.4e11), (7e10, 1.4e12), (1e12, 3e13)]


@pytest.mark.parametrize("name", list(LAW_PRESETS))
def test_plain_loss_is_the_law_by_hand(name):
    law = get_law(name)
    for n, d in SIZES:
        by_hand = _by_hand(law, n, d)
        value = law.plain_loss(n, d)
        assert isinstance(value, float)
        assert value == pytest.approx(by_hand, rel=1e-14)
        assert law.loss(n, d) == value


def test_arrays_broadcast_and_equal_the_scalar_calls_bit_for_bit():
    law = get_law("epoch-2024")
    n = np.geomspace(1e7, 1e13, 61)[:, None]
    d = np.geomspace(1e9, 1e15, 7)[None, :]
    grid = law.plain_loss(n, d)
    assert grid.shape == (61, 7)
    loop = [[law.plain_loss(float(a), float(b)) for b in d[0]] for a in n[:, 0]]
    assert np.array_equal(grid, np.array(loop))


def test_plain_loss_does_not_check_but_loss_does():
    law = get_law()
    assert math.isnan(law.plain_loss(math.nan, 1e12))
    with pytest.raises(InvalidValueError, match="params"):
        law.loss(-1.0, 1e12)


def test_sizes_past_the_float_range_give_inf_not_an_exception():
    steep = ScalingLaw(400.0, 400.0, 1.7, 5.0, 5.0, "steep")
    assert steep.plain_loss(1e-70, 1e12) == math.inf  # (1e-70)**5 underflows to 0
    assert steep.plain_loss(1e12, 1e-70) == math.inf
    assert steep.plain_loss(1e300, 1e300) == 1.7  # both terms underflow: E


def _by_hand(law, n, d):
    return law.E + law.A / math.pow(n, law.alpha) + law.B / math.pow(d, law.beta)


def test_callers_report_the_loss_of_their_own_sizes():
    law = get_law("sardana-all")
    model = chinchilla_from_compute(np.array([1e21, 1e23]), law)
    assert_allclose(
        model.loss,
        [_by_hand(law, n, d) for n, d in zip(model.params, model.tokens, strict=True)],
        rtol=1e-14,
    )
    best = best_for_flops(1e23, 1e13, law).best
    assert best.loss == pytest.approx(_by_hand(law, best.params, best.tokens), rel=1e-14)


def test_plain_gives_floats_for_zero_dimensional_results_only():
    assert type(plain(np.float64(2.5))) is float
    assert type(plain(np.array(1.0))) is float
    assert type(plain(np.array([1.0]))) is np.ndarray
