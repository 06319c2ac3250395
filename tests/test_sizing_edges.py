"""The sizing engine at its edges (issue 18): a seeded differential test against a
brute-force minimisation in 40-digit arithmetic, and one test per edge found."""

import dataclasses
import math

import mpmath
import numpy as np
import pytest

import xlplan
from xlplan import udfs
from xlplan.engine.errors import XlplanError
from xlplan.engine.laws import EXPONENT_MAX, EXPONENT_MIN, ScalingLaw
from xlplan.engine.paper.sizing import compute_optimal, cost_optimal

FLOAT_MAX, FLOAT_TINY = 1.7e308, 2.3e-308
GOLDEN = (math.sqrt(5) - 1) / 2


def _reference(law, loss, r):
    """(N*, D*) minimising N (D + r) along L(N, D) = loss, by golden-section search
    over x = log D in 40-digit arithmetic (no calculus: only the constraint)."""
    with mpmath.workdps(40):
        A, B, E, a, b = (mpmath.mpf(v) for v in law.as_tuple())
        gap, r = mpmath.mpf(loss) - E, mpmath.mpf(r)

        def log_params(x):  # log N on the constraint: A / N**a = gap - B / D**b
            return (mpmath.log(A) - mpmath.log(gap - B * mpmath.exp(-b * x))) / a

        def cost(x):
            return log_params(x) + mpmath.log(mpmath.exp(x) + r)

        low = mpmath.log(B / gap) / b  # below this D no N reaches the loss
        high = low + mpmath.log(1 + r) + 60
        low += mpmath.mpf(10) ** -30
        for _ in range(200):  # each step keeps 0.618 of the bracket: ends below 1e-38
            left, right = high - GOLDEN * (high - low), low + GOLDEN * (high - low)
            if cost(left) < cost(right):
                high = right
            else:
                low = left
        x = (low + high) / 2
        return mpmath.exp(log_params(x)), mpmath.exp(x)


def _random_case(rng):
    law = ScalingLaw(
        10 ** rng.uniform(0, 5),
        10 ** rng.uniform(0, 5),
        rng.uniform(0.1, 3),
        rng.uniform(EXPONENT_MIN, 1.0)
        if rng.random() < 0.7
        else rng.uniform(EXPONENT_MIN, EXPONENT_MAX),
        rng.uniform(EXPONENT_MIN, 1.0)
        if rng.random() < 0.7
        else rng.uniform(EXPONENT_MIN, EXPONENT_MAX),
    )
    loss = law.E + 10 ** rng.uniform(-4, 1)
    kind = rng.random()
    demand = (
        0.0
        if kind < 0.05
        else 10 ** rng.uniform(-323, -290)
        if kind < 0.15
        else 10 ** rng.uniform(290, 307.9)
        if kind < 0.25
        else 10 ** rng.uniform(-5, 25)
    )
    return law, loss, demand


def _out_of_float_range(*values):
    return any(not (FLOAT_TINY < abs(v) < FLOAT_MAX) for v in values if v != 0)


def test_sizing_agrees_with_brute_force_or_raises_cleanly():
    rng = np.random.default_rng(18)
    agreed = errors = 0
    for case in range(300):
        law, loss, demand = _random_case(rng)
        n_ref, d_ref = _reference(law, loss, demand / 3)  # 2 N D_inf = 6 N (D_inf / 3)
        n_chin, d_chin = _reference(law, loss, 0)
        costs = (6 * n_ref * d_ref, 2 * n_ref * demand, 6 * n_chin * d_chin, 2 * n_chin * demand)
        try:
            plan = compute_optimal(loss, demand, law)
        except XlplanError:
            errors += 1
            # Only where the answer or its bill is past the float range (or the demand
            # term overflows), never for an answer a float can hold.
            assert _out_of_float_range(n_ref, d_ref, n_chin, d_chin, *costs, 2 * demand), (
                case,
                law,
                loss,
                demand,
            )
            continue
        agreed += 1
        info = (case, law, loss, demand)
        pairs = [
            (plan.optimal.params, n_ref),
            (plan.chinchilla.params, n_chin),
            (plan.chinchilla.tokens, d_chin),
            (plan.optimal.total, 6 * n_ref * d_ref + 2 * n_ref * demand),
        ]
        # D* itself is defined to 1e-12 only while the bill is not all inference: the
        # cost moves by about (dD/D)**2 D / (D + r), below 40 digits once r > 1e12 D.
        if demand / 3 < 1e12 * d_ref:
            pairs.append((plan.optimal.tokens, d_ref))
        for got, want in pairs:
            assert math.isfinite(got) and abs(got / float(want) - 1) < 1e-12, (*info, got, want)
        with mpmath.workdps(40):  # and always: the plan reaches the target loss
            n, d = mpmath.mpf(plan.optimal.params), mpmath.mpf(plan.optimal.tokens)
            reached = law.E + law.A / n**law.alpha + law.B / d**law.beta
            assert abs(reached - loss) < 1e-12 * (loss - law.E), info
        # The array path gives the same numbers to the last digit or so.
        array = compute_optimal(np.array([loss]), np.array([demand]), law)
        assert array.optimal.params[0] == pytest.approx(plan.optimal.params, rel=1e-14)
        assert array.optimal.tokens[0] == pytest.approx(plan.optimal.tokens, rel=1e-14)
    assert agreed > 250 and agreed + errors == 300


@pytest.mark.parametrize("demand", [1e-297, 1e-300, 1e-310, 1e-320, 5e-324])
def test_tiny_demand_gives_the_chinchilla_limit_exactly(demand):
    chin = xlplan.chinchilla_from_loss(2.0)
    for plan in (compute_optimal(2.0, demand), compute_optimal(np.array([2.0]), demand)):
        assert np.all(plan.optimal.tokens == chin.tokens)
        assert np.all(plan.optimal.params == chin.params)
    assert udfs.OPT_PARAMS(2.0, demand) == [[chin.params, chin.tokens]]


def test_invalid_scalar_in_nan_mode_is_nan_in_every_field_like_arrays():
    scalar = compute_optimal(2.0, -1.0, on_invalid="nan")
    array = compute_optimal(np.array([2.0, 2.0]), np.array([-1.0, 1e12]), on_invalid="nan")
    for plan, pick in ((scalar, lambda v: v), (array, lambda v: v[0])):
        for side in (plan.optimal, plan.chinchilla):
            for field in ("params", "tokens", "loss", "training", "inference"):
                assert math.isnan(pick(getattr(side, field)))
        assert not pick(plan.valid)
    assert array.valid[1] and math.isfinite(array.optimal.params[1])
    bad_loss = cost_optimal(1.0, 1e9, on_invalid="nan")  # below E
    assert math.isnan(bad_loss.optimal.params) and math.isnan(bad_loss.chinchilla.tokens)


@pytest.mark.parametrize(
    "call",
    [
        lambda d: compute_optimal(2.0, d),
        lambda d: compute_optimal(np.array([2.0, 2.0]), np.array([1e12, d])),
    ],
)
def test_overflowing_demand_raises_for_scalars_and_arrays_alike(call):
    with pytest.raises(xlplan.InvalidValueError, match=r"inference_tokens=9e\+307 is too large"):
        call(9e307)


def test_overflowing_cost_ratio_raises_for_scalars_and_arrays_alike():
    for requests in (1e306, np.array([1.0, 1e306])):
        with pytest.raises(xlplan.InvalidValueError, match=r"requests=1e\+306 is too large"):
            cost_optimal(2.0, requests, 1e5, 1e5)
    plan = compute_optimal(2.0, np.array([1e12, 9e307]), on_invalid="nan")
    assert math.isnan(plan.optimal.params[1]) and not plan.valid[1] and plan.valid[0]


@pytest.mark.parametrize(
    "alpha, beta",
    [(1e300, 0.28), (0.34, 1e300), (5.01, 0.3), (0.009, 0.3), (0.3, 0.0), (-0.3, 0.3)],
)
def test_law_exponents_outside_the_plausible_range_are_an_error(alpha, beta):
    with pytest.raises(xlplan.InvalidValueError, match=r"must be a number in \[0.01, 5\]"):
        ScalingLaw(406.4, 410.7, 1.69, alpha, beta)
    answer = udfs.OPT_PARAMS(2.0, 1e12, [406.4, 410.7, 1.69, alpha, beta])
    assert answer.code == "#NUM!" and "[0.01, 5]" in answer.message
    ScalingLaw(406.4, 410.7, 1.69, 5.0, 0.01)  # the bounds themselves are valid


# Inputs that raised a raw ZeroDivisionError or OverflowError from an Excel function
# (found by a seeded random search over extreme values); each is now #NUM!.
RAW_ARITHMETIC_ERRORS = [
    ("SCALING_LOSS", (1e-200, 1e-300, [406.4, 410.7, 1.69, 5, 5])),
    ("CHINCHILLA_OPT", (1.7, [1e300, 1e300, 1.69, 0.34, 0.28])),
    ("OPT_PARAMS", (1.7, 1e-300, [1e300, 1e300, 1.69, 0.01, 0.01])),
    ("OPT_PARAMS", (2.0, 10**400)),
    ("TOTAL_FLOPS", (1.7, 1, 10**400)),
    (
        "COST_OPT",
        (
            1e-200,
            1e-200,
            5e-324,
            1e-20,
            [1e300, 1e15, 0.5, 1e300, 1e14, 0.5, 0.01],
            [406.4, 410.7, 1e-300, 0.34, 0.28],
        ),
    ),
    (
        "COST_OPT",
        (
            1,
            1e-20,
            1e-300,
            1e300,
            [1.5, 1e-300, 1e-300, 1.1, 1e300, 1e-300, 1e-300],
            [406.4, 410.7, 1e-300, 0.34, 0.28],
        ),
    ),
    (
        "LIFETIME_COST",
        (1e100, 1e300, 1e100, 1e-20, 1e12, [1.5, 1e-300, 1e-300, 1.1, 1e300, 1e-300, 1e-300]),
    ),
    ("CHINCHILLA_MODEL", (10**400, "chinchilla")),
]


@pytest.mark.parametrize("name, args", RAW_ARITHMETIC_ERRORS)
def test_arithmetic_failures_are_num_errors_at_the_source(name, args):
    answer = getattr(udfs, name)(*args)
    assert getattr(answer, "code", None) == "#NUM!", answer


def test_scaling_loss_of_a_model_past_the_float_range_is_the_limit_not_an_error():
    # N**5 overflows for N = 9e307: the parameter term is 0 to double precision, so the
    # loss is E + B / D**beta (this raised OverflowError before).
    answer = udfs.SCALING_LOSS(9e307, 1e-20, [1e-300, 1e-300, 1e-300, 5, 0.01])
    assert answer == pytest.approx(1e-300 + 1e-300 / 1e-20**0.01, rel=1e-15)


def test_seeded_extreme_calls_never_raise_from_an_excel_function():
    values = [
        0,
        1e-310,
        5e-324,
        1e-300,
        1e-20,
        0.01,
        1,
        1.7,
        2.0,
        1e12,
        1e100,
        1e300,
        9e307,
        1.7e308,
        -1,
        math.inf,
        math.nan,
        10**400,
    ]
    laws = [
        "chinchilla",
        [406.4, 410.7, 1.69, 0.01, 0.28],
        [1e300, 1e300, 1.69, 0.34, 0.28],
        [1e-300, 1e-300, 1e-300, 5, 0.01],
        [406.4, 410.7, 1e-300, 5, 5],
    ]
    hardware = [
        "paper-a100",
        [1e-300, 1e15, 0.5, 1.1, 1e14, 0.5, 0.01],
        [1.5, 1e-300, 1e-300, 1.1, 1e300, 1e-300, 1e-300],
    ]
    rng = np.random.default_rng(7)
    pick = lambda seq: seq[rng.integers(len(seq))]  # noqa: E731
    for _ in range(1500):
        v = lambda: pick(values)  # noqa: E731
        for name, args in (
            ("SCALING_LOSS", (v(), v(), pick(laws))),
            ("CHINCHILLA_MODEL", (v(), pick(laws))),
            ("CHINCHILLA_OPT", (v(), pick(laws))),
            ("OPT_PARAMS", (v(), v(), pick(laws))),
            ("TOTAL_FLOPS", (v(), v(), v())),
            ("COST_OPT", (v(), v(), v(), v(), pick(hardware), pick(laws))),
            ("LIFETIME_COST", (v(), v(), v(), v(), v(), pick(hardware))),
        ):
            answer = getattr(udfs, name)(*args)  # raises on any escaped exception
            if isinstance(answer, list):
                assert all(math.isfinite(x) for row in answer for x in row)


def test_constants_kept_on_a_law_or_hardware_follow_that_object():
    """The scalar path keeps each law's and hardware's constants on the object: a law or
    hardware that differs in one coefficient answers as the array path does for it."""
    law = xlplan.get_law("chinchilla")
    hw = xlplan.get_hardware("h100")
    steeper = dataclasses.replace(law, beta=0.3, name="custom")
    dearer = hw.replace(inference_price_per_hour=2 * hw.inference_price_per_hour)
    answers = set()
    for each_law, each_hw in ((law, hw), (steeper, hw), (law, dearer), (law, hw)):
        one = xlplan.cost_optimal(2.1, 1e9, hardware=each_hw, law=each_law).optimal
        array = xlplan.cost_optimal([2.1], 1e9, hardware=each_hw, law=each_law).optimal
        assert one.params == pytest.approx(array.params[0], rel=4e-15, abs=0)
        assert one.total == pytest.approx(array.total[0], rel=4e-15, abs=0)
        answers.add(one.params)
    assert len(answers) == 3  # the first and last calls agree; the others differ
