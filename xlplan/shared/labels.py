"""Column labels that several faces show, written once.

The seven hardware settings, in the order of
:meth:`xlplan.engine.hardware.Hardware.as_tuple`: the headers of the hardware
rows in the templates, the result columns of ``XLPLAN_HARDWARE``, the help of
every ``hardware`` argument and the report's assumptions.
"""

__all__ = [
    "HARDWARE_LABELS",
    "HARDWARE_FORMATS",
    "SERVING_HARDWARE_LABELS",
    "POWER_LABELS",
    "SERVING_HARDWARE_FORMATS",
]

HARDWARE_LABELS = (
    "train $/GPU-hour",
    "train peak FLOP/s",
    "train MFU",
    "inference $/GPU-hour",
    "inference peak FLOP/s",
    "prefill MFU",
    "decode MFU",
)
# Number formats of those columns (keys of xlplan.shared.styles.FORMATS).
HARDWARE_FORMATS = (
    "usd_rate",
    "flops_rate",
    "percent",
    "usd_rate",
    "flops_rate",
    "percent",
    "percent",
)
# The three serving settings a hardware row may carry after the seven (ten in all):
# what the roofline serving model needs (xlplan.engine.deploy.serving).
SERVING_HARDWARE_LABELS = (
    "inference memory bandwidth (B/s)",
    "inference GPU memory (B)",
    "bytes per weight",
)
SERVING_HARDWARE_FORMATS = ("bandwidth", "bytes", "ratio")
# Two more a preset can give (XLPLAN_HARDWARE's power=TRUE): board power, for energy only.
POWER_LABELS = ("training board power (W)", "inference board power (W)")
