"""Serving with the KV cache: context 0 is today's roofline bit for bit; step times and the
latency-limited batch against brute force."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from xlplan.engine.deploy import serving
from xlplan.engine.deploy.kvcache import kv_gpus_needed, kv_serving
from xlplan.engine.deploy.latency import max_batch
from xlplan.engine.deploy.shape import SHAPE_PRESETS, kv_bytes_for_params
from xlplan.engine.errors import InvalidTypeError, InvalidValueError
from xlplan.engine.hardware import HARDWARE_PRESETS

SERVING_PRESETS = ["paper-a100", "a100-40gb", "a100-80gb", "h100", "h200"]
PARAMS = np.array([1.3e8, 1e9, 7e9, 3e10, 7e10, 4e11])


@pytest.mark.parametrize("name", SERVING_PRESETS)
@pytest.mark.parametrize("batch", [1, 2, 7, 64, 4096])
@pytest.mark.parametrize("u", [1.0, 0.63])
def test_context_zero_is_todays_serving_bit_for_bit(name, batch, u):
    hw = serving.at_batch(name, batch, u)
    today = serving.throughput(PARAMS, hw)
    kv = kv_serving(PARAMS, name, batch, 0.0, bandwidth_utilisation=u)
    assert_array_equal(kv.decode_mfu, today.decode_mfu)
    for field in (
        "decode_tokens_per_s",
        "prefill_tokens_per_s",
        "usd_per_million_input",
        "usd_per_million_output",
        "gpus_for_weights",
    ):
        assert_array_equal(getattr(kv, field), getattr(today, field), err_msg=field)
    assert_array_equal(kv.gpus_per_copy, today.gpus_for_weights)
    assert kv_serving(7e9, name, batch, 0.0, bandwidth_utilisation=u).decode_mfu == (
        serving.decode_mfu(name, batch, u)
    )
    demand = np.array([0.0, 3e6, 1e9, 2.5e11])
    for ratio in (1.0, 2.5):
        needs = serving.gpus_needed(7e9, demand, 70, 215, hw, ratio)
        mine = kv_gpus_needed(
            7e9, demand, 70, 215, name, batch, 0.0, bandwidth_utilisation=u, peak_to_average=ratio
        )
        for field in ("gpu_hours_per_month", "average", "peak"):
            assert_array_equal(getattr(mine, field), getattr(needs, field), err_msg=field)


def _brute_step(n, name, batch, context, kv, d_in, u, gpus):
    """TPOT and TTFT from first principles: bytes moved and FLOPs done, the slower wins."""
    hw = HARDWARE_PRESETS[name]
    weights = n * hw.bytes_per_weight
    flops_rate = gpus * hw.inference_peak_flops * hw.prefill_mfu
    bytes_rate = gpus * u * hw.inference_memory_bandwidth
    tpot = max(2 * n * batch / flops_rate, (weights + batch * context * kv) / bytes_rate)
    ttft = 2 * n * batch * d_in / flops_rate
    if context > 0:  # context 0 is today's model: prefill compute-bound
        ttft = max(ttft, (weights + batch * d_in * kv) / bytes_rate)
    return tpot, ttft


@pytest.mark.parametrize("name", ["a100-40gb", "h100", "h200"])
def test_step_times_against_first_principles(name):
    rng = np.random.default_rng(24)
    for _ in range(200):
        n = 10 ** rng.uniform(8, 11.5)
        batch, context = float(rng.integers(1, 512)), float(rng.integers(1, 32768))
        kv, d_in, u = rng.uniform(1e4, 4e5), float(rng.integers(1, 4000)), rng.uniform(0.3, 1)
        hw = HARDWARE_PRESETS[name]
        fit = np.ceil((n * hw.bytes_per_weight + batch * context * kv) / hw.inference_memory)
        gpus = max(float(rng.integers(1, 9)), fit)
        got = kv_serving(n, name, batch, context, kv, d_in, u, gpus)
        tpot, ttft = _brute_step(n, name, batch, context, kv, d_in, u, gpus)
        assert_allclose([got.tpot, got.ttft], [tpot, ttft], rtol=1e-13)
        # tokens/s per GPU: the copy makes `batch` tokens per step
        assert_allclose(got.decode_tokens_per_s, batch / tpot / gpus, rtol=1e-13)
        price = HARDWARE_PRESETS[name].inference_price_per_hour
        assert_allclose(
            got.usd_per_million_output, price / 3600 * gpus * tpot / batch * 1e6, rtol=1e-13
        )


def test_memory_and_gpus_per_copy():
    shape = SHAPE_PRESETS["llama-3-70b"]
    kv = shape.kv_bytes_per_token(2.0)
    got = kv_serving(shape.params, "h100", 32, 8192, kv)
    assert got.kv_cache_bytes == 32 * 8192 * 327_680
    need = shape.params * 1.0 + 32 * 8192 * 327_680
    assert got.gpus_per_copy == np.ceil(need / 80e9) == 2
    assert got.gpus_for_weights == 1
    assert got.prefill_mfu == 0.5  # 32 x 70 prompt tokens a pass: compute-bound
    one = kv_serving(7e9, "h100", 1, 1.0)
    assert_allclose(
        one.prefill_mfu,
        2 * 70 * 3.35e12 / ((1 + 70 * kv_bytes_for_params(7e9, 1) / 7e9) * 1.979e15),
        rtol=1e-14,
    )


@pytest.mark.parametrize(
    "case",
    [
        dict(params=7e9, hardware="h100", context=4096, tpot_target=0.05),
        dict(params=7e9, hardware="h100", context=4096, tpot_target=0.004),
        dict(
            params=7e9,
            hardware="h100",
            context=4096,
            tpot_target=0.05,
            ttft_target=0.2,
            input_tokens=2000,
        ),
        dict(params=7e9, hardware="h100", context=0, tpot_target=0.01),
        dict(params=7e9, hardware="h100", context=0, ttft_target=0.01, input_tokens=300),
        dict(params=7e10, hardware="h200", context=8192, tpot_target=0.03, gpus=4),
        dict(
            params=1.3e9,
            hardware="a100-40gb",
            context=2048,
            ttft_target=0.05,
            bandwidth_utilisation=0.7,
        ),
    ],
)
def test_largest_batch_against_a_scan(case):
    plan = max_batch(**case)
    tpot, ttft = case.get("tpot_target", np.inf), case.get("ttft_target", np.inf)
    hw = HARDWARE_PRESETS[case["hardware"]]
    batches = np.arange(1.0, 20001.0)
    g = case.get("gpus", np.ceil(case["params"] * hw.bytes_per_weight / hw.inference_memory))
    kv = kv_bytes_for_params(case["params"], hw.bytes_per_weight)
    times = [
        _brute_step(
            case["params"],
            case["hardware"],
            b,
            case["context"],
            kv,
            case.get("input_tokens", 70.0),
            case.get("bandwidth_utilisation", 1.0),
            g,
        )
        for b in batches
    ]
    fits = case["params"] * hw.bytes_per_weight + batches * case["context"] * kv
    ok = (
        (np.array([t[0] for t in times]) <= tpot)
        & (np.array([t[1] for t in times]) <= ttft)
        & (fits <= g * hw.inference_memory)
    )
    assert ok[0] and not ok[-1]
    assert plan.batch == batches[ok].max()
    assert plan.serving.tpot <= tpot and plan.serving.ttft <= ttft


def test_largest_batch_is_vectorised():
    params, context = np.array([7e9, 7e9, 7e10]), np.array([4096.0, 0.0, 8192.0])
    plan = max_batch(params, "h100", context, tpot_target=0.03, gpus=2)
    for i in range(3):
        one = max_batch(params[i], "h100", context[i], tpot_target=0.03, gpus=2)
        assert plan.batch[i] == one.batch and plan.limited_by[i] == one.limited_by
    assert list(plan.limited_by) == ["memory", "TPOT", "memory"]


def test_infeasible_targets_name_the_target_and_the_best_value():
    best = kv_serving(7e9, "h100", 1, 4096).tpot
    with pytest.raises(
        InvalidValueError,
        match=rf"tpot_target=0.001 s cannot be met: the best "
        rf"achievable is {best:.4g} s \(batch 1 on 1 GPU",
    ):
        max_batch(7e9, "h100", 4096, tpot_target=0.001)
    with pytest.raises(InvalidValueError, match=r"ttft_target=1e-05 s cannot be met"):
        max_batch(7e9, "h100", 4096, ttft_target=1e-5)
    with pytest.raises(InvalidValueError, match=r"context=4e\+06 tokens does not fit"):
        max_batch(7e10, "h100", 4e6, tpot_target=0.1)
    with pytest.raises(InvalidValueError, match="unbounded"):
        max_batch(7e9, "h100", 0)
    with pytest.raises(InvalidValueError, match=r"batch=1.5 is not a whole number"):
        kv_serving(7e9, "h100", 1.5, 100)
    with pytest.raises(InvalidValueError, match="context=-1"):
        kv_serving(7e9, "h100", 1, -1)
    with pytest.raises(
        InvalidValueError,
        match="gpus=1 cannot hold the weights and the batch's KV cache: it must be at least 2",
    ):
        kv_serving(SHAPE_PRESETS["llama-3-70b"].params, "h100", 32, 8192, 327_680, gpus=1)
    with pytest.raises(InvalidTypeError, match="lacks"):
        kv_serving(7e9, [2.0, 3e14, 0.5, 1.1, 6e14, 0.5, 0.01], 1, 100)


def test_short_prompts_are_bandwidth_bound_as_the_issue_says():
    # 70-token prompt at batch 1: 2 x 70 x W / (b x P); 35% on A100-40GB int8, 24% on H100 fp8
    a100 = kv_serving(7e9, "a100-40gb", 1, 1.0, kv_bytes_per_token=0.0).prefill_mfu
    h100 = kv_serving(7e9, "h100", 1, 1.0, kv_bytes_per_token=0.0).prefill_mfu
    assert_allclose(
        [a100, h100], [2 * 70 * 1.555e12 / 6.24e14, 2 * 70 * 3.35e12 / 1.979e15], rtol=1e-15
    )
    assert (f"{a100:.0%}", f"{h100:.0%}") == ("35%", "24%")
    # a long prompt is compute-bound: the preset's 50%
    assert kv_serving(7e9, "h100", 1, 1.0, 0.0, input_tokens=2000).prefill_mfu == 0.5


def test_gpus_needed_with_the_cache_reserve_whole_copies():
    shape = SHAPE_PRESETS["llama-3-70b"]
    kv = shape.kv_bytes_per_token(1.0)
    s = kv_serving(shape.params, "h100", 64, 8192, kv, input_tokens=3000)
    needs = kv_gpus_needed(shape.params, 3e8, 3000, 300, "h100", 64, 8192, kv, peak_to_average=1.5)
    hours = 3e8 * (3000 / s.prefill_tokens_per_s + 300 / s.decode_tokens_per_s) / 3600
    assert_allclose(needs.gpu_hours_per_month, hours, rtol=1e-15)
    assert_allclose(needs.average, hours / 730, rtol=1e-15)
    assert s.gpus_per_copy == 2  # 70.6 GB of fp8 weights + 85.9 GB of cache <= 160 GB
    assert needs.peak % 2 == 0 and needs.peak >= 1.5 * needs.average > needs.peak - 2
