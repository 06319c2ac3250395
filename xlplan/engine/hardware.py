"""Hardware and prices: what one FLOP of training or inference costs, in dollars.

Cost per FLOP at 100% utilisation = price ($/GPU-hour) / (3600 s x peak FLOP/s);
dividing by the model FLOPs utilisation (MFU) gives the real cost. Inference
splits into prefill (input tokens, processed in parallel, high MFU) and decode
(output tokens, one at a time, low MFU), as in Sardana et al. 2024, Eq. 5-6.

A hardware may also carry three serving settings of its inference GPU (memory
bandwidth, memory and bytes per weight of the inference number format); the
roofline model of :mod:`xlplan.engine.deploy.serving` needs them. Hardware given as
seven settings has none and works everywhere else.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import numpy as np

from . import validate
from .constants import DEFAULT_HARDWARE, SECONDS_PER_HOUR
from .errors import InvalidTypeError

__all__ = [
    "GPU",
    "GPUS",
    "Hardware",
    "HARDWARE_PRESETS",
    "BYTES_PER_WEIGHT",
    "get_hardware",
    "hardware_names",
]

# Bytes of one weight in each inference number format: decode reads every weight once a step.
BYTES_PER_WEIGHT: Mapping[str, float] = {
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "int4": 0.5,
}


def _divide(value, *divisors):
    """value / d1 / d2 / ..., with overflow as inf (all divisors are checked floats > 0).

    Python's float division overflows to inf without raising, as numpy's does.
    """
    for divisor in divisors:
        value = value / divisor
    return float(value)


@dataclass(frozen=True)
class GPU:
    """One accelerator: rental price, dense peak throughput per number format, memory.

    Prices in $/GPU-hour; peaks in FLOP/s (OP/s for int8), dense, no sparsity;
    ``memory_bandwidth`` in bytes/s and ``memory`` in bytes (decimal GB, as the
    datasheets print them); ``board_power_watts`` in watts (the datasheet's maximum
    thermal design power, TDP), with ``power_source``.
    """

    name: str
    price_per_hour: float
    peak_flops: Mapping[str, float]
    source: str = ""
    memory_bandwidth: float = math.nan
    memory: float = math.nan
    board_power_watts: float = math.nan
    power_source: str = ""

    def peak(self, precision):
        try:
            return self.peak_flops[precision]
        except KeyError:
            raise InvalidTypeError(
                f"{self.name} has no peak for precision '{precision}': "
                f"use one of {', '.join(self.peak_flops)}",
                argument="precision",
                value=precision,
            ) from None


_B3 = "Sardana et al. 2024, Appendix B.3 (Lambda Labs prices, NVIDIA datasheet peaks)"
# Memory bandwidth and memory of the SXM boards, from NVIDIA's datasheets:
_A100_SHEET = (
    "NVIDIA A100 Tensor Core GPU datasheet (nvidia.com/content/dam/en-zz/Solutions/"
    "Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf): "
    "A100 40GB SXM 1,555 GB/s, A100 80GB SXM 2,039 GB/s"
)
_H100_SHEET = (
    "NVIDIA H100 Tensor Core GPU datasheet (resources.nvidia.com/en-us-tensor-core/"
    "nvidia-tensor-core-gpu-datasheet): H100 SXM 80GB, 3.35 TB/s"
)
_H200_SHEET = (
    "NVIDIA H200 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h200): "
    "141GB HBM3e, 4.8 TB/s, peaks as H100 SXM"
)
# The H200 is priced in 2026 dollars, the others at the paper's 2023-24 prices: not comparable.
_H200_PRICE = (
    "Hyperstack on-demand rate card, NVIDIA H200 SXM $3.99/GPU-hour, read 2026-08-26 "
    "(hyperstack.cloud/gpu-pricing; also listed at $3.99 on 2026-10-24)"
)
_A100_PEAKS = {"bf16": 3.12e14, "fp16": 3.12e14, "int8": 6.24e14}
_HOPPER_PEAKS = {"bf16": 9.89e14, "fp16": 9.89e14, "fp8": 1.979e15, "int8": 1.979e15}
# Board power: the SXM modules' maximum TDP. The PCIe cards draw less (A100 40GB PCIe
# 250 W, A100 80GB PCIe 300 W, H100 PCIe 350 W); give their power explicitly if you use them.
_A100_POWER = (
    "NVIDIA A100 Tensor Core GPU datasheet: max thermal design power 400 W "
    "(A100 SXM4 40GB and 80GB)"
)
_H100_POWER = "NVIDIA H100 Tensor Core GPU datasheet: max TDP up to 700 W (H100 SXM)"
_H200_POWER = "NVIDIA H200 Tensor Core GPU datasheet: max TDP up to 700 W (H200 SXM)"
GPUS: Mapping[str, GPU] = {
    gpu.name: gpu
    for gpu in (
        GPU(
            "a100-40gb",
            1.10,
            _A100_PEAKS,
            f"{_B3}; {_A100_SHEET}",
            memory_bandwidth=1.555e12,
            memory=40e9,
            board_power_watts=400.0,
            power_source=_A100_POWER,
        ),
        GPU(
            "a100-80gb",
            1.50,
            _A100_PEAKS,
            f"{_B3}; {_A100_SHEET}",
            memory_bandwidth=2.039e12,
            memory=80e9,
            board_power_watts=400.0,
            power_source=_A100_POWER,
        ),
        GPU(
            "h100",
            2.00,
            _HOPPER_PEAKS,
            f"NVIDIA H100 SXM datasheet (dense); {_H100_SHEET}",
            memory_bandwidth=3.35e12,
            memory=80e9,
            board_power_watts=700.0,
            power_source=_H100_POWER,
        ),
        GPU(
            "h200",
            3.99,
            _HOPPER_PEAKS,
            f"{_H200_PRICE}; {_H200_SHEET}",
            memory_bandwidth=4.8e12,
            memory=141e9,
            board_power_watts=700.0,
            power_source=_H200_POWER,
        ),
    )
}

_SETTING_NAMES = (
    "train_price_per_hour",
    "train_peak_flops",
    "train_mfu",
    "inference_price_per_hour",
    "inference_peak_flops",
    "prefill_mfu",
    "decode_mfu",
)
# Three more settings for the serving model, after the seven.
_SERVING_SETTING_NAMES = ("inference_memory_bandwidth", "inference_memory", "bytes_per_weight")
_SERVING_LABELS = (
    "inference memory bandwidth (bytes/s)",
    "inference GPU memory (bytes)",
    "bytes per weight",
)


@dataclass(frozen=True)
class Hardware:
    """Training and inference hardware: prices, peaks and utilisations.

    Parameters
    ----------
    train_price_per_hour : float
        Training accelerator price, $/GPU-hour.
    train_peak_flops : float
        Training accelerator peak, FLOP/s, in the training number format.
    train_mfu : float
        Training model FLOPs utilisation, in (0, 1].
    inference_price_per_hour : float
        Inference accelerator price, $/GPU-hour.
    inference_peak_flops : float
        Inference accelerator peak, FLOP/s, in the inference number format.
    prefill_mfu, decode_mfu : float
        Utilisation while processing input tokens and generating output tokens, (0, 1].
    inference_memory_bandwidth : float, optional
        Memory bandwidth of one inference GPU, bytes/s (serving model only).
    inference_memory : float, optional
        Memory of one inference GPU, bytes (serving model only).
    bytes_per_weight : float, optional
        Bytes of one weight in the inference number format, e.g. 1 for int8
        (serving model only; see ``BYTES_PER_WEIGHT``).
    train_power_watts, inference_power_watts : float, optional
        Board power of one training / inference GPU, W (NaN: unknown). Not among the
        settings: only energy and emissions use them (:mod:`xlplan.engine.deploy.energy`).
    """

    train_price_per_hour: float
    train_peak_flops: float
    train_mfu: float
    inference_price_per_hour: float
    inference_peak_flops: float
    prefill_mfu: float
    decode_mfu: float
    name: str = "custom"
    description: str = field(default="", compare=False)
    inference_memory_bandwidth: float | None = None
    inference_memory: float | None = None
    bytes_per_weight: float | None = None
    train_power_watts: float = field(default=math.nan, compare=False)
    inference_power_watts: float = field(default=math.nan, compare=False)

    def __post_init__(self):
        serving = [key for key in _SERVING_SETTING_NAMES if getattr(self, key) is not None]
        for key in _SETTING_NAMES + tuple(serving):
            high = 1.0 if key.endswith("mfu") else math.inf
            value = validate.scalar(key, getattr(self, key), high=high, label="hardware setting ")
            object.__setattr__(self, key, value)
        for key in ("train_power_watts", "inference_power_watts"):
            value = getattr(self, key)
            if not (validate.is_scalar(value) and math.isnan(value)):  # NaN: not known
                object.__setattr__(self, key, validate.scalar(key, value))

    @classmethod
    def from_gpus(
        cls,
        train_gpu,
        inference_gpu,
        *,
        train_precision="bf16",
        inference_precision="int8",
        train_mfu=0.5,
        prefill_mfu=0.5,
        decode_mfu=0.01,
        name="custom",
        description="",
    ):
        """Hardware from GPU presets (names or :class:`GPU`) and number formats.

        The serving settings come from the inference GPU and ``inference_precision``.
        """
        train = GPUS[train_gpu] if isinstance(train_gpu, str) else train_gpu
        infer = GPUS[inference_gpu] if isinstance(inference_gpu, str) else inference_gpu
        peak = infer.peak(inference_precision)
        known = math.isfinite(infer.memory_bandwidth) and math.isfinite(infer.memory)
        serving = (
            dict(
                inference_memory_bandwidth=infer.memory_bandwidth,
                inference_memory=infer.memory,
                bytes_per_weight=BYTES_PER_WEIGHT.get(inference_precision),
            )
            if known
            else {}
        )
        return cls(
            train.price_per_hour,
            train.peak(train_precision),
            train_mfu,
            infer.price_per_hour,
            peak,
            prefill_mfu,
            decode_mfu,
            name=name,
            description=description,
            **serving,
            train_power_watts=train.board_power_watts,
            inference_power_watts=infer.board_power_watts,
        )

    @classmethod
    def from_settings(cls, settings, name="custom"):
        """Hardware from seven settings, or ten with the serving ones, in :meth:`as_tuple` order."""
        values = list(np.asarray(settings, dtype=object).ravel())
        if len(values) not in (7, 10):
            raise InvalidTypeError(
                f"hardware needs exactly 7 settings ({', '.join(_SETTING_NAMES)}) or 10 (those "
                f"and {', '.join(_SERVING_SETTING_NAMES)}), got {len(values)}",
                argument="hardware",
                value=settings,
            )
        numbers = [
            validate.coerce_float(key, value, label="hardware setting ")
            for key, value in zip(_SETTING_NAMES + _SERVING_SETTING_NAMES, values, strict=False)
        ]
        serving = numbers[7:] or [None] * len(_SERVING_SETTING_NAMES)
        return cls(
            *numbers[:7], name=name, **dict(zip(_SERVING_SETTING_NAMES, serving, strict=True))
        )

    @staticmethod
    def setting_names(all=False):
        """Names of the seven settings, or of all ten with ``all=True``."""
        return _SETTING_NAMES + _SERVING_SETTING_NAMES if all else _SETTING_NAMES

    @property
    def has_serving_settings(self):
        """True when the three serving settings are known (a preset, or ten settings)."""
        return all(getattr(self, key) is not None for key in _SERVING_SETTING_NAMES)

    def require_serving_settings(self, purpose):
        """Raise ``InvalidTypeError`` naming what is missing unless the serving settings are."""
        missing = [
            label
            for key, label in zip(_SERVING_SETTING_NAMES, _SERVING_LABELS, strict=True)
            if getattr(self, key) is None
        ]
        if missing:
            raise InvalidTypeError(
                f"{purpose} needs the hardware's ten settings, and hardware '{self.name}' lacks "
                f'{", ".join(missing)}: use a preset (e.g. "h100") or a 1x10 range as '
                "XLPLAN_HARDWARE(name, TRUE) returns",
                argument="hardware",
                value=self.name,
            )

    def as_tuple(self, all=False):
        """The seven settings, or all ten with ``all=True`` (which needs the serving ones)."""
        if all:
            self.require_serving_settings("listing all ten settings")
        return tuple(getattr(self, key) for key in self.setting_names(all))

    @property
    def train_cost_per_flop(self):
        """Dollars per training FLOP actually delivered (price / (3600 x peak x MFU))."""
        # Divided one factor at a time: a product of tiny settings could underflow to 0
        # (ZeroDivisionError); this way extreme settings give inf, which sizing reports.
        return _divide(
            self.train_price_per_hour, SECONDS_PER_HOUR, self.train_peak_flops, self.train_mfu
        )

    @property
    def inference_cost_per_peak_flop(self):
        """Dollars per inference FLOP at 100% utilisation."""
        return _divide(self.inference_price_per_hour, SECONDS_PER_HOUR, self.inference_peak_flops)

    def gpu_hours(self, training_cost, inference_cost):
        """(training, inference) GPU-hours behind costs priced on this hardware.

        The one place xlplan counts GPU-hours: the cost model prices the
        FLOPs / (3600 s x peak x MFU) GPU-hours of a plan at the price per
        GPU-hour, so dividing by that price gives them back. Floats or arrays.
        """
        return (
            training_cost / self.train_price_per_hour,
            inference_cost / self.inference_price_per_hour,
        )

    def replace(self, **changes):
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Hardware(**values)


_PAPER = (
    "Sardana et al. 2024, Sec. 6 and App. B.2: train on A100-80GB (bf16, $1.50/h, "
    "50% MFU), infer on A100-40GB (int8, $1.10/h, 50% prefill MFU, 1% decode MFU)"
)
_PAPER_A100 = Hardware.from_gpus("a100-80gb", "a100-40gb", name="paper-a100", description=_PAPER)
# Inferred, not stated: the printed Table 3 matches (within ~1%) only when the inference
# cost per FLOP is 0.896 of the stated one, i.e. an A100-40GB at $0.986/h.
TABLE3_INFERENCE_PRICE = 0.986

HARDWARE_PRESETS: Mapping[str, Hardware] = {
    hw.name: hw
    for hw in (
        _PAPER_A100,
        _PAPER_A100.replace(
            name="paper-a100-table3",
            inference_price_per_hour=TABLE3_INFERENCE_PRICE,
            description=(
                "INFERRED from the printed Table 3, not stated in the paper: as "
                "paper-a100 but inference at $0.986/h instead of $1.10/h"
            ),
        ),
        Hardware.from_gpus(
            "a100-40gb",
            "a100-40gb",
            name="a100-40gb",
            description="train bf16 and infer int8 on A100-40GB at $1.10/h",
        ),
        Hardware.from_gpus(
            "a100-80gb",
            "a100-80gb",
            name="a100-80gb",
            description="train bf16 and infer int8 on A100-80GB at $1.50/h",
        ),
        Hardware.from_gpus(
            "h100",
            "h100",
            inference_precision="fp8",
            name="h100",
            description="train bf16 and infer fp8 on H100 at $2.00/h",
        ),
        Hardware.from_gpus(
            "h200",
            "h200",
            inference_precision="fp8",
            name="h200",
            description=(
                "train bf16 and infer fp8 on H200 at $3.99/h (Hyperstack "
                "on-demand, read 2026-08-26; a 2026 price, unlike the "
                "others)"
            ),
        ),
    )
}


def hardware_names():
    return list(HARDWARE_PRESETS)


def get_hardware(hardware=None):
    """Resolve hardware given as a preset name, 7 or 10 settings or a :class:`Hardware`.

    ``None`` gives the default, ``constants.DEFAULT_HARDWARE`` (``"paper-a100"``).
    """
    if hardware is None:
        return HARDWARE_PRESETS[DEFAULT_HARDWARE]
    if isinstance(hardware, Hardware):
        return hardware
    if isinstance(hardware, str):
        key = hardware.strip().lower()
        if key in HARDWARE_PRESETS:
            return HARDWARE_PRESETS[key]
        raise InvalidTypeError(
            f"unknown hardware '{hardware}': use one of {', '.join(HARDWARE_PRESETS)} or "
            "seven (or ten) settings",
            argument="hardware",
            value=hardware,
        )
    return Hardware.from_settings(hardware)
