"""KV-aware PV-optimal sizing and budget buys against dense brute forces along their
constraints, and today's numbers, bit for bit, with the cache switched off."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from xlplan.engine.deploy.kv_budget import kv_best_for_budget, kv_loss_at_dollars
from xlplan.engine.deploy.kv_schedule import kv_cost_optimal_pv
from xlplan.engine.deploy.kv_sizing import kv_cost_optimal, kv_request_cost
from xlplan.engine.deploy.serving import at_batch
from xlplan.engine.errors import InvalidValueError
from xlplan.engine.hardware import HARDWARE_PRESETS
from xlplan.engine.laws import get_law
from xlplan.engine.money.budget import best_for_budget, loss_at_dollars
from xlplan.engine.money.schedule import cost_optimal_pv, demand_ramp, present_value_requests


def _dense_minimum(objective, low, high):
    """Minimiser of ``objective`` over log N in [low, high]: a dense grid, then three
    denser grids around the best point."""
    for _ in range(4):
        x = np.linspace(low, high, 200_001)
        values = objective(np.exp(x))
        i = int(np.argmin(values))
        low, high = x[max(i - 2, 0)], x[min(i + 2, len(x) - 1)]
    return np.exp(x[i]), values[i]


def _budget_brute_force(dollars, requests, hardware, batch, context, law):
    """Lowest loss along D = (dollars - R c(N)) / (k_train N), c the KV-aware $ per request."""
    law, hw = get_law(law), HARDWARE_PRESETS[hardware]
    k_train = 6 * hw.train_cost_per_flop

    def loss(n):
        serving = kv_request_cost(
            n, hw, requests, 70.0, 215.0, batch, context, hw.bytes_per_weight, 1.0
        )
        tokens = (dollars - serving) / (k_train * n)
        with np.errstate(invalid="ignore"):
            return np.where(tokens > 0, law.loss(n, np.where(tokens > 0, tokens, 1.0)), np.inf)

    return _dense_minimum(loss, np.log(1e3), np.log(1e15))


BUDGETS = [
    (5e6, 2e11, "h100", 32, 8192, "chinchilla"),
    (1e9, 1e12, "h100", 256, 512, "chinchilla"),
    (1e8, 1e10, "paper-a100", 1, 4096, "epoch-2024"),
    (3e7, 5e11, "a100-80gb", 8, 32768, "chinchilla"),
    (2e5, 1e12, "h200", 64, 16384, "epoch-2024"),  # serving takes nearly all of it
    (1e4, 1e8, "h100", 32, 2048, "chinchilla"),  # near the shape rule's kink (1.2e8 params)
]


@pytest.mark.parametrize("dollars, requests, hardware, batch, context, law", BUDGETS)
def test_budget_optimum_matches_a_dense_brute_force(
    dollars, requests, hardware, batch, context, law
):
    plan = kv_best_for_budget(
        dollars, requests, hardware=hardware, law=law, batch=batch, context=context
    )
    n, loss = _budget_brute_force(dollars, requests, hardware, batch, context, law)
    assert_allclose(plan.params, n, rtol=1e-6)
    assert plan.loss <= loss * (1 + 1e-15)
    assert_allclose(plan.loss, loss, rtol=1e-14)
    # the plan spends the budget, and its loss is the law's at its sizes
    assert_allclose(plan.best.training + plan.best.inference, dollars, rtol=1e-12)
    assert_allclose(plan.loss, get_law(law).loss(plan.params, plan.tokens), rtol=1e-15)
    hw = HARDWARE_PRESETS[hardware]
    serving = kv_request_cost(
        plan.params, hw, requests, 70.0, 215.0, batch, context, hw.bytes_per_weight, 1.0
    )
    assert_allclose(plan.best.inference, serving, rtol=1e-15)
    assert kv_loss_at_dollars(
        plan.params, dollars, requests, hardware=hardware, law=law, batch=batch, context=context
    ) == pytest.approx(plan.loss, rel=1e-15)


def test_budget_arrays_equal_one_scenario_at_a_time():
    rng = np.random.default_rng(7)
    dollars, requests = 10 ** rng.uniform(4, 9, 40), 10 ** rng.uniform(6, 12, 40)
    context = rng.choice([0.0, 512.0, 8192.0, 65536.0], 40)
    plan = kv_best_for_budget(dollars, requests, hardware="h100", batch=16, context=context)
    for i in range(40):
        one = kv_best_for_budget(
            dollars[i], requests[i], hardware="h100", batch=16, context=context[i]
        )
        assert isinstance(one.params, float) and isinstance(one.iterations, int)
        # golden section runs until every bracket of the call is narrow: within its tolerance
        assert_allclose(plan.params[i], one.params, rtol=1e-8)
        assert_allclose(plan.loss[i], one.loss, rtol=1e-15)
        if context[i] == 0:  # the closed form's array and scalar paths
            assert_allclose(plan.params[i], one.params, rtol=1e-14)


def test_budget_with_the_cache_off_is_best_for_budget_bit_for_bit():
    hw = at_batch("h100", 32)
    for dollars, requests in [(5e6, 2e11), (1e9, 0.0), (2e5, 1e12)]:
        assert kv_best_for_budget(
            dollars, requests, hardware="h100", batch=32, context=0
        ) == best_for_budget(dollars, requests, hardware=hw)
    dollars, requests = np.array([1e5, 5e6, 1e9]), np.array([1e12, 2e11, 1e9])
    plan = kv_best_for_budget(dollars, requests, hardware="h100", batch=32, context=0)
    today = best_for_budget(dollars, requests, hardware=hw)
    for field in ("params", "tokens", "loss", "training", "inference"):
        assert_array_equal(getattr(plan.best, field), getattr(today.best, field))
    # elements without the cache in a mixed call, and with no demand: today's too
    mixed = kv_best_for_budget(
        dollars, [1e12, 0.0, 1e9], hardware="h100", batch=32, context=[0.0, 4096.0, 0.0]
    )
    today = best_for_budget(dollars, [1e12, 0.0, 1e9], hardware=hw)
    assert_array_equal(mixed.params, today.params)
    assert_array_equal(mixed.loss, today.loss)
    assert kv_loss_at_dollars(
        2e10, 5e6, 2e11, hardware="h100", batch=32, context=0
    ) == loss_at_dollars(2e10, 5e6, 2e11, hardware=hw)


def test_budget_bigger_buys_lower_loss_and_more_context_never_lower():
    dollars = np.logspace(4, 10, 61)
    plan = kv_best_for_budget(dollars, 1e11, hardware="h100", batch=32, context=8192)
    assert np.all(np.diff(plan.loss) < 0)
    contexts = np.linspace(0.0, 131072.0, 129)
    for hardware, batch in [("h100", 32), ("h100", 256), ("paper-a100", 1)]:
        loss = kv_best_for_budget(2e7, 1e11, hardware=hardware, batch=batch, context=contexts).loss
        # more context costs at least as much per request: the feasible set shrinks
        assert np.all(np.diff(loss) >= -2e-16 * loss[1:])


def test_loss_at_dollars_names_the_largest_model_the_budget_serves():
    args = dict(hardware="h100", batch=32, context=8192)
    with pytest.raises(InvalidValueError, match=r"params=2e\+10 .* < 5\.84453e\+09") as caught:
        kv_loss_at_dollars(2e10, 5e6, 2e11, **args)
    assert caught.value.argument == "params"
    n_max = 5.84453e9
    assert np.isfinite(kv_loss_at_dollars(n_max * (1 - 1e-5), 5e6, 2e11, **args))
    with pytest.raises(InvalidValueError):
        kv_loss_at_dollars(n_max * (1 + 1e-5), 5e6, 2e11, **args)
    with pytest.raises(InvalidValueError, match=r"first at \(1,\)"):
        kv_loss_at_dollars([4e9, 2e10], 5e6, 2e11, **args)


def _pv_brute_force(loss, r_pv, hardware, batch, context):
    """Cheapest N along the loss constraint for R = R_pv (the lump-sum cost)."""
    law, hw = get_law("chinchilla"), HARDWARE_PRESETS[hardware]
    gap = loss - law.E
    n_min = (law.A / gap) ** (1 / law.alpha)

    def cost(n):
        with np.errstate(invalid="ignore"):
            tokens = (law.B / (gap - law.A / n**law.alpha)) ** (1 / law.beta)
        inference = kv_request_cost(
            n, hw, r_pv, 70.0, 215.0, batch, context, hw.bytes_per_weight, 1.0
        )
        return 6 * hw.train_cost_per_flop * n * tokens + inference

    return _dense_minimum(cost, np.log(n_min) + 1e-12, np.log(n_min) + 5.0)


@pytest.mark.parametrize(
    "loss, months, rates, hardware, batch, context",
    [
        (2.1, [1e9] * 36, (0.1, -0.25), "h100", 32, 8192),
        (2.05, [1e8] * 24, (0.0, 0.0), "paper-a100", 2, 4096),
        (1.96, "ramp", (0.08, -0.3), "h100", 8, 32768),
        (2.3, [5e10] * 12, (0.2, 0.1), "a100-80gb", 64, 2048),
    ],
)
def test_pv_optimum_matches_a_dense_brute_force(loss, months, rates, hardware, batch, context):
    if months == "ramp":
        months = demand_ramp(1e7, 0.3, 48, 1e10)
    plan = kv_cost_optimal_pv(loss, months, *rates, hardware=hardware, batch=batch, context=context)
    r_pv = present_value_requests(months, *rates)
    n, cost = _pv_brute_force(loss, r_pv, hardware, batch, context)
    assert_allclose(plan.optimal.params, n, rtol=1e-6)
    assert plan.optimal.total <= cost * (1 + 1e-12)
    # the present value of serving, month by month, is R_pv c(N): the reduction is exact
    hw = HARDWARE_PRESETS[hardware]
    weights = np.power(1 + rates[1], np.arange(len(months)) / 12) * np.power(
        1 + rates[0], -np.arange(1, len(months) + 1) / 12
    )
    one = kv_request_cost(
        plan.optimal.params, hw, 1.0, 70.0, 215.0, batch, context, hw.bytes_per_weight, 1.0
    )
    assert_allclose(plan.optimal.inference, np.sum(np.asarray(months) * weights) * one, rtol=1e-12)
    lump = kv_cost_optimal(loss, r_pv, hardware=hardware, batch=batch, context=context)
    _same(plan, lump)


def test_pv_with_the_cache_off_is_cost_optimal_pv_bit_for_bit():
    hw = at_batch("h100", 32)
    for months in ([1e9] * 36, [[1e8] * 12, [3e9] * 12], demand_ramp(1e6, 0.2, 60)):
        for rates in ((0.0, 0.0), (0.1, -0.25)):
            kv = kv_cost_optimal_pv(2.1, months, *rates, hardware="h100", batch=32, context=0)
            _same(kv, cost_optimal_pv(2.1, months, *rates, hardware=hw))
    # zero rates: the lump-sum function at the schedule's total
    _same(
        kv_cost_optimal_pv(2.1, [1e9] * 36, hardware="h100", batch=32, context=8192),
        kv_cost_optimal(2.1, 3.6e10, hardware="h100", batch=32, context=8192),
    )


def _same(plan, other):
    """Two OptimalPlans equal bit for bit, field by field (floats or arrays)."""
    for side in ("optimal", "chinchilla"):
        for field in ("params", "tokens", "loss", "training", "inference"):
            assert_array_equal(
                getattr(getattr(plan, side), field), getattr(getattr(other, side), field)
            )
    assert_array_equal(plan.iterations, other.iterations)


def test_pv_more_context_never_a_larger_model_while_decode_reads_memory():
    contexts = np.linspace(0.0, 65536.0, 129)
    for hardware, batch in [("h100", 1), ("h100", 32), ("paper-a100", 8), ("h200", 64)]:
        for requests in (1e7, 1e9, 1e10):
            n = kv_cost_optimal_pv(
                2.1, [requests] * 36, 0.1, -0.25, hardware=hardware, batch=batch, context=contexts
            ).optimal.params
            assert np.all(np.diff(n) <= 0), (hardware, batch, requests)


def test_pv_more_context_can_grow_the_model_where_decode_was_compute_bound():
    # At batch 256 an H100 decodes compute-bound without the cache; once the cache makes
    # decode memory-bound at the optimum, $ per request grows as b N + B C k(N), more slowly
    # in N than the compute-bound N / cap (k(N) / N falls), so the optimum moves up.
    hw = HARDWARE_PRESETS["h100"]
    assert at_batch(hw, 256).decode_mfu == hw.prefill_mfu
    n = kv_cost_optimal_pv(
        2.1, [1e9] * 36, 0.1, -0.25, hardware=hw, batch=256, context=[0.0, 256.0, 4096.0]
    ).optimal.params
    assert n[1] > n[0] * 1.05 and n[2] < n[0]  # up 5.5% at 256 tokens, then down


def test_excel_functions_are_the_engines_and_context_zero_is_todays():
    from xlplan import udfs
    from xlplan.excel.cell_error import CellError

    months = [[1e9] * 36]
    plan = kv_cost_optimal_pv(2.1, months[0], 0.1, -0.25, hardware="h100", batch=32, context=8192)
    assert udfs.COST_OPT_PV_KV(2.1, months, 8192, 0.1, -0.25, None, None, "h100", 32) == [
        [plan.optimal.params, plan.optimal.tokens]
    ]
    buys = kv_best_for_budget(5e6, 2e11, hardware="h100", batch=32, context=8192)
    assert udfs.BEST_FOR_BUDGET_KV(5e6, 2e11, 8192, None, None, "h100", 32) == [
        [buys.params, buys.tokens, buys.loss]
    ]
    batch32 = udfs.XLPLAN_HARDWARE("h100", True)
    batch32[0][6] = udfs.SERVING(7e9, "h100", 32)[0][0]  # decode MFU of the roofline at 32
    assert udfs.COST_OPT_PV_KV(
        2.1, months, 0, 0.1, -0.25, None, None, "h100", 32
    ) == udfs.COST_OPT_PV(2.1, months, 0.1, -0.25, None, None, batch32)
    assert udfs.BEST_FOR_BUDGET_KV(5e6, 2e11, 0, None, None, "h100", 32) == udfs.BEST_FOR_BUDGET(
        5e6, 2e11, None, None, batch32
    )
    cell = udfs.BEST_FOR_BUDGET_KV(-5, -1, -3, None, None, "no-such-gpu", 0.5)
    assert isinstance(cell, CellError) and cell.code == "#NUM!"
    for text in ("dollars=-5", "requests=-1", "context=-3", "batch=0.5", "no-such-gpu"):
        assert text in cell.message
    cell = udfs.COST_OPT_PV_KV(1.5, [[1e8], ["lots"]], 4096)
    assert (
        isinstance(cell, CellError)
        and cell.code == "#VALUE!"
        and "requests_by_month" in cell.message
    )
    cell = udfs.COST_OPT_PV_KV(2.1, [[1e8]], 4096, -0.01, None, None, None, "paper-a100")
    assert cell.code == "#NUM!" and "discount_rate=-0.01" in cell.message


def test_no_prompt_has_no_prefill_cost():
    # input_tokens = 0: no prefill step (its roofline MFU would be 0 and 0 / 0 NaN)
    hw = HARDWARE_PRESETS["h100"]
    both = kv_request_cost(5e9, hw, 1.0, 70.0, 215.0, 32, 4096, 1.0, 1.0)
    output_only = kv_request_cost(5e9, hw, 1.0, 0.0, 215.0, 32, 4096, 1.0, 1.0)
    input_only = kv_request_cost(5e9, hw, 1.0, 70.0, 0.0, 32, 4096, 1.0, 1.0)
    assert_allclose(output_only + input_only, both, rtol=1e-15)
    plan = kv_best_for_budget(1e7, 1e11, 0.0, hardware="h100", batch=32, context=4096)
    with_prompt = kv_best_for_budget(1e7, 1e11, hardware="h100", batch=32, context=4096)
    assert np.isfinite(plan.loss) and plan.loss < with_prompt.loss
