"""Energy and emissions: the arithmetic by hand, GPU-hours from FLOPs, the carbon recipe
against a brute-force emissions minimum, bad input."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize_scalar

import xlplan
from xlplan.engine.deploy.energy import (
    DEFAULT_GRID_KG_PER_KWH,
    DEFAULT_PUE,
    carbon_hardware,
    footprint,
    kg_per_gpu_hour,
    plan_footprint,
)
from xlplan.engine.errors import InvalidValueError
from xlplan.engine.hardware import GPUS, HARDWARE_PRESETS, Hardware

LAW = xlplan.get_law("chinchilla")


def test_board_power_of_the_gpu_presets():
    assert GPUS["a100-40gb"].board_power_watts == GPUS["a100-80gb"].board_power_watts == 400
    assert GPUS["h100"].board_power_watts == GPUS["h200"].board_power_watts == 700
    assert "datasheet" in GPUS["h100"].power_source
    assert HARDWARE_PRESETS["paper-a100"].train_power_watts == 400
    assert HARDWARE_PRESETS["h100"].inference_power_watts == 700


def test_footprint_by_hand():
    # 1,000 H100-hours at 700 W: 700 kWh at the GPUs, x 1.2 PUE = 840 kWh; x 0.3 kg/kWh
    mwh, tonnes = footprint(1000, 700, pue=1.2, grid_kg_per_kwh=0.3)
    assert mwh == pytest.approx(0.84, rel=1e-15) and tonnes == pytest.approx(0.252, rel=1e-15)
    assert kg_per_gpu_hour(400, 1.58, 0.481) == pytest.approx(0.4 * 1.58 * 0.481, rel=1e-15)
    mwh, tonnes = footprint(np.array([0.0, 1e6]), 400)
    assert_allclose(mwh, [0, 1e6 * 0.4 * DEFAULT_PUE / 1000], rtol=1e-15)
    assert_allclose(tonnes, mwh * DEFAULT_GRID_KG_PER_KWH, rtol=1e-15)


def test_plan_footprint_counts_gpu_hours_from_flops():
    n, d, requests = 7e9, 1.4e12, 1e9
    hw = HARDWARE_PRESETS["paper-a100"]
    f = plan_footprint(n, d, requests, 70, 215, "paper-a100", pue=1.1, grid_kg_per_kwh=0.2)
    train_hours = 6 * n * d / (3600 * 3.12e14 * 0.5)
    infer_hours = 2 * n * requests * (70 / 0.5 + 215 / 0.01) / (3600 * 6.24e14)
    assert f.training_gpu_hours == pytest.approx(train_hours, rel=1e-13)
    assert f.inference_gpu_hours == pytest.approx(infer_hours, rel=1e-13)
    assert f.training_mwh == pytest.approx(train_hours * 0.4 * 1.1 / 1000, rel=1e-13)
    assert f.total_t == pytest.approx(
        (train_hours + infer_hours) * 0.4 * 1.1 * 0.2 / 1000, rel=1e-13
    )
    assert hw.train_power_watts == 400


def _emissions_kg(hw, loss, log_tokens, requests, pue, grid):
    """kg CO2e of the model of ``loss`` trained on e**log_tokens tokens, written out."""
    d = math.exp(log_tokens)
    n = (LAW.A / (loss - LAW.E - LAW.B / d**LAW.beta)) ** (1 / LAW.alpha)
    train_h = 6 * n * d / (3600 * hw.train_peak_flops * hw.train_mfu)
    infer_h = (
        2
        * n
        * requests
        * (70 / hw.prefill_mfu + 215 / hw.decode_mfu)
        / (3600 * hw.inference_peak_flops)
    )
    return (train_h * hw.train_power_watts + infer_h * hw.inference_power_watts) * pue * grid / 1000


@pytest.mark.parametrize("loss, requests", [(2.0, 1e10), (2.3, 1e8), (1.9, 3e11)])
def test_carbon_recipe_is_the_brute_force_emissions_minimum(loss, requests):
    # train on H100s (700 W), serve on A100s (400 W): dollars and kg rank plans differently
    hw = Hardware.from_gpus("h100", "a100-40gb", name="mixed")
    pue, grid = 1.2, 0.35
    plan = xlplan.cost_optimal(loss, requests, 70, 215, hardware=carbon_hardware(hw, pue, grid))
    floor = math.log(xlplan.chinchilla_from_loss(loss).tokens) + 1e-9
    grid_d = np.linspace(floor, floor + 12, 12001)
    k = int(np.argmin([_emissions_kg(hw, loss, x, requests, pue, grid) for x in grid_d]))
    best = minimize_scalar(
        lambda x: _emissions_kg(hw, loss, x, requests, pue, grid),
        bounds=(grid_d[max(k - 1, 0)], grid_d[k + 1]),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert plan.optimal.tokens == pytest.approx(math.exp(best.x), rel=1e-5)
    assert plan.optimal.total == pytest.approx(best.fun, rel=1e-9)
    f = plan_footprint(
        plan.optimal.params,
        plan.optimal.tokens,
        requests,
        hardware=hw,
        pue=pue,
        grid_kg_per_kwh=grid,
    )
    assert f.total_t * 1000 == pytest.approx(plan.optimal.total, rel=1e-12)
    dollars = xlplan.cost_optimal(loss, requests, 70, 215, hardware=hw)
    assert abs(dollars.optimal.tokens / plan.optimal.tokens - 1) > 1e-3  # a different plan


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda: footprint(10, 400, pue=0.9), "pue"),
        (lambda: footprint(10, -1), "power_watts"),
        (lambda: footprint(-5, 400), "gpu_hours"),
        (lambda: footprint(10, 400, grid_kg_per_kwh=-0.1), "grid_kg_per_kwh"),
        (
            lambda: plan_footprint(7e9, 1e12, 1e9, hardware=[2, 1e15, 0.5, 2, 1e15, 0.5, 0.01]),
            "train_power_watts",
        ),
        (
            lambda: carbon_hardware([2, 1e15, 0.5, 2, 1e15, 0.5, 0.01], train_power_watts=500),
            "inference_power_watts",
        ),
    ],
)
def test_bad_input(call, argument):
    with pytest.raises(InvalidValueError) as info:
        call()
    assert info.value.argument == argument and argument in str(info.value)


def test_excel_function():
    from xlplan import udfs

    assert udfs.ENERGY_EMISSIONS(1000, 700, 1.2, 0.3) == [list(footprint(1000, 700, 1.2, 0.3))]
    assert udfs.ENERGY_EMISSIONS(1000, "400") == [list(footprint(1000, 400))]
    bad = udfs.ENERGY_EMISSIONS(1000, 400, 0.5)
    assert bad.code == "#NUM!" and bad.message.startswith("pue=0.5 is out of range")
    assert udfs.ENERGY_EMISSIONS("x", 400).code == "#VALUE!"
