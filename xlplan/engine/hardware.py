"""Hardware and prices: what one FLOP of training or inference costs, in dollars.

Cost per FLOP at 100% utilisation = price ($/GPU-hour) / (3600 s x peak FLOP/s);
dividing by the model FLOPs utilisation (MFU) gives the real cost. Inference
splits into prefill (input tokens, processed in parallel, high MFU) and decode
(output tokens, one at a time, low MFU), as in Sardana et al. 2024, Eq. 5-6.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import numpy as np

from . import validate
from .errors import InvalidTypeError

__all__ = ["GPU", "GPUS", "Hardware", "HARDWARE_PRESETS", "DEFAULT_HARDWARE",
           "get_hardware", "hardware_names"]

DEFAULT_HARDWARE = "paper-a100"
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class GPU:
    """One accelerator: rental price and dense peak throughput per number format.

    Prices in $/GPU-hour; peaks in FLOP/s (OP/s for int8), dense, no sparsity.
    """

    name: str
    price_per_hour: float
    peak_flops: Mapping[str, float]
    source: str = ""

    def peak(self, precision):
        try:
            return self.peak_flops[precision]
        except KeyError:
            raise InvalidTypeError(
                f"{self.name} has no peak for precision '{precision}': "
                f"use one of {', '.join(self.peak_flops)}", argument="precision",
                value=precision) from None


_B3 = "Sardana et al. 2024, Appendix B.3 (Lambda Labs prices, NVIDIA datasheet peaks)"
GPUS: Mapping[str, GPU] = {
    gpu.name: gpu for gpu in (
        GPU("a100-40gb", 1.10, {"bf16": 3.12e14, "fp16": 3.12e14, "int8": 6.24e14}, _B3),
        GPU("a100-80gb", 1.50, {"bf16": 3.12e14, "fp16": 3.12e14, "int8": 6.24e14}, _B3),
        GPU("h100", 2.00, {"bf16": 9.89e14, "fp16": 9.89e14, "fp8": 1.979e15,
                           "int8": 1.979e15}, "NVIDIA H100 SXM datasheet (dense)"),
    )
}

_SETTING_NAMES = ("train_price_per_hour", "train_peak_flops", "train_mfu",
                  "inference_price_per_hour", "inference_peak_flops", "prefill_mfu",
                  "decode_mfu")


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

    def __post_init__(self):
        for key in _SETTING_NAMES:
            high = 1.0 if key.endswith("mfu") else math.inf
            value = validate.scalar(key, getattr(self, key), high=high,
                                    label="hardware setting ")
            object.__setattr__(self, key, value)

    @classmethod
    def from_gpus(cls, train_gpu, inference_gpu, *, train_precision="bf16",
                  inference_precision="int8", train_mfu=0.5, prefill_mfu=0.5,
                  decode_mfu=0.01, name="custom", description=""):
        """Hardware from GPU presets (names or :class:`GPU`) and number formats."""
        train = GPUS[train_gpu] if isinstance(train_gpu, str) else train_gpu
        infer = GPUS[inference_gpu] if isinstance(inference_gpu, str) else inference_gpu
        return cls(train.price_per_hour, train.peak(train_precision), train_mfu,
                   infer.price_per_hour, infer.peak(inference_precision), prefill_mfu,
                   decode_mfu, name=name, description=description)

    @classmethod
    def from_settings(cls, settings, name="custom"):
        """Hardware from the seven settings in :meth:`as_tuple` order."""
        values = list(np.asarray(settings, dtype=object).ravel())
        if len(values) != 7:
            raise InvalidTypeError(
                f"hardware needs exactly 7 settings ({', '.join(_SETTING_NAMES)}), "
                f"got {len(values)}", argument="hardware", value=settings)
        numbers = [validate.coerce_float(key, value, label="hardware setting ")
                   for key, value in zip(_SETTING_NAMES, values, strict=True)]
        return cls(*numbers, name=name)

    @staticmethod
    def setting_names():
        return _SETTING_NAMES

    def as_tuple(self):
        return tuple(getattr(self, key) for key in _SETTING_NAMES)

    @property
    def train_cost_per_flop(self):
        """Dollars per training FLOP actually delivered (price / (3600 x peak x MFU))."""
        return self.train_price_per_hour / (SECONDS_PER_HOUR * self.train_peak_flops
                                            * self.train_mfu)

    @property
    def inference_cost_per_peak_flop(self):
        """Dollars per inference FLOP at 100% utilisation."""
        return self.inference_price_per_hour / (SECONDS_PER_HOUR * self.inference_peak_flops)

    def replace(self, **changes):
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Hardware(**values)


_PAPER = ("Sardana et al. 2024, Sec. 6 and App. B.2: train on A100-80GB (bf16, $1.50/h, "
          "50% MFU), infer on A100-40GB (int8, $1.10/h, 50% prefill MFU, 1% decode MFU)")
_PAPER_A100 = Hardware.from_gpus("a100-80gb", "a100-40gb", name="paper-a100",
                                 description=_PAPER)
# Inferred, not stated: the printed Table 3 matches (within ~1%) only when the inference
# cost per FLOP is 0.896 of the stated one, i.e. an A100-40GB at $0.986/h.
TABLE3_INFERENCE_PRICE = 0.986

HARDWARE_PRESETS: Mapping[str, Hardware] = {
    hw.name: hw for hw in (
        _PAPER_A100,
        _PAPER_A100.replace(
            name="paper-a100-table3", inference_price_per_hour=TABLE3_INFERENCE_PRICE,
            description=("INFERRED from the printed Table 3, not stated in the paper: as "
                         "paper-a100 but inference at $0.986/h instead of $1.10/h")),
        Hardware.from_gpus("a100-40gb", "a100-40gb", name="a100-40gb",
                           description="train bf16 and infer int8 on A100-40GB at $1.10/h"),
        Hardware.from_gpus("a100-80gb", "a100-80gb", name="a100-80gb",
                           description="train bf16 and infer int8 on A100-80GB at $1.50/h"),
        Hardware.from_gpus("h100", "h100", inference_precision="fp8", name="h100",
                           description="train bf16 and infer fp8 on H100 at $2.00/h"),
    )
}


def hardware_names():
    return list(HARDWARE_PRESETS)


def get_hardware(hardware=None):
    """Resolve hardware given as a preset name, seven settings or a :class:`Hardware`."""
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
            "seven settings", argument="hardware", value=hardware)
    return Hardware.from_settings(hardware)
