"""Constants and defaults that several layers use, each written once.

The engine, the fitter and every face (Excel functions, templates, reports,
CLI) import these names; no other module spells the numbers.
"""

__all__ = ["TRAIN_FLOPS_PER_PARAM_TOKEN", "INFERENCE_FLOPS_PER_PARAM_TOKEN",
           "DEFAULT_INPUT_TOKENS", "DEFAULT_OUTPUT_TOKENS", "DEFAULT_LAW", "DEFAULT_HARDWARE",
           "DEFAULT_DELTA"]

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

# Huber threshold of the fitting objective (the paper's Eq. 4, after Hoffmann et al.),
# in log-loss units.
DEFAULT_DELTA = 1e-3
