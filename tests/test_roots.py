"""The engine's one root-finder on equations with known roots, and break-even near the floor.

Checks: residual at the root, the converged flag, exact step counts where they follow
from the arithmetic, array equals the per-element scalar loop, an unconverged result
that says so (and raises through :func:`roots.check`), NaN elements."""

import math
from functools import partial

import numpy as np
import pytest
from numpy.testing import assert_allclose

from xlplan.engine import roots
from xlplan.engine.errors import ConvergenceError
from xlplan.engine.money import breakeven
from xlplan.engine.money.breakeven import breakeven_requests
from xlplan.engine.paper.sizing import cost_optimal, lifetime_cost

EPS = 2.0**-52


def _cubic(x, m):
    """x**3 + x - m and its derivatives: increasing, one real root, written with + * only."""
    return x * x * x + x - m, 3.0 * x * x + 1.0, 6.0 * x


def _brackets_root(x, m):
    """f changes sign within 4 ulps of x: x is the root to the last bits."""
    step = 4 * EPS * np.maximum(1.0, np.abs(x))
    return np.all(_cubic(x - step, m)[0] < 0) and np.all(_cubic(x + step, m)[0] > 0)


# Dyadic roots x, so m = x**3 + x is exact and the root is x itself.
def _one(value):
    return np.array([value], dtype=np.float64)


# A fixed bracket (shrink=False) suits a convex f: there the bracket is kept to x >= 0.
@pytest.mark.parametrize(
    "root, shrink",
    [
        (-3.0, True),
        (-0.5, True),
        (0.75, True),
        (2.0, True),
        (10.25, True),
        (1000.5, True),
        (0.75, False),
        (10.25, False),
        (1000.5, False),
    ],
)
def test_halley_finds_the_cubic_root(root, shrink):
    m = root * root * root + root
    low, high = -abs(m) - 1.0, abs(m) + 1.0  # |root| <= |m| since |x**3 + x| >= |x|
    low = low if shrink else 0.0
    found = roots.halley(
        _cubic,
        _one(high),
        _one(low),
        _one(high),
        (_one(m),),
        shrink=shrink,
        rtol=roots.STEP_TOLERANCE,
    )
    assert found.converged.tolist() == [True] and found.flag.tolist() == ["converged"]
    assert_allclose(found.root, root, rtol=2 * EPS)
    assert abs(_cubic(found.root, m)[0][0]) <= 4 * EPS * max(1.0, abs(m))  # residual
    assert low <= found.low[0] <= found.root[0] <= found.high[0] <= high
    assert 1 <= found.iterations[0] < roots.MAX_ITERATIONS


def _softplus(x):
    """log(1 + e**x) without overflow, written apart from the kernel's."""
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


# (p, q): the sizing equation for beta = 0.28 and the budget one for alpha 0.34, beta 0.28
@pytest.mark.parametrize("p, q, shrink", [(0.28, 1.0, False), (1.28, -0.66, True)])
@pytest.mark.parametrize("root", [-40.0, -3.5, -0.25, 0.0, 1.5, 30.0])
def test_scalar_kernel_finds_softplus_roots(p, q, shrink, root):
    m = p * root + q * _softplus(root)
    low, high = root - 2.0, root + 1.0
    found = roots.softplus_root(
        m, p, q, high, low, high, shrink=shrink, rtol=roots.STEP_TOLERANCE, ftol=1e-300
    )
    assert found.converged is True and found.flag == "converged"
    assert isinstance(found.root, float) and isinstance(found.iterations, int)
    assert 1 <= found.iterations <= 6
    assert_allclose(found.root, root, rtol=4 * EPS, atol=4 * EPS)
    step = 8 * EPS * max(1.0, abs(root))  # the residual changes sign across it
    assert p * (found.root - step) + q * _softplus(found.root - step) < m
    assert p * (found.root + step) + q * _softplus(found.root + step) > m


def _linear(x, m):
    return 2.0 * x - m, np.full(x.shape, 2.0), None  # Newton


def test_exact_step_counts():
    # Newton on a line lands on the root (exactly representable) in one step ...
    found = roots.halley(
        _linear, _one(10.0), _one(-10.0), _one(10.0), (_one(3.0),), shrink=True, ftol=1e-300
    )
    assert (found.root[0], found.iterations[0]) == (1.5, 1)
    one = roots.softplus_root(3.0, 2.0, 0.0, 10.0, -10.0, 10.0, shrink=True, ftol=1e-300)
    assert (one.root, one.iterations) == (1.5, 1)  # q = 0: the same line
    # ... and without a residual test the zero step taken there ends it: a second step.
    found = roots.halley(_linear, _one(10.0), _one(-10.0), _one(10.0), (_one(3.0),), shrink=True)
    assert (found.root[0], found.iterations[0]) == (1.5, 2)
    one = roots.softplus_root(3.0, 2.0, 0.0, 10.0, -10.0, 10.0, shrink=True)
    assert (one.root, one.iterations) == (1.5, 2)
    # A step that always leaves the bracket is a bisection: from [0, 1] the bracket
    # after j steps is 2**-j wide, so xtol = 2**-10 stops at the 11th evaluation.
    found = roots.halley(
        lambda x: (x - 0.3, np.full(x.shape, 1e-9), None),
        _one(0.5),
        _one(0.0),
        _one(1.0),
        shrink=True,
        xtol=2.0**-10,
    )
    assert found.iterations.tolist() == [11]
    assert found.high[0] - found.low[0] == 2.0**-11 and found.low[0] <= 0.3 <= found.high[0]


@pytest.mark.parametrize("shrink, sweeps", [(True, 1), (True, 4), (False, 3)])
def test_array_equals_the_per_element_loop(shrink, sweeps):
    rng = np.random.default_rng(7)
    m = np.concatenate([rng.normal(0, 5, 200), 10 ** rng.uniform(-3, 6, 200)])
    low, high = -np.abs(m) - 1.0, np.abs(m) + 1.0
    if not shrink:  # a fixed bracket suits a convex f only: keep x >= 0 (roots > 0)
        m, low = np.abs(m), np.zeros(m.shape)
    options = {"shrink": shrink, "rtol": roots.STEP_TOLERANCE, "ftol": 1e-300, "sweeps": sweeps}
    array = roots.halley(_cubic, high, low, high, (m,), **options)
    for i in range(m.size):
        one = roots.halley(
            _cubic, high[i : i + 1], low[i : i + 1], high[i : i + 1], (m[i : i + 1],), **options
        )
        assert array.root[i] == one.root[0] and array.iterations[i] == one.iterations[0], i
    assert array.converged.all() and set(array.flag) == {"converged"}
    assert _brackets_root(array.root, m)


@pytest.mark.parametrize("p, q, shrink", [(0.28, 1.0, False), (1.28, -0.66, True)])
def test_softplus_array_path_equals_the_scalar_kernel(p, q, shrink):
    rng = np.random.default_rng(3)
    m = rng.uniform(-40, 40, 500)

    # the bracket from max(x, 0) <= log(1 + e**x) <= max(x, 0) + log 2, inverting the
    # increasing p x + q max(x, 0) piece by piece
    def inverse(v):
        return np.where(v > 0, v / (p + q), v / p)

    low, high = inverse(m - max(q, 0) * math.log(2)), inverse(m - min(q, 0) * math.log(2))
    options = {"shrink": shrink, "rtol": roots.STEP_TOLERANCE, "ftol": 1e-300}
    array = roots.halley(partial(roots.softplus_terms, p=p, q=q), high, low, high, (m,), **options)
    assert array.converged.all()
    for i in range(m.size):
        one = roots.softplus_root(m[i], p, q, high[i], low[i], high[i], **options)
        assert_allclose(array.root[i], one.root, rtol=4 * EPS, atol=4 * EPS)
        assert array.iterations[i] == one.iterations


def test_too_few_iterations_say_so_and_raise():
    m = np.array([2.0, 1e3, 5.0])
    low, high = -np.abs(m) - 1.0, np.abs(m) + 1.0
    scalar = roots.softplus_root(
        30.0, 0.28, 1.0, 50.0, -50.0, 50.0, shrink=True, rtol=roots.STEP_TOLERANCE, max_iterations=1
    )
    assert scalar.converged is False and scalar.flag == "max-iterations"
    assert scalar.iterations == 1 and scalar.low <= 30.0 / 1.28 <= scalar.high
    with pytest.raises(ConvergenceError, match=r"did not converge in 1 iterations \(last x"):
        roots.check(scalar, "softplus", "x")
    array = roots.halley(
        _cubic, high, low, high, (m,), shrink=True, rtol=roots.STEP_TOLERANCE, max_iterations=2
    )
    assert not array.converged.any() and array.flag.tolist() == ["max-iterations"] * 3
    assert np.all(_cubic(array.low, m)[0] <= 0) and np.all(_cubic(array.high, m)[0] >= 0)
    with pytest.raises(ConvergenceError, match="in 2 iterations for 3 element"):
        roots.check(array, "cubic", "x")
    enough = roots.halley(_cubic, high, low, high, (m,), shrink=True, rtol=roots.STEP_TOLERANCE)
    assert roots.check(enough, "cubic", "x") is enough


def test_nan_elements_stop_with_their_own_flag():
    m = np.array([2.0, np.nan, 5.0])
    low, high = np.array([-3.0, -3.0, -6.0]), np.array([3.0, 3.0, 6.0])
    found = roots.halley(_cubic, high, low, high, (m,), shrink=True, rtol=1e-12)
    assert found.flag.tolist() == ["converged", "nan", "converged"]
    assert found.converged.tolist() == [True, False, True] and math.isnan(found.root[1])
    assert roots.check(found, "cubic", "x") is found  # NaN in, NaN out: not a failure
    for shrink in (True, False):
        one = roots.softplus_root(math.nan, 0.28, 1.0, 3.0, -3.0, 3.0, shrink=shrink)
        assert one.flag == "nan" and math.isnan(one.root) and one.iterations == 0
        assert roots.check(one, "softplus", "x") is one


def test_illinois_without_a_derivative():
    m = np.array([2.0, 1e3, -7.0, 0.0])
    low, high = -np.abs(m) - 1.0, np.abs(m) + 1.0

    def f(x, m):
        return _cubic(x, m)[0]

    found = roots.illinois(f, low, high, f(low, m), f(high, m), (m,), xtol=1e-12)
    assert found.converged.all() and (found.high - found.low <= 1e-12).all()
    assert np.all(f(found.low, m) <= 0) and np.all(f(found.high, m) >= 0)  # a bracket
    assert ((found.low <= found.root) & (found.root <= found.high)).all()
    short = roots.illinois(f, low, high, f(low, m), f(high, m), (m,), xtol=1e-12, max_iterations=2)
    assert short.flag.tolist()[:2] == ["max-iterations"] * 2
    with pytest.raises(ConvergenceError, match="did not converge in 2 iterations"):
        roots.check(short, "cubic", "x")


# Break-even just above the API floor: a R - C*(R) is a difference of nearly equal
# numbers there, and the iteration must still end, on a root of f as computed.
LOSS, HARDWARE = 2.1, "h100"


def _floor():
    return breakeven_requests(LOSS, 1e-9, 1e-9, hardware=HARDWARE).floor_cost_per_request


def _assert_root(requests, api_cost):
    """f(R) = a R - C*(R) changes sign across R, within the precision f allows.

    C* and N* come from cost_optimal, c from lifetime_cost; f is computed no better
    than a few ulps of a R, so its root is known to about eps kappa relative, with
    kappa = a / (a - N* c) the condition number; the bracket is 1e-9 or 1024 eps kappa.
    Beyond kappa ~ 4e9 (prices within ~1e-9 of the floor) even a 1e-3 bracket is
    inside f's rounding noise: there only the answer's existence is checked.
    """
    per_param = lifetime_cost(1.0, 1.0, 1.0, hardware=HARDWARE).inference
    params = cost_optimal(LOSS, requests, hardware=HARDWARE).optimal.params
    kappa = api_cost / (api_cost - params * per_param)
    width = max(1e-9, 1024 * EPS * kappa)

    def f(r):
        return api_cost * r - cost_optimal(LOSS, r, hardware=HARDWARE).optimal.total

    if width <= 1e-3:
        assert f(requests * (1 - width)) < 0 < f(requests * (1 + width)), (requests, kappa)
    return kappa


def test_breakeven_near_the_floor_always_answers_with_a_root():
    floor = _floor()
    margins = np.concatenate([[1e-12], np.logspace(-12, math.log10(0.05), 97)[1:]])
    prices = floor * (1 + margins) * 1e6 / 285  # 70 + 215 tokens at one price
    batch = breakeven_requests(LOSS, prices, prices, hardware=HARDWARE)
    assert np.all(np.isfinite(batch.requests)) and np.all(batch.requests > 0)
    assert np.all(np.diff(batch.requests) < 0)  # a dearer API breaks even sooner
    kappas = []
    for price, requests, api_cost in zip(
        prices, batch.requests, batch.api_cost_per_request, strict=True
    ):
        one = breakeven_requests(LOSS, float(price), float(price), hardware=HARDWARE)
        assert one.requests == requests  # array equals the per-element loop
        kappas.append(_assert_root(requests, api_cost))
    # so from 0.2% above the floor up, every answer was checked within 1e-9
    assert all(1024 * EPS * k <= 1e-9 for k, m in zip(kappas, margins, strict=True) if m >= 2e-3)


def test_breakeven_reported_case_and_the_last_bits_of_its_price():
    """0.1% above the floor: each of 41 neighbouring prices answers, all within 1e-9."""
    price = 0.04674516722913936
    answers = []
    for ulps in range(-20, 21):
        nudged = price
        for _ in range(abs(ulps)):
            nudged = math.nextafter(nudged, math.copysign(math.inf, ulps))
        result = breakeven_requests(LOSS, 1e-9, nudged, hardware=HARDWARE)
        assert math.isfinite(result.requests)
        answers.append(result.requests)
        if ulps == 0:
            assert_allclose(result.requests, 4.59083e23, rtol=1e-5)
            assert _assert_root(result.requests, result.api_cost_per_request) < 5000
    assert_allclose(answers, answers[20], rtol=1e-9)


def test_breakeven_out_of_iterations_is_loud(monkeypatch):
    assert breakeven_requests(LOSS, 0.2, 0.6, hardware=HARDWARE).iterations > 1
    monkeypatch.setattr(breakeven, "MAX_ITERATIONS", 1)
    with pytest.raises(ConvergenceError, match=r"in 1 iterations .*last value \(requests\)"):
        breakeven_requests(LOSS, 0.2, 0.6, hardware=HARDWARE)
