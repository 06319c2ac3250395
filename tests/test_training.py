"""Training on a cluster: time = 6ND / (GPUs x peak x MFU), GPUs for a deadline."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from xlplan.engine.deploy.training import gpus_for_deadline, training_time
from xlplan.engine.errors import InvalidValueError
from xlplan.engine.hardware import HARDWARE_PRESETS
from xlplan.engine.paper.sizing import lifetime_cost


@pytest.mark.parametrize("name", ["paper-a100", "h100", "h200"])
def test_time_is_six_n_d_over_the_cluster(name):
    hw = HARDWARE_PRESETS[name]
    n, d, g = 70e9, 1.4e12, 1024.0
    plan = training_time(n, d, g, name)
    seconds = 6 * n * d / (g * hw.train_peak_flops * hw.train_mfu)
    assert_allclose(plan.days, seconds / 86400, rtol=1e-14)
    assert_allclose(plan.gpu_hours, plan.days * 24 * g, rtol=1e-14)
    # the cost model's training dollars, to the cent
    assert plan.dollars == lifetime_cost(n, d, 0, hardware=name).training
    assert_allclose(plan.gpu_hours * hw.train_price_per_hour, plan.dollars, rtol=1e-15)


def test_seventy_b_on_1024_h100s():
    # 6 x 70e9 x 1.4e12 = 5.88e23 FLOPs at 989 TFLOP/s bf16 x 50% MFU
    plan = training_time(70e9, 1.4e12, 1024, "h100")
    assert_allclose(plan.gpu_hours, 5.88e23 / (9.89e14 * 0.5) / 3600, rtol=1e-14)
    assert f"{plan.days:.2f}" == "13.44" and f"{plan.dollars:,.0f}" == "660,600"


def test_deadline_gives_the_fewest_gpus():
    rng = np.random.default_rng(3)
    n, d = 10 ** rng.uniform(8, 12, 300), 10 ** rng.uniform(10, 13.5, 300)
    days = rng.uniform(0.5, 120, 300)
    plan = gpus_for_deadline(n, d, days, "h100")
    assert np.all(plan.days <= days * (1 + 1e-12))
    fewer = training_time(n, d, np.maximum(plan.gpus - 1, 1e-9), "h100")
    assert np.all((plan.gpus == 1) | (fewer.days > days))
    for i in range(0, 300, 37):
        one = gpus_for_deadline(n[i], d[i], days[i], "h100")
        assert (one.gpus, one.days) == (plan.gpus[i], plan.days[i])


def test_a_whole_deadline_is_not_one_gpu_more():
    hours = training_time(7e9, 1.4e11, 1, "h100").gpu_hours
    exact = hours / (24 * 64)  # 64 GPUs finish exactly at this deadline
    assert gpus_for_deadline(7e9, 1.4e11, exact, "h100").gpus == 64


def test_errors_name_the_argument():
    with pytest.raises(InvalidValueError, match="gpus=0 is out of range"):
        training_time(7e9, 1e12, 0)
    with pytest.raises(InvalidValueError, match="days=-1 is out of range"):
        gpus_for_deadline(7e9, 1e12, -1)
    with pytest.raises(InvalidValueError, match="tokens=0 is out of range"):
        training_time(7e9, 0, 8)
