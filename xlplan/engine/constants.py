"""Constants and defaults that several layers use, each written once.

The engine, the fitter and every face (Excel functions, templates, reports,
CLI) import these names; no other module spells the numbers.
"""

__all__ = [
    "TRAIN_FLOPS_PER_PARAM_TOKEN",
    "INFERENCE_FLOPS_PER_PARAM_TOKEN",
    "DEFAULT_INPUT_TOKENS",
    "DEFAULT_OUTPUT_TOKENS",
    "DEFAULT_LAW",
    "DEFAULT_HARDWARE",
    "DEFAULT_DELTA",
    "SECONDS_PER_HOUR",
    "HOURS_PER_DAY",
    "DAYS_PER_YEAR",
    "MONTHS_PER_YEAR",
    "DAYS_PER_MONTH",
    "HOURS_PER_MONTH",
    "DEFAULT_CLUSTER_GPUS",
    "DEFAULT_CONTEXT_TOKENS",
]

# FLOPs per parameter per token (Kaplan et al. 2020; Sardana et al. 2024, Eq. 3):
# training is forward + backward, inference the forward pass only.
TRAIN_FLOPS_PER_PARAM_TOKEN = 6.0
INFERENCE_FLOPS_PER_PARAM_TOKEN = 2.0

# Tokens per request: LMSYS-Chat averages used by Sardana et al. 2024, App. B.2.
DEFAULT_INPUT_TOKENS = 70.0
DEFAULT_OUTPUT_TOKENS = 215.0

# Presets used when no law or hardware is given.
DEFAULT_LAW = "chinchilla"
DEFAULT_HARDWARE = "paper-a100"

# Deployment as it runs, where a planner or report needs a value before the user gives one:
# GPUs of the training cluster, and tokens each served sequence keeps in its KV cache (4k).
DEFAULT_CLUSTER_GPUS = 256.0
DEFAULT_CONTEXT_TOKENS = 4096.0

# Huber threshold of the fitting objective (the paper's Eq. 4, after Hoffmann et al.),
# in log-loss units.
DEFAULT_DELTA = 1e-3

# Time. Prices are per GPU-hour and peaks per second; plans count months of an
# average 365-day year (leap days ignored), so a month is 8,760 h / 12 = 730 h
# and a daily demand times 365 / 12 is a monthly one.
SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.0
MONTHS_PER_YEAR = 12.0
DAYS_PER_MONTH = DAYS_PER_YEAR / MONTHS_PER_YEAR
HOURS_PER_MONTH = HOURS_PER_DAY * DAYS_PER_YEAR / MONTHS_PER_YEAR  # 730.0 exactly
