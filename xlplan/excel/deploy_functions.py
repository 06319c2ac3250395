"""Excel functions of deployment as it runs: model shape, KV cache, latency, training time.

Thin adapters over :mod:`xlplan.engine.deploy` (``shape``, ``kvcache``, ``latency``,
``training``), re-exported by :mod:`xlplan.udfs`. A ``model`` argument is a shape
preset name (``"llama-3-70b"``) or a number of parameters, which the default shape
rule turns into a shape. Hardware for the serving functions needs its ten settings.

>>> KV_BYTES("llama-3-70b", 2)
327680.0
>>> TRAINING_TIME(70e9, 1.4e12, 1024, "h100")  # doctest: +ELLIPSIS
[[13.43994..., 330299.96..., 660599.93...]]
"""

from ..engine.constants import DEFAULT_INPUT_TOKENS
from ..engine.deploy import kv_sizing, kvcache, latency, shape, training
from ..engine.errors import PLACEHOLDER, InvalidTypeError, InvalidValueError
from ..engine.hardware import get_hardware
from . import convert
from . import params as shared
from .registry import Param, excel_function

__all__ = ["MODEL_SHAPE", "KV_BYTES", "SERVING_KV", "MAX_BATCH", "COST_OPT_KV",
           "TRAINING_TIME", "TRAINING_GPUS"]

_MODEL = Param("model", "A shape preset such as \"llama-3-70b\", or a number of parameters "
               "(the default shape rule).")
_HARDWARE = Param("hardware", "Hardware with ten settings: a preset such as \"h100\" or a "
                  "1x10 range from XLPLAN_HARDWARE(name, TRUE). Default paper-a100.",
                  optional=True, range=True)
_CONTEXT = Param("context", "Tokens each sequence holds in the KV cache, >= 0; 0 switches the "
                 "cache off (today's SERVING).")
_BATCH = Param("batch", "Sequences decoded together, a whole number >= 1. Default 1.",
               optional=True)
_TPOT = Param("tpot_target", "Largest time per output token, seconds (e.g. 0.05). Default: "
              "none.", optional=True)
_TTFT = Param("ttft_target", "Largest time to first token, seconds (e.g. 1). Default: none.",
              optional=True)
_KV = Param("kv_bytes_per_token", "KV-cache bytes per token (KV_BYTES). Default: the shape "
            "rule at the inference precision.", optional=True)
_GPUS = Param("gpus", "GPUs of one copy of the model. Default: the fewest that hold the "
              "weights and the cache.", optional=True)
_SERVING_RESULT = ("decode MFU", "decode tokens/s per GPU", "$ per 1M input tokens",
                   "$ per 1M output tokens", "GPUs per copy", "TPOT (s)", "TTFT (s)",
                   "KV cache (bytes)")
_TRAINING = (Param("params", "Model size: number of parameters, e.g. 7E9."), shared.TOKENS)


def _model(value):
    """A ModelShape for a preset name, or the number of parameters."""
    value = convert.single("model", value)
    if isinstance(value, str) and value.strip().lower() in shape.SHAPE_PRESETS:
        return shape.get_shape(value)
    try:
        return convert.number("model", value)
    except InvalidTypeError:
        if isinstance(value, str):
            return shape.get_shape(value)  # not a number: the error lists the presets
        raise


def _serving_hardware(hardware, purpose):
    hw = get_hardware(convert.hardware(hardware))
    hw.require_serving_settings(purpose)
    return hw


@excel_function(_MODEL, result=("layers", "d_model", "heads", "KV heads", "head dim",
                                "FFN dim", "vocabulary", "parameters"))
def MODEL_SHAPE(model):
    """Shape (1x8) of a preset or of the default rule for N: layers, widths, heads, params."""
    found = _model(model)
    found = found if isinstance(found, shape.ModelShape) else shape.shape_for_params(found)
    return convert.row(*found.as_tuple())


@excel_function(_MODEL, Param("bytes_per_element", "Bytes per cached key or value element "
                              "(2 for 16 bits). Default: the hardware's inference precision.",
                              optional=True), shared.HARDWARE)
def KV_BYTES(model, bytes_per_element=None, hardware=None):
    """KV-cache bytes per token: 2 x layers x KV heads x head dim x bytes per element."""
    found = _model(model)
    # seven-setting hardware has no inference precision: 16 bits
    default = get_hardware(convert.hardware(hardware)).bytes_per_weight or 2.0
    b = convert.optional_number("bytes_per_element", bytes_per_element, default)
    if isinstance(found, shape.ModelShape):
        return convert.result(found.kv_bytes_per_token(b))
    return convert.result(shape.kv_bytes_for_params(found, b))


@excel_function(shared.PARAMS, _CONTEXT, _HARDWARE, _BATCH, _TPOT, _TTFT, shared.INPUT_TOKENS,
                _KV, _GPUS, result=_SERVING_RESULT)
def SERVING_KV(params, context, hardware=None, batch=None, tpot_target=None, ttft_target=None,
               input_tokens=None, kv_bytes_per_token=None, gpus=None):
    """Serving a batch with its KV cache (1x8); a latency target it misses is #NUM!."""
    hw = _serving_hardware(hardware, "SERVING_KV")
    s = kvcache.kv_serving(
        convert.number("params", params), hw, convert.optional_number("batch", batch, 1.0),
        convert.number("context", context), convert.optional_number(
            "kv_bytes_per_token", kv_bytes_per_token, None),
        convert.optional_number("input_tokens", input_tokens, DEFAULT_INPUT_TOKENS),
        1.0, convert.optional_number("gpus", gpus, None))
    for name, target, value in (("tpot_target", tpot_target, s.tpot),
                                ("ttft_target", ttft_target, s.ttft)):
        limit = convert.optional_number(name, target, None)
        if limit is not None and value > limit:
            raise InvalidValueError(f"{PLACEHOLDER}={limit:g} s is not met at this batch: it "
                                    f"takes {value:.4g} s (MAX_BATCH finds the largest batch "
                                    "that meets it)", argument=name, value=limit)
    return convert.row(s.decode_mfu, s.decode_tokens_per_s, s.usd_per_million_input,
                       s.usd_per_million_output, s.gpus_per_copy, s.tpot, s.ttft,
                       s.kv_cache_bytes)


@excel_function(shared.PARAMS, _CONTEXT, _TPOT, _TTFT, _HARDWARE, shared.INPUT_TOKENS, _KV,
                Param("gpus", "GPUs of one copy. Default: the fewest that hold the weights; "
                      "the cache takes the rest.", optional=True),
                result=("batch",) + _SERVING_RESULT)
def MAX_BATCH(params, context, tpot_target=None, ttft_target=None, hardware=None,
              input_tokens=None, kv_bytes_per_token=None, gpus=None):
    """Largest batch meeting the targets and memory (1x9): batch, then SERVING_KV's row."""
    plan = latency.max_batch(
        convert.number("params", params), _serving_hardware(hardware, "MAX_BATCH"),
        convert.number("context", context), convert.optional_number("tpot_target",
                                                                    tpot_target, None),
        convert.optional_number("ttft_target", ttft_target, None),
        convert.optional_number("kv_bytes_per_token", kv_bytes_per_token, None),
        convert.optional_number("input_tokens", input_tokens, DEFAULT_INPUT_TOKENS),
        1.0, convert.optional_number("gpus", gpus, None))
    s = plan.serving
    return convert.row(plan.batch, s.decode_mfu, s.decode_tokens_per_s,
                       s.usd_per_million_input, s.usd_per_million_output, s.gpus_per_copy,
                       s.tpot, s.ttft, s.kv_cache_bytes)


@excel_function(shared.LOSS, shared.REQUESTS, _CONTEXT, shared.INPUT_TOKENS,
                shared.OUTPUT_TOKENS, _HARDWARE, _BATCH, shared.LAW, result=("params", "tokens"))
def COST_OPT_KV(loss, requests, context, input_tokens=None, output_tokens=None, hardware=None,
                batch=None, law=None):
    """Params, tokens (1x2) minimising lifetime dollars with decode priced with the KV cache."""
    plan = kv_sizing.kv_cost_optimal(
        convert.number("loss", loss), convert.number("requests", requests),
        *convert.per_request(input_tokens, output_tokens),
        hardware=_serving_hardware(hardware, "COST_OPT_KV"), law=convert.law(law),
        batch=convert.optional_number("batch", batch, 1.0),
        context=convert.number("context", context))
    return convert.size_row(plan.optimal.params, plan.optimal.tokens)


def _training(solve, params, tokens, name, value, hardware):
    """A :class:`~xlplan.engine.deploy.training.TrainingPlan` from Excel values."""
    return solve(convert.number("params", params), convert.number("tokens", tokens),
                 convert.number(name, value), convert.hardware(hardware))


@excel_function(*_TRAINING, Param("gpus", "GPUs training together, > 0."), shared.HARDWARE,
                result=("days", "GPU-hours", "training $"))
def TRAINING_TIME(params, tokens, gpus, hardware=None):
    """Days, GPU-hours and dollars (1x3) to train params on tokens with gpus GPUs."""
    plan = _training(training.training_time, params, tokens, "gpus", gpus, hardware)
    return convert.row(plan.days, plan.gpu_hours, plan.dollars)


@excel_function(*_TRAINING, Param("days", "Deadline in days, > 0."), shared.HARDWARE,
                result=("GPUs", "days", "training $"))
def TRAINING_GPUS(params, tokens, days, hardware=None):
    """Fewest GPUs to train within a deadline (1x3): GPUs, days at that count, dollars."""
    plan = _training(training.gpus_for_deadline, params, tokens, "days", days, hardware)
    return convert.row(plan.gpus, plan.days, plan.dollars)
