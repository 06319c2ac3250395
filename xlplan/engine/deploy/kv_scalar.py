"""The KV-aware searches for one scenario of floats (one Excel cell).

:func:`.kv_sizing.kv_cost_optimal` and :func:`.kv_budget.kv_best_for_budget` search
with numpy on arrays of one element, paying numpy's per-call overhead on each of about
a hundred evaluations. Here the same searches run on Python floats: the same grid, the
same golden-section steps, the same certification, the same Illinois steps for N_max
and the same Newton steps of the shape rule. Golden section ends where the objective
is flat to below its rounding, so its last comparisons are decided by the last bit of
each value: every exp, expm1, log and power is therefore numpy's own ufunc called on a
float (numpy's vectorised exp and power differ from :mod:`math`'s in the last bit for a
few percent of arguments), and the arithmetic between them is written in the array
path's order. The only arrays are the 48 grid points', whose exp and power calls run
once on the whole grid (the same floats, element by element). The answers are the
array path's, bit for bit.

:func:`cost_search` and :func:`budget_search` return None where the float path would
leave the array path's semantics (a NaN, a division by zero, a search that does not
converge or certify): the caller then runs the array path, which gives its answer or
its error.
"""

import math

import numpy as np

from ..constants import INFERENCE_FLOPS_PER_PARAM_TOKEN, TRAIN_FLOPS_PER_PARAM_TOKEN
from ..roots import MAX_ITERATIONS as MAX_ILLINOIS
from . import shape
from .kv_sizing import (
    _GOLDEN,
    CERTIFY_SLACK,
    GRID_POINTS,
    MAX_ITERATIONS,
    Z_SPAN,
    Z_TOLERANCE,
)

__all__ = []

# numpy's ufuncs on floats (see above); no other numpy on this path.
_exp, _expm1, _log, _log1p = np.exp, np.expm1, np.log, np.log1p
_power, _array = np.power, np.array
# The array path's grid offsets, Z_SPAN x linspace(1, 0): the same floats.
_OFFSETS = Z_SPAN * np.linspace(1.0, 0.0, GRID_POINTS)
_THIRD = 1.0 / 3.0
_BELOW_KINK = (shape._BLOCK + 2.0) * shape.ASPECT_RATIO**2
_ABOVE_KINK = shape._BLOCK * shape.ASPECT_RATIO**2


class _Leave(Exception):
    """The scalar path stops: the array path answers (or raises its error)."""


_ASPECT, _KINK_WIDTH, _KINK_LAYERS = shape.ASPECT_RATIO, shape._KINK_WIDTH, shape._KINK_LAYERS
_BLOCK, _RTOL, _MAX_NEWTON = shape._BLOCK, shape._LAYER_TOLERANCE, shape._MAX_NEWTON
# Above this N the rule's closed-form layers, (N / _BELOW_KINK)^(1/3), exceed the kink's
# 8 by far more than the power's rounding: Newton applies without computing them.
_SURELY_ABOVE = _BELOW_KINK * _KINK_LAYERS**3 * (1.0 + 1e-9)


def _layers(n):
    """:func:`.shape.rule_layers` for a float (numpy's power, as on arrays)."""
    if n > _SURELY_ABOVE:
        return _newton(n, float(_power(n / _ABOVE_KINK, _THIRD)))
    layers = float(_power(n / _BELOW_KINK, _THIRD))
    if not layers > _KINK_LAYERS:
        return layers
    return _newton(n, float(_power(n / _ABOVE_KINK, _THIRD)))


def _newton(
    n, top, a=_ASPECT, block=_BLOCK, block3=3.0 * _BLOCK, width=_KINK_WIDTH, kink=_KINK_LAYERS
):
    """Layers above the kink: :func:`.shape._newton_layers`' steps from ``top``
    (:func:`..roots.halley_scalar`'s, with ``shape._rule_params`` written in line; the
    constants are locals, and max(1, |x|) is x, which stays >= the kink's 8 layers)."""
    x, rtol = top, _RTOL
    for _ in range(_MAX_NEWTON):
        d = a * x
        f = x * (block * d * d + 2.0 * d * width) - n
        step = f / (block3 * d * d + 4.0 * d * width)
        new = x - step
        x = kink if new < kink else top if new > top else new
        if (step if step >= 0 else -step) <= rtol * x:
            return x
        if f != f:
            raise _Leave
    raise _Leave  # not converged: the array path raises its error


def request_cost(hw, requests, d_in, d_out, batch, context, kv_element, u):
    """``cost(n, top=None)``: :func:`.kv_sizing.kv_request_cost` of one float scenario.

    The roofline MFUs (:func:`.kvcache.roofline_mfu`) and KV bytes
    (:func:`.shape.kv_bytes_for_params`) are written in line, in the array path's
    order. ``top``, given where N > ``_SURELY_ABOVE``, is the start of the shape
    rule's Newton steps, (N / _ABOVE_KINK)^(1/3), computed by the caller.
    """
    price, cap = hw.inference_cost_per_peak_flop, hw.prefill_mfu
    weight, peak = hw.bytes_per_weight, hw.inference_peak_flops
    bandwidth = hw.inference_memory_bandwidth
    decode_top = INFERENCE_FLOPS_PER_PARAM_TOKEN * batch * u * bandwidth
    prefill_tokens = batch * d_in
    prefill_top = INFERENCE_FLOPS_PER_PARAM_TOKEN * prefill_tokens * u * bandwidth
    prefill_on = context > 0 and d_in > 0
    cached = batch * context

    def cost(n, top=None):
        layers = _layers(n) if top is None else _newton(n, top)
        width = _ASPECT * layers
        kv = 2.0 * layers * (width if width < _KINK_WIDTH else _KINK_WIDTH) * kv_element
        decode = decode_top / ((weight + cached * kv / n) * peak)
        if not decode < cap:
            if decode != decode:
                raise _Leave  # numpy's minimum keeps a NaN
            decode = cap
        prefill = cap
        if prefill_on:
            prefill = prefill_top / ((weight + prefill_tokens * kv / n) * peak)
            if not prefill < cap:
                if prefill != prefill:
                    raise _Leave
                prefill = cap
        flops = INFERENCE_FLOPS_PER_PARAM_TOKEN * n * price
        return requests * flops * (d_in / prefill + d_out / decode)

    return cost


def _golden(f, a, b):
    """:func:`.kv_sizing._golden` on floats: (best z, iterations)."""
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    for iteration in range(1, MAX_ITERATIONS + 1):
        if fc <= fd:  # the minimum is in [a, d]
            b = d
            new = b - _GOLDEN * (b - a)
            c, d, fd = new, c, fc
            fc = f(new)
        else:
            a = c
            new = a + _GOLDEN * (b - a)
            c, d, fc = d, new, fd
            fd = f(new)
        if not (b - a) > Z_TOLERANCE:
            return (c if fc <= fd else d), iteration
    raise _Leave


def bracketed_minimum(f, on_grid, z_top):
    """:func:`.kv_sizing.bracketed_minimum` for one scenario: (z, steps).

    ``on_grid(z)`` gives f's floats on the grid, an array of z: its exp and power calls
    once on the whole grid (the same floats, element by element) where f makes one per
    point; ``f(z)`` serves the golden-section steps.
    """
    grid = z_top - _OFFSETS
    values = on_grid(grid)
    grid = grid.tolist()
    best, grid_best = 0, values[0]
    for i in range(GRID_POINTS):
        value = values[i]
        if value != value:
            raise _Leave  # numpy's argmin picks a NaN: the array path's answer
        if value < grid_best:  # the first of equal values, as numpy's argmin
            best, grid_best = i, value
    low = grid[best - 1 if best > 0 else 0]
    high = grid[best + 1 if best < GRID_POINTS - 1 else GRID_POINTS - 1]
    z, steps = _golden(f, low, high)
    if f(z) > grid_best * (1.0 + CERTIFY_SLACK):
        raise _Leave  # not certified: the array path raises its error
    return z, steps


def chinchilla(law, gap):
    """:func:`..paper.solver.chinchilla_point` (tokens, params) for a float, numpy's
    powers as on an array (its float path uses Python's)."""
    alpha, beta = law.alpha, law.beta
    ab = alpha + beta
    c1 = law.B * (alpha + beta) / alpha
    params_base = law.A * ab * (1.0 + 0.0) / (gap * (beta + ab * 0.0))
    return _pair_power(c1 / gap, params_base, 1.0 / beta, 1.0 / alpha)


def _pair_power(a, b, p, q):
    """(a**p, b**q) by numpy's power: one call on a pair, the same floats as on arrays."""
    return _power(_array((a, b)), _array((p, q))).tolist()


def cost_search(law, hw, loss, requests, d_in, d_out, c, batch, u, kv_element):
    """:func:`.kv_sizing._search` for floats, or None: ((params, tokens, training $,
    serving $) of the optimum, the same of the Chinchilla model, golden-section steps)."""
    try:
        gap = loss - law.E
        chin_tokens, chin_params = chinchilla(law, gap)
        n_min = float(_power(law.A / gap, 1.0 / law.alpha))
        k_train = TRAIN_FLOPS_PER_PARAM_TOKEN * hw.train_cost_per_flop
        demand = request_cost(hw, requests, d_in, d_out, batch, c, kv_element, u)
        B, minus_alpha, inverse_beta = law.B, -law.alpha, 1.0 / law.beta

        exponents = _array((inverse_beta, _THIRD))

        def at(z):
            s = float(_exp(z))
            n = n_min * float(_exp(s))
            base = B / (-gap * float(_expm1(minus_alpha * s)))
            if n > _SURELY_ABOVE:  # both powers in one call
                tokens, top = _power(_array((base, n / _ABOVE_KINK)), exponents).tolist()
                return n, tokens, top
            return n, float(_power(base, inverse_beta)), None

        def f(z):
            s = float(_exp(z))
            n = n_min * float(_exp(s))
            base = B / (-gap * float(_expm1(minus_alpha * s)))
            if n > _SURELY_ABOVE:  # both powers in one call; at(z) in line
                tokens, top = _power(_array((base, n / _ABOVE_KINK)), exponents).tolist()
                return k_train * n * tokens + demand(n, top)
            return k_train * n * float(_power(base, inverse_beta)) + demand(n)

        def on_grid(z):
            s = _exp(z)
            n = n_min * _exp(s)
            tokens = _power(B / (-gap * _expm1(minus_alpha * s)), inverse_beta).tolist()
            tops = _power(n / _ABOVE_KINK, _THIRD).tolist()
            n = n.tolist()
            return [
                k_train * n[i] * tokens[i] + demand(n[i], tops[i] if n[i] > _SURELY_ABOVE else None)
                for i in range(GRID_POINTS)
            ]

        z_top = float(_log(float(_log(chin_params / n_min))))
        z, iterations = bracketed_minimum(f, on_grid, z_top)
        n, tokens, _ = at(z)
        optimal = (n, tokens, k_train * n * tokens, demand(n))
        chin = (chin_params, chin_tokens, k_train * chin_params * chin_tokens, demand(chin_params))
        return optimal, chin, iterations
    except (_Leave, ZeroDivisionError, OverflowError):
        return None


def _illinois(fun, low, high, f_low, f_high, xtol):
    """:func:`..roots.illinois` for floats: the root (midpoint of the final bracket)."""
    nudge = 0.25 * xtol
    side = 0
    if high - low > xtol:
        for _ in range(MAX_ILLINOIS):
            secant = high - f_high * (high - low) / (f_high - f_low)
            if math.isfinite(f_low) and math.isfinite(f_high) and math.isfinite(secant):
                lo, hi = low + nudge, high - nudge
                x = lo if secant < lo else secant
                x = hi if x > hi else x
            else:
                x = 0.5 * (low + high)
            f = fun(x)
            if f != f:
                raise _Leave
            left = f < 0  # the root lies right of x
            if left and side == -1:
                f_high = 0.5 * f_high
            if not left and side == 1:
                f_low = 0.5 * f_low
            if left:
                low, f_low = x, f
            else:
                high, f_high = x, f
            if f == 0:
                low = high = x
                break
            side = -1 if left else 1
            if not high - low > xtol:
                break
        else:
            raise _Leave
    if low != low or high != high:
        raise _Leave
    return 0.5 * (low + high)


def budget_search(law, hw, dollars, requests, d_in, d_out, c, batch, u, kv_element):
    """:func:`.kv_budget._search` for floats: (n, tokens, training, serving, steps), or None.

    The linearised probe is :func:`_linear_probe`: ``best_for_flops``' array path on a
    float (its own float path differs in the last bits, and the probe sets the grid).
    """
    from .kv_budget import _MAX_STEPS, _R_PER_TOKEN, _STEP, N_MAX_TOLERANCE

    try:
        spend = request_cost(hw, requests, d_in, d_out, batch, c, kv_element, u)
        k_train = TRAIN_FLOPS_PER_PARAM_TOKEN * hw.train_cost_per_flop
        # N_max: kv_budget._largest
        rate = requests * INFERENCE_FLOPS_PER_PARAM_TOKEN * hw.inference_cost_per_peak_flop
        high = float(_log(dollars / (rate * (d_in + d_out) / hw.prefill_mfu)))
        log_dollars = float(_log(dollars))

        def fun(x):
            return float(_log(spend(float(_exp(x))))) - log_dollars

        f_high = fun(high)
        low = high - _STEP
        f_low = fun(low)
        for _ in range(_MAX_STEPS):
            if not f_low >= 0:
                break
            high, f_high = low, f_low
            low = low - _STEP
            f_low = fun(low)
        n_max = float(_exp(_illinois(fun, low, high, f_low, f_high, N_MAX_TOLERANCE)))
        s = dollars / k_train
        linear = _linear_probe(law, TRAIN_FLOPS_PER_PARAM_TOKEN * s, s / n_max / _R_PER_TOKEN)
        if linear != linear:  # numpy's minimum keeps a NaN
            raise _Leave
        probe_loss = math.inf
        for probe in (linear if linear < n_max else n_max, 0.5 * n_max):
            value = _loss(law, probe, (dollars - spend(probe)) / (k_train * probe))
            if value != value:
                raise _Leave
            probe_loss = value if value < probe_loss else probe_loss
        n_low = float(_power(law.A / (probe_loss - law.E), 1.0 / law.alpha))

        def at(z):
            n = n_max * float(_exp(-float(_exp(z))))
            return n, (dollars - spend(n)) / (k_train * n)

        def f(z):
            n = n_max * float(_exp(-float(_exp(z))))
            tokens = (dollars - spend(n)) / (k_train * n)
            return float(law.plain_loss(n, tokens)) if tokens > 0 else math.inf  # _loss

        def on_grid(z):
            n = n_max * _exp(-_exp(z))
            tops = _power(n / _ABOVE_KINK, _THIRD).tolist()
            sizes = n.tolist()
            tokens = [
                (dollars - spend(v, tops[i] if v > _SURELY_ABOVE else None)) / (k_train * v)
                for i, v in enumerate(sizes)
            ]
            trained = [t if t > 0 else 1.0 for t in tokens]  # as kv_budget._loss
            losses = law.plain_loss(n, _array(trained)).tolist()
            return [losses[i] if tokens[i] > 0 else math.inf for i in range(GRID_POINTS)]

        z_top = float(_log(float(_log(n_max / n_low))))
        z, steps = bracketed_minimum(f, on_grid, z_top)
        n, tokens = at(z)
        return n, tokens, k_train * n * tokens, spend(n), steps
    except (_Leave, ZeroDivisionError, OverflowError):
        return None


def _linear_probe(law, flops, demand):
    """Params of :func:`..money.budget.best_for_flops` (demand > 0) by its array path's
    steps on floats: ``budget._root``'s ``roots.halley`` with its blind sweeps and
    :func:`..roots.softplus_terms` written in line, numpy's exp, log and log1p."""
    from ..money import budget

    s, r = flops / TRAIN_FLOPS_PER_PARAM_TOKEN, demand * budget._R_PER_TOKEN
    if not r > 0 or s != s:
        raise _Leave
    a, b = law.alpha, law.beta
    p, q = 1.0 + b, a - 1.0
    shift = math.log(a * law.A / (b * law.B))
    ftol = min(a + b, p) * budget.T_TOLERANCE
    xtol = budget.T_TOLERANCE
    log_r = float(_log(r))
    m = a * float(_log(s)) - (a + b) * log_r - shift
    low = m - max(q, 0.0) * budget._LOG2
    high = m - min(q, 0.0) * budget._LOG2
    low = low / (a + b) if low > 0 else low / p
    high = high / (a + b) if high > 0 else high / p
    x = 0.5 * (low + high)
    limit = budget.MAX_ITERATIONS
    blind = max(min(budget.VECTOR_SWEEPS, limit) - 1, 0)
    for iteration in range(limit):
        e = float(_exp(-(x if x >= 0 else -x)))
        sigma = (1.0 if x > 0 else e) / (1.0 + e)
        softplus = (x if x > 0.0 else 0.0) + float(_log1p(e))
        if q == 1.0:
            f, f1, f2 = p * x + softplus - m, p + sigma, sigma * (1.0 - sigma)
        else:
            f, f1, f2 = p * x + q * softplus - m, p + q * sigma, q * (sigma * (1.0 - sigma))
        if f != f:
            raise _Leave
        if iteration >= blind and (
            (ftol > 0 and (f if f >= 0 else -f) < ftol) or (xtol > 0 and high - low < xtol)
        ):
            break  # converged at x: the array path keeps it
        step = f / f1 / (1.0 - f * f2 / (2.0 * f1 * f1))
        low = x if f < 0 else low
        high = x if f > 0 else high
        new = x - step
        x = new if low <= new <= high else 0.5 * (low + high)
        if iteration >= blind and step == 0.0:  # rtol 0: |step| <= 0
            break
    else:
        raise _Leave  # the array path checks its last iterate and raises or answers
    tokens = float(_exp(log_r + x))
    return s / (r + tokens)


def _loss(law, n, tokens):
    """:func:`.kv_budget._loss` for floats: L(N, D) where D > 0, +inf elsewhere (NaN too)."""
    return float(law.plain_loss(n, tokens)) if tokens > 0 else math.inf
