"""Inference-aware sizing: the cheapest model of a given loss over its whole life.

One objective serves both forms of the paper. A model with N parameters trained
on D tokens costs

    N * (k_train * D + k_inference)

where k_train is the cost of one parameter seeing one training token and
k_inference the lifetime inference cost of one parameter. In FLOPs
(Sardana et al. 2024, Eq. 3) k_train = 6 and k_inference = 2 D_inf; in dollars
(Eq. 6) k_train = 6 C_tr / MFU_tr and k_inference = 2 C_inf R (d_in / MFU_in +
d_out / MFU_out) for R requests. Compute-optimal is the cost-optimal problem
with unit costs. The minimiser depends only on r = k_inference / k_train (see
:mod:`xlplan.engine.paper.solver`).
"""

import contextlib
import math
from dataclasses import dataclass

import numpy as np

from .. import validate
from ..args import (
    HARDWARE,
    INFERENCE_TOKENS,
    INPUT_TOKENS,
    LAW,
    LOSS,
    OUTPUT_TOKENS,
    PARAMS,
    REQUESTS,
    TOKENS,
    UNIQUE_TOKENS,
    gate,
)
from ..constants import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    INFERENCE_FLOPS_PER_PARAM_TOKEN,
    TRAIN_FLOPS_PER_PARAM_TOKEN,
)
from ..data.data_sizing import capped_optimum
from ..errors import PLACEHOLDER, InvalidValueError
from .solver import chinchilla_point, scalar_optimum, solve_tokens

__all__ = [
    "ModelPlan",
    "OptimalPlan",
    "compute_optimal",
    "cost_optimal",
    "total_flops",
    "lifetime_cost",
    "dollar_rates",
]


@dataclass(frozen=True)
class ModelPlan:
    """One model and its lifetime bill.

    Attributes (floats, or arrays of the broadcast input shape)
    ----------
    params : parameters N.
    tokens : training tokens D.
    loss : predicted loss, nats per token.
    training, inference : cost of training and of serving, in ``unit``.
    unit : "FLOPs" or "USD".
    """

    params: object
    tokens: object
    loss: object
    training: object
    inference: object
    unit: str

    @property
    def total(self):
        return self.training + self.inference

    @property
    def tokens_per_param(self):
        return self.tokens / self.params


@dataclass(frozen=True)
class OptimalPlan:
    """The optimal model for a loss and a demand, beside the equal-loss Chinchilla model.

    Attributes
    ----------
    optimal : ModelPlan
        Minimises training + inference cost at the target loss.
    chinchilla : ModelPlan
        Minimises training cost alone at the same loss, serving the same demand.
    iterations : int or ndarray
        Halley iterations of the solver (0 where there is no demand).
    valid : bool or ndarray
        False where an input element was invalid (with ``on_invalid="nan"``).
    unique_tokens : float, ndarray or None
        Unique training tokens available; None for unlimited data.
    """

    optimal: ModelPlan
    chinchilla: ModelPlan
    iterations: object
    valid: object
    unique_tokens: object = None

    @property
    def epochs(self):
        """Passes of the optimal model over its unique data, D / min(U, D); 1 if unlimited."""
        if self.unique_tokens is None:
            return self.optimal.tokens / self.optimal.tokens
        return self.optimal.tokens / np.minimum(self.unique_tokens, self.optimal.tokens)

    @property
    def training_overhead(self):
        """Optimal training cost / Chinchilla-style training cost - 1 (de Vries 2023)."""
        return self.optimal.training / self.chinchilla.training - 1.0

    @property
    def params_ratio(self):
        """Optimal params / Chinchilla params."""
        return self.optimal.params / self.chinchilla.params

    @property
    def tokens_ratio(self):
        """Optimal training tokens / Chinchilla training tokens."""
        return self.optimal.tokens / self.chinchilla.tokens

    @property
    def total_ratio(self):
        """Optimal total cost / Chinchilla total cost."""
        return self.optimal.total / self.chinchilla.total

    @property
    def saving(self):
        """Fraction of the Chinchilla model's total cost saved: 1 - total_ratio."""
        return 1.0 - self.total_ratio


def _plan(loss, params, tokens, k_train, k_inference, unit):
    return ModelPlan(params, tokens, loss, k_train * params * tokens, k_inference * params, unit)


def _finite_rate(k_train, k_inference, argument, source, on_invalid):
    """r = k_inference / k_train, checked: inputs valid one by one can still overflow
    (9e307 tokens doubled, or a price times requests past 1.8e308)."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        r = np.divide(k_inference, k_train)
    overflow = ~np.isfinite(r)  # under "raise" no input is NaN: any NaN is an overflow
    if np.any(overflow):
        if on_invalid == "raise":
            raise _overflow(argument, _first(np.broadcast_to(source, np.shape(overflow)), overflow))
        r = np.where(overflow, np.nan, r)
    return float(r) if np.ndim(r) == 0 else r


def _checked_plan(plan, on_invalid):
    """Valid inputs whose optimal model leaves the float range are an error, not inf."""
    given = ~np.isnan(np.asarray(plan.optimal.loss, dtype=np.float64))
    finite = np.isfinite(np.asarray(plan.optimal.total, dtype=np.float64)) & np.isfinite(
        np.asarray(plan.chinchilla.total, dtype=np.float64)
    )
    if on_invalid == "raise" and np.any(given & ~finite):
        raise _out_of_range(_first(plan.optimal.loss, given & ~finite))
    return plan


def _overflow(argument, value):
    return InvalidValueError(
        f"{PLACEHOLDER}={value:g} is too large: the lifetime inference cost it implies "
        "overflows the float range (1.8e308) with these settings; no plan can be "
        "computed",
        argument=argument,
        value=value,
    )


def _out_of_range(loss):
    return InvalidValueError(
        f"the optimal model for {PLACEHOLDER}={loss:g} is out of the float range "
        "(parameters, tokens or cost past 1.8e308 or below 1e-308): the inputs are "
        "outside any meaningful range",
        argument="loss",
        value=loss,
    )


def _first(values, mask):
    return float(np.asarray(values, dtype=np.float64)[np.asarray(mask)].flat[0])


def _optimal_plan(
    law,
    loss,
    k_train,
    k_inference,
    unit,
    unique=None,
    on_invalid="raise",
    argument="inference_tokens",
    source=None,
):
    """Solve min N (k_train D + k_inference) at ``loss``; ``loss`` already checked.

    With ``unique`` (unique tokens, checked) the loss is the data-constrained one
    (:mod:`.data_sizing`) and the Chinchilla side is the training-only optimum under
    the same cap. An element with any invalid input (NaN after ``on_invalid="nan"``)
    is NaN in every field of both plans, scalar or array; ``argument`` and
    ``source`` (its values) name the demand in the error when the cost overflows.
    """
    if (
        unique is None
        and on_invalid == "raise"
        and type(loss) is float
        and type(k_inference) is float
    ):
        return _scalar_plan(
            law,
            loss,
            k_train,
            k_inference,
            unit,
            argument,
            k_inference if source is None else source,
        )
    r = _finite_rate(
        k_train, k_inference, argument, k_inference if source is None else source, on_invalid
    )
    with np.errstate(invalid="ignore"):
        loss = loss + 0.0 * r  # NaN where the demand is invalid, so every field is NaN
        k_inference = k_inference + 0.0 * loss
    if np.ndim(loss) == 0:
        loss, k_inference = float(loss), float(k_inference)
    gap = loss - law.E
    if unique is None:
        solved = solve_tokens(law, gap, r)
        tokens, params, iterations = solved.tokens, solved.params, solved.iterations
        # The equal-loss Chinchilla model is the r = 0 case: analytic, no second solve.
        chin_tokens, chin_params = chinchilla_point(law, gap)
    else:
        tokens, params, iterations, chin_tokens, chin_params = capped_optimum(
            law, loss, r, unique, on_invalid
        )
        if not isinstance(tokens, float):
            loss, k_inference = np.broadcast_arrays(loss, k_inference, unique)[:2]
    if not isinstance(tokens, float):  # broadcast the Chinchilla side to the same shape
        loss, k_inference = np.broadcast_arrays(loss, k_inference)
        chin_params, chin_tokens = (
            np.broadcast_to(chin_params, loss.shape),
            np.broadcast_to(chin_tokens, loss.shape),
        )
    with np.errstate(over="ignore", invalid="ignore"):
        optimal = _plan(loss, params, tokens, k_train, k_inference, unit)
        chinchilla = _plan(loss, chin_params, chin_tokens, k_train, k_inference, unit)
    plan = OptimalPlan(optimal, chinchilla, iterations, validate.valid_mask(optimal.total), unique)
    return _checked_plan(plan, on_invalid)


def _scalar_plan(law, loss, k_train, k_inference, unit, argument, source):
    """:func:`_optimal_plan` for one valid float of each: ``math`` only (one Excel cell).

    Python float arithmetic overflows to inf without raising (only ``**`` raises,
    and the solver catches that), so the same finiteness checks as the array path
    apply, with the same messages.
    """
    r = k_inference / k_train
    if r - r != 0.0:  # inf or NaN
        raise _overflow(argument, float(source))
    gap = loss - law.E
    found = scalar_optimum(law, gap, r)
    if found is None:  # past the float range: numpy's inf, reported below
        solved = solve_tokens(law, gap, r)
        chin_tokens, chin_params = chinchilla_point(law, gap)
        tokens, params, iterations = solved.tokens, solved.params, solved.iterations
    else:
        tokens, params, iterations, chin_tokens, chin_params = found
    # _plan's costs, and ModelPlan.total of each, on floats
    training, inference = k_train * params * tokens, k_inference * params
    chin_training, chin_inference = k_train * chin_params * chin_tokens, k_inference * chin_params
    if not (math.isfinite(training + inference) and math.isfinite(chin_training + chin_inference)):
        raise _out_of_range(loss)
    plan = _new(OptimalPlan)
    fields = plan.__dict__
    fields["optimal"] = _model_plan(params, tokens, loss, training, inference, unit)
    fields["chinchilla"] = _model_plan(
        chin_params, chin_tokens, loss, chin_training, chin_inference, unit
    )
    fields["iterations"], fields["valid"], fields["unique_tokens"] = iterations, True, None
    return plan


_new = object.__new__


def _model_plan(params, tokens, loss, training, inference, unit):
    """``ModelPlan(...)`` in a third of the time of the frozen dataclass's ``__init__``
    (six ``object.__setattr__`` calls), for the scalar path: the same object."""
    plan = _new(ModelPlan)
    fields = plan.__dict__
    fields["params"], fields["tokens"], fields["loss"] = params, tokens, loss
    fields["training"], fields["inference"], fields["unit"] = training, inference, unit
    return plan


@gate(LOSS, INFERENCE_TOKENS, LAW, UNIQUE_TOKENS)
def compute_optimal(loss, inference_tokens, law=None, on_invalid="raise", unique_tokens=None):
    """Model minimising training + inference FLOPs at a target loss (Eq. 3).

    Parameters
    ----------
    loss : float or array_like
        Target pre-training loss, nats per token; must exceed the law's E.
    inference_tokens : float or array_like
        Lifetime inference demand D_inf, tokens (input + output), >= 0.
    law : str, sequence of 5 floats or ScalingLaw, optional
        Default ``"chinchilla"``.
    on_invalid : {"raise", "nan"}
        For arrays: raise listing every bad element, or give NaN there.
    unique_tokens : float or array_like, optional
        Unique training tokens available, > 0. None (default): unlimited, the
        paper's problem. Given: the loss is Muennighoff et al.'s data-constrained
        one and training may repeat data (see :mod:`xlplan.engine.data.data_sizing`).

    Returns
    -------
    OptimalPlan
        In FLOPs: training 6 N D, inference 2 N D_inf.

    Raises
    ------
    UnreachableLossError
        Loss at or below E, or below what ``unique_tokens`` allow at all.

    Warns
    -----
    RepetitionWarning
        With ``unique_tokens``, when the optimum needs more than 4 epochs.

    Examples
    --------
    >>> plan = compute_optimal(2.0, 1e13)
    >>> f"{plan.optimal.params:.3e} {plan.saving:.1%}"
    '7.717e+09 37.3%'
    """
    if type(inference_tokens) is float:
        k_inference = INFERENCE_FLOPS_PER_PARAM_TOKEN * inference_tokens
    else:
        with np.errstate(over="ignore"):
            k_inference = INFERENCE_FLOPS_PER_PARAM_TOKEN * np.multiply(inference_tokens, 1.0)
    return _optimal_plan(
        law,
        loss,
        TRAIN_FLOPS_PER_PARAM_TOKEN,
        k_inference,
        "FLOPs",
        unique_tokens,
        on_invalid,
        "inference_tokens",
        inference_tokens,
    )


def dollar_rates(requests, input_tokens, output_tokens, hardware, on_invalid="raise"):
    """(k_train, k_inference) in dollars per param-token and per param.

    Checked arguments only (a :class:`~xlplan.engine.hardware.Hardware`, floats or
    arrays >= 0); the public functions' gate has done that.
    """
    k_train, per_flop, prefill_mfu, decode_mfu = hardware_rates(hardware)
    k_inference = per_flop * requests * (input_tokens / prefill_mfu + output_tokens / decode_mfu)
    return k_train, k_inference


def hardware_rates(hw):
    """(k_train, 2 x inference $ per peak FLOP, prefill MFU, decode MFU) of ``hw``,
    computed once per hardware and kept on it (it is frozen, as laws are)."""
    try:
        return hw._dollar_rates
    except AttributeError:
        pass
    values = (
        TRAIN_FLOPS_PER_PARAM_TOKEN * hw.train_cost_per_flop,
        INFERENCE_FLOPS_PER_PARAM_TOKEN * hw.inference_cost_per_peak_flop,
        hw.prefill_mfu,
        hw.decode_mfu,
    )
    with contextlib.suppress(AttributeError, TypeError):  # no __dict__: uncached
        object.__setattr__(hw, "_dollar_rates", values)
    return values


@gate(LOSS, REQUESTS, INPUT_TOKENS, OUTPUT_TOKENS, HARDWARE, LAW, UNIQUE_TOKENS)
def cost_optimal(
    loss,
    requests,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    law=None,
    on_invalid="raise",
    unique_tokens=None,
):
    """Model minimising lifetime dollars (training + inference) at a target loss (Eq. 6).

    Parameters
    ----------
    loss : float or array_like
        Target loss, nats per token; must exceed the law's E.
    requests : float or array_like
        Lifetime inference requests, >= 0.
    input_tokens, output_tokens : float or array_like
        Tokens per request, prompt and generated (defaults 70 and 215).
    hardware : str, sequence of 7 floats or Hardware, optional
        Default ``"paper-a100"``.
    law : optional
        Default ``"chinchilla"``.
    unique_tokens : float or array_like, optional
        Unique training tokens available (None: unlimited); as in
        :func:`compute_optimal`.

    Returns
    -------
    OptimalPlan
        In US dollars.
    """
    k_train, k_inference = dollar_rates(requests, input_tokens, output_tokens, hardware)
    return _optimal_plan(
        law, loss, k_train, k_inference, "USD", unique_tokens, on_invalid, "requests", requests
    )


@gate(PARAMS, TOKENS, INFERENCE_TOKENS)
def total_flops(params, tokens, inference_tokens, on_invalid="raise"):
    """Training plus inference FLOPs: 6 N D + 2 N D_inf."""
    return (
        TRAIN_FLOPS_PER_PARAM_TOKEN * params * tokens
        + INFERENCE_FLOPS_PER_PARAM_TOKEN * params * inference_tokens
    )


@gate(PARAMS, TOKENS, REQUESTS, INPUT_TOKENS, OUTPUT_TOKENS, HARDWARE, LAW)
def lifetime_cost(
    params,
    tokens,
    requests,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    on_invalid="raise",
    law=None,
):
    """Dollars to train a model of ``params`` on ``tokens`` and serve ``requests``.

    ``law`` (default ``"chinchilla"``, as everywhere) gives the model's predicted
    ``loss``; the dollars do not depend on it.

    Returns
    -------
    ModelPlan
        ``training``, ``inference`` and ``total`` in US dollars; ``loss`` in nats per
        token under ``law``.
    """
    k_train, k_inference = dollar_rates(requests, input_tokens, output_tokens, hardware)
    return ModelPlan(
        params,
        tokens,
        law.loss(params, tokens),
        k_train * params * tokens,
        k_inference * params,
        "USD",
    )
