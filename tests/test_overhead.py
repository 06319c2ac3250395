"""The training-compute overhead of a smaller model (de Vries 2023) and its critical size."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import brentq

from xlplan.engine.errors import InvalidTypeError, InvalidValueError
from xlplan.engine.laws import get_law
from xlplan.engine.paper.chinchilla import chinchilla_from_compute
from xlplan.engine.paper.overhead import compute_overhead, critical_size, tokens_multiplier
from xlplan.udfs import CRITICAL_SIZE, FUNCTIONS, OVERHEAD


def overhead_the_slow_way(law, k, budget):
    """Shrink the Chinchilla-optimal model of ``budget`` FLOPs to k N, solve the loss for D."""
    chin = chinchilla_from_compute(budget, law)
    small = k * chin.params

    def loss_gap(log_tokens):
        return law.loss(small, math.exp(log_tokens)) - chin.loss

    tokens = math.exp(
        brentq(
            loss_gap, math.log(chin.tokens) - 20, math.log(chin.tokens) + 60, xtol=1e-14, rtol=1e-15
        )
    )
    return small * tokens / (chin.params * chin.tokens) - 1.0


def test_de_vries_published_figures():
    # "Go smol or go home": about +100% compute at 30% of the size, +188% at 25%.
    assert compute_overhead(0.3) == pytest.approx(1.0, abs=0.06)
    assert round(compute_overhead(0.25), 2) == pytest.approx(1.88, abs=0.011)
    assert critical_size() == pytest.approx(0.097, abs=0.001)


@pytest.mark.parametrize("law", ["chinchilla", "hoffmann-unrounded", "epoch-2024", "sardana-all"])
@pytest.mark.parametrize("budget", [1e20, 1e23, 1e26])
def test_derivation_by_shrinking_the_model(law, budget):
    law = get_law(law)
    fractions = [0.15, 0.25, 0.3, 0.5, 0.8, 1.0, 2.0]
    slow = [overhead_the_slow_way(law, k, budget) for k in fractions]
    assert_allclose(compute_overhead(fractions, law), slow, rtol=1e-8, atol=1e-12)


def test_critical_size_is_where_it_becomes_infinite():
    law = get_law("chinchilla")
    k_star = critical_size(law)
    # The parameter term of k* N_c alone uses up the loss gap of the Chinchilla model.
    chin = chinchilla_from_compute(1e23, law)
    assert law.A / (k_star * chin.params) ** law.alpha == pytest.approx(
        chin.loss - law.E, rel=1e-12
    )
    just_above = compute_overhead(k_star * (1 + 1e-6), law)
    assert just_above > 1e6 and tokens_multiplier(k_star * (1 + 1e-6)) > 1e6
    assert compute_overhead(np.array([0.2, 0.3, 0.6])).tolist() == sorted(
        compute_overhead(np.array([0.2, 0.3, 0.6])).tolist(), reverse=True
    )


def test_below_critical_size_names_k_star():
    with pytest.raises(InvalidValueError, match=r"k\*=0.0973599") as error:
        compute_overhead(0.05)
    assert error.value.argument == "size_fraction"
    cell = OVERHEAD(0.05)
    assert cell.code == "#NUM!" and "k*=0.0973599" in cell.message
    assert OVERHEAD(critical_size()).code == "#NUM!"  # exactly k*: infinite
    got = compute_overhead([0.05, 0.3], on_invalid="nan")
    assert math.isnan(got[0]) and got[1] == pytest.approx(compute_overhead(0.3))


@pytest.mark.parametrize("bad", [0, -0.3, math.inf])
def test_bad_size_fraction(bad):
    with pytest.raises(InvalidValueError, match="size_fraction"):
        compute_overhead(bad)
    assert OVERHEAD(bad).code == "#NUM!" and "size_fraction=" in OVERHEAD(bad).message


def test_text_and_laws_in_excel():
    assert OVERHEAD("0.3") == pytest.approx(compute_overhead(0.3), rel=1e-15)
    assert OVERHEAD("small").code == "#VALUE!" and "'small' is text" in OVERHEAD("small")
    assert CRITICAL_SIZE("nope").code == "#VALUE!"
    assert CRITICAL_SIZE("epoch-2024") == critical_size("epoch-2024")
    coefficients = [[406.4, 410.7, 1.69, 0.336, 0.283]]
    assert OVERHEAD(0.3, coefficients) == compute_overhead(0.3)
    with pytest.raises(InvalidTypeError):
        compute_overhead("small")
    assert {"OVERHEAD", "CRITICAL_SIZE", "EPOCHS"} <= set(FUNCTIONS)
