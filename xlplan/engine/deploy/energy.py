"""Energy and emissions of training and serving a model: GPU-hours x power x PUE x grid.

    energy (MWh)        = GPU-hours x board power (kW) x PUE / 1000
    emissions (t CO2e)  = energy (MWh) x grid intensity (kg CO2e / kWh)

GPU-hours come from the cost model, not a second formula: dollars / price per
GPU-hour (:meth:`~xlplan.engine.hardware.Hardware.gpu_hours`), i.e.
FLOPs / (3600 x peak FLOP/s x MFU) (:mod:`xlplan.engine.paper.sizing`).
Board power is the datasheet's maximum (TDP) of the GPU preset
(:mod:`xlplan.engine.hardware`): an upper estimate of the GPU's own draw that
leaves out host CPUs, memory and network; PUE adds the facility's cooling and
power conversion.

Defaults, with their sources:

* ``DEFAULT_PUE`` = 1.58: the industry-average annual power usage effectiveness
  of the Uptime Institute Global Data Center Survey 2023. Hyperscale clouds report
  1.1-1.2; use your provider's figure when you have it.
* ``DEFAULT_GRID_KG_PER_KWH`` = 0.481: the world-average carbon intensity of
  electricity generation in 2023, 481 g CO2e/kWh (Ember, Global Electricity Review
  2024). National grids range from ~0.03 (Norway) to ~0.7 (India); use the grid
  (or the contract) your GPUs run on.

To *minimise* emissions instead of dollars, :func:`carbon_hardware` puts kg CO2e
per GPU-hour in the price columns of a hardware row: every cost function then
counts kilograms instead of dollars, and cost-optimal sizing minimises emissions.
"""

import math
from dataclasses import dataclass

import numpy as np

from ..args import Arg, gate
from ..constants import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS
from ..errors import InvalidValueError
from ..hardware import get_hardware
from ..paper.sizing import lifetime_cost
from ..scalars import plain

__all__ = [
    "Footprint",
    "footprint",
    "plan_footprint",
    "carbon_hardware",
    "kg_per_gpu_hour",
    "DEFAULT_PUE",
    "DEFAULT_GRID_KG_PER_KWH",
]

DEFAULT_PUE = 1.58
DEFAULT_GRID_KG_PER_KWH = 0.481
_WATT_HOURS_PER_MWH = 1e6


@gate(
    Arg(
        "gpu_hours",
        "GPU-hours, e.g. training $ / price per GPU-hour, >= 0.",
        "GPU-hours",
        low_open=False,
    ),
    Arg("power_watts", "Board power of one GPU in watts (A100 SXM 400, H100 SXM 700).", "W"),
    Arg(
        "pue",
        "Data-centre power usage effectiveness, >= 1. Default 1.58 (Uptime "
        "Institute 2023 industry average).",
        low=1.0,
        low_open=False,
        default=DEFAULT_PUE,
    ),
    Arg(
        "grid_kg_per_kwh",
        "Grid carbon intensity, kg CO2e per kWh. Default 0.481 (Ember: world average 2023).",
        "kg CO2e per kWh",
        low_open=False,
        default=DEFAULT_GRID_KG_PER_KWH,
    ),
)
def footprint(
    gpu_hours,
    power_watts,
    pue=DEFAULT_PUE,
    grid_kg_per_kwh=DEFAULT_GRID_KG_PER_KWH,
    on_invalid="raise",
):
    """(energy MWh, emissions t CO2e) of ``gpu_hours`` at ``power_watts`` per GPU.

    Examples
    --------
    >>> mwh, tonnes = footprint(1e6, 400.0)   # a million A100-hours
    >>> round(mwh, 1), round(tonnes, 1)
    (632.0, 304.0)
    """
    hours, watts, grid = gpu_hours, power_watts, grid_kg_per_kwh
    mwh = np.multiply(hours, watts) * pue / _WATT_HOURS_PER_MWH
    tonnes = mwh * grid  # MWh x kg/kWh = 1000 kWh x kg/kWh = t
    return plain(mwh), plain(tonnes)


def kg_per_gpu_hour(power_watts, pue=DEFAULT_PUE, grid_kg_per_kwh=DEFAULT_GRID_KG_PER_KWH):
    """kg CO2e emitted by one GPU-hour: the "price" of :func:`carbon_hardware`."""
    return footprint(1.0, power_watts, pue, grid_kg_per_kwh)[1] * 1000.0


@dataclass(frozen=True)
class Footprint:
    """Energy and emissions of a plan (floats, or arrays of the broadcast shape).

    Attributes
    ----------
    training_gpu_hours, inference_gpu_hours : GPU-hours.
    training_mwh, inference_mwh : energy, MWh (PUE included).
    training_t, inference_t : emissions, tonnes CO2e.
    """

    training_gpu_hours: object
    inference_gpu_hours: object
    training_mwh: object
    inference_mwh: object
    training_t: object
    inference_t: object

    @property
    def total_mwh(self):
        return self.training_mwh + self.inference_mwh

    @property
    def total_t(self):
        return self.training_t + self.inference_t


def _power(hw, key, given):
    watts = getattr(hw, key) if given is None else given
    if isinstance(watts, float) and math.isnan(watts):
        raise InvalidValueError(
            f"{key} is not known for hardware '{hw.name}': give it (W per GPU, e.g. 400 for "
            "an A100 SXM, 700 for an H100 SXM)",
            argument=key,
            value=watts,
        )
    return watts


def plan_footprint(
    params,
    tokens,
    requests,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    pue=DEFAULT_PUE,
    grid_kg_per_kwh=DEFAULT_GRID_KG_PER_KWH,
    train_power_watts=None,
    inference_power_watts=None,
    on_invalid="raise",
):
    """Energy and emissions of training ``params`` on ``tokens`` and serving ``requests``.

    GPU-hours are the lifetime dollars of :func:`~xlplan.engine.paper.sizing.lifetime_cost`
    divided by the hardware's prices; powers default to the hardware's board power.

    Examples
    --------
    >>> f = plan_footprint(7e9, 1.4e12, 1e9)
    >>> f"{f.training_mwh:.1f} MWh, {f.training_t:.1f} t; serving {f.inference_t:.1f} t"
    '66.2 MWh, 31.8 t; serving 41.0 t'
    """
    hw = get_hardware(hardware)
    cost = lifetime_cost(params, tokens, requests, input_tokens, output_tokens, hw, on_invalid)
    train_hours, infer_hours = hw.gpu_hours(cost.training, cost.inference)
    train = footprint(
        train_hours,
        _power(hw, "train_power_watts", train_power_watts),
        pue,
        grid_kg_per_kwh,
        on_invalid,
    )
    infer = footprint(
        infer_hours,
        _power(hw, "inference_power_watts", inference_power_watts),
        pue,
        grid_kg_per_kwh,
        on_invalid,
    )
    return Footprint(train_hours, infer_hours, train[0], infer[0], train[1], infer[1])


def carbon_hardware(
    hardware=None,
    pue=DEFAULT_PUE,
    grid_kg_per_kwh=DEFAULT_GRID_KG_PER_KWH,
    train_power_watts=None,
    inference_power_watts=None,
):
    """The hardware with kg CO2e per GPU-hour as its "prices": cost functions then count kg.

    ``cost_optimal(loss, requests, hardware=carbon_hardware("h100"))`` is the
    lowest-emission model of that loss; its ``total`` is in kg CO2e (labelled USD).
    """
    hw = get_hardware(hardware)
    train = kg_per_gpu_hour(
        _power(hw, "train_power_watts", train_power_watts), pue, grid_kg_per_kwh
    )
    infer = kg_per_gpu_hour(
        _power(hw, "inference_power_watts", inference_power_watts), pue, grid_kg_per_kwh
    )
    return hw.replace(
        train_price_per_hour=train,
        inference_price_per_hour=infer,
        name=f"{hw.name}-carbon",
        description=f"{hw.name} with kg CO2e per GPU-hour as prices (PUE "
        f"{pue:g}, grid {grid_kg_per_kwh:g} kg/kWh)",
    )
