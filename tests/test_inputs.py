"""Presets, custom coefficients and every bad-input path of the engine."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import xlplan
from xlplan.engine.errors import InvalidTypeError, InvalidValueError, UnreachableLossError


def test_law_presets_hold_the_published_coefficients():
    assert xlplan.get_law().as_tuple() == (406.4, 410.7, 1.69, 0.336, 0.283)
    assert xlplan.get_law("Chinchilla-Rounded").as_tuple() == (406.4, 410.7, 1.69, 0.34, 0.28)
    unrounded = xlplan.get_law("hoffmann-unrounded")
    assert_allclose(unrounded.as_tuple(), (406.4, 410.7, 1.6934, 0.33917084, 0.2849083), rtol=2e-4)
    assert xlplan.get_law("epoch-2024").as_tuple() == (482.01, 2085.43, 1.8172, 0.3478, 0.3658)
    assert xlplan.get_law("sardana-all").as_tuple() == (33.66, 138.9, 1.45, 0.18, 0.24)
    assert set(xlplan.LAW_PRESETS) >= {"sardana-100", "sardana-250", "sardana-500"}


def test_custom_coefficients_are_accepted_anywhere_a_name_is():
    coefficients = (406.4, 410.7, 1.69, 0.336, 0.283)
    by_numbers = xlplan.compute_optimal(2.0, 1e12, law=coefficients)
    by_name = xlplan.compute_optimal(2.0, 1e12, law="chinchilla")
    assert by_numbers.optimal.params == by_name.optimal.params
    assert xlplan.get_law(["406.4", "410.7", "1.69", "0.336", "0.283"]).name == "custom"


def test_hardware_presets_and_cost_per_flop():
    paper = xlplan.get_hardware("paper-a100")
    assert paper.as_tuple() == (1.50, 3.12e14, 0.5, 1.10, 6.24e14, 0.5, 0.01)
    assert_allclose(paper.train_cost_per_flop, 1.50 / (3600 * 3.12e14 * 0.5), rtol=1e-15)
    h100 = xlplan.get_hardware("H100")
    assert (h100.train_peak_flops, h100.inference_peak_flops, h100.train_price_per_hour) == (
        9.89e14,
        1.979e15,
        2.00,
    )
    inferred = xlplan.get_hardware("paper-a100-table3")
    assert inferred.inference_price_per_hour == 0.986
    assert "INFERRED" in inferred.description
    assert xlplan.get_hardware("a100-40gb").train_price_per_hour == 1.10


@pytest.mark.parametrize("loss", [1.69, 1.5, 0.0])
def test_unreachable_loss_names_e(loss):
    with pytest.raises(UnreachableLossError, match=r"E=1\.69 of law 'chinchilla'"):
        xlplan.compute_optimal(loss, 1e12)


@pytest.mark.parametrize(
    "call,argument",
    [
        (lambda: xlplan.compute_optimal(2.0, -1.0), "inference_tokens=-1"),
        (lambda: xlplan.compute_optimal(2.0, math.nan), "inference_tokens=nan"),
        (lambda: xlplan.compute_optimal(math.inf, 1.0), "loss=inf"),
        (lambda: xlplan.cost_optimal(2.0, -5.0), "requests=-5"),
        (lambda: xlplan.cost_optimal(2.0, 1e9, input_tokens=math.inf), "input_tokens=inf"),
        (lambda: xlplan.chinchilla_from_params(0.0), "params=0"),
        (lambda: xlplan.chinchilla_from_compute(-1e20), "training_flops=-1e"),
        (lambda: xlplan.total_flops(1e9, -1.0, 0.0), "tokens=-1"),
        (lambda: xlplan.lifetime_cost(1e9, 1e10, 1e6, output_tokens=-1.0), "output_tokens=-1"),
    ],
)
def test_out_of_range_values_name_the_argument_and_value(call, argument):
    with pytest.raises(InvalidValueError) as error:
        call()
    assert argument in str(error.value)
    assert "must be" in str(error.value)


@pytest.mark.parametrize(
    "setting,value",
    [
        ("train_mfu", 1.5),
        ("decode_mfu", 0.0),
        ("prefill_mfu", -0.1),
        ("train_price_per_hour", 0.0),
        ("inference_peak_flops", math.nan),
    ],
)
def test_bad_hardware_settings_are_rejected(setting, value):
    with pytest.raises(InvalidValueError, match=setting):
        xlplan.get_hardware("paper-a100").replace(**{setting: value})


def test_mfu_message_gives_the_allowed_interval():
    with pytest.raises(InvalidValueError, match=r"train_mfu=1\.5 .*\(0, 1\]"):
        xlplan.get_hardware("h100").replace(train_mfu=1.5)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(InvalidTypeError, match="chinchilla, chinchilla-rounded"):
        xlplan.get_law("kaplan")
    with pytest.raises(InvalidTypeError, match="paper-a100, paper-a100-table3"):
        xlplan.get_hardware("tpu")
    with pytest.raises(InvalidTypeError, match="exactly 5 coefficients"):
        xlplan.get_law([1, 2, 3, 4])
    with pytest.raises(InvalidTypeError, match="exactly 7 settings"):
        xlplan.get_hardware([1, 2, 3])
    with pytest.raises(InvalidValueError, match=r"alpha=-0.3"):
        xlplan.get_law([406.4, 410.7, 1.69, -0.3, 0.28])


def test_array_errors_list_every_bad_position():
    loss = np.array([2.0, 1.0, 2.5, 1.2])
    with pytest.raises(UnreachableLossError) as error:
        xlplan.compute_optimal(loss, 1e12)
    assert error.value.positions == [(1,), (3,)]
    assert "loss[1]=1" in str(error.value) and "loss[3]=1.2" in str(error.value)


def test_nan_mode_keeps_good_elements_and_masks_bad_ones():
    loss = np.array([2.0, 1.0, 2.5, 2.2])
    demand = np.array([1e12, 1e12, -3.0, 1e11])
    plan = xlplan.compute_optimal(loss, demand, on_invalid="nan")
    assert plan.valid.tolist() == [True, False, False, True]
    assert np.isnan(plan.optimal.params[1:3]).all()
    good = xlplan.compute_optimal(loss[[0, 3]], demand[[0, 3]])
    assert_allclose(plan.optimal.params[[0, 3]], good.optimal.params, rtol=1e-15)


def test_wrong_types_are_value_errors_not_tracebacks():
    with pytest.raises(InvalidTypeError, match="inference_tokens='lots'"):
        xlplan.compute_optimal(2.0, "lots")
    with pytest.raises(InvalidTypeError, match="on_invalid"):
        xlplan.compute_optimal(2.0, 1.0, on_invalid="ignore")
