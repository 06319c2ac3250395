"""Transformer shapes: layers, widths and heads, their parameter count and KV-cache bytes.

A decoder block has attention (queries and output: ``heads x head_dim`` wide; keys
and values: ``kv_heads x head_dim`` wide, fewer with grouped-query attention) and
a feed-forward network (three ``d_model x ffn_dim`` matrices when gated, SwiGLU;
two otherwise). Parameters, counting weights and norm gains but no biases:

    per layer = 2 d (heads hd) + 2 d (kv_heads hd) + (3 or 2) d ffn + 2 d
    total     = layers x per layer + d + vocab x d x (1 if tied else 2)

Each token kept in the KV cache stores one key and one value per layer and KV head:

    KV bytes per token = 2 x layers x kv_heads x head_dim x bytes per KV element

Default rule (:func:`shape_for_params`, :func:`kv_bytes_for_params`): a model of
N parameters has head_dim 128, aspect ratio d_model / layers = 128 and a gated FFN
of 3.5 d_model, as Llama-3-8B and Mistral-7B (4096 / 32 layers, FFN 14,336), and
8 KV heads of 128 as Llama-3-8B, Llama-3-70B and Mistral-7B (all three use 8):
grouped-query attention with group heads / 8. N counts the blocks only (the
embeddings, 1.05 B of Llama-3-8B's 8.03 B, are left out, as Kaplan et al. 2020
count non-embedding parameters), so with d = 128 L:

    N = L (12.5 d^2 + 2 d x 1024) = 204,800 L^3 + 262,144 L^2

Below L = 8 (d = 1024, N = 121 M) heads < 8 and every head is a KV head. The rule
is continuous in N (fractional layers), which sizing needs; :func:`shape_for_params`
rounds it to whole layers and heads for display.
"""

import math
from dataclasses import dataclass

import numpy as np

from .. import roots, validate
from ..args import HARDWARE, PARAMS, Arg, gate
from ..errors import PLACEHOLDER, InvalidTypeError, InvalidValueError

__all__ = [
    "ModelShape",
    "SHAPE_PRESETS",
    "get_shape",
    "shape_for_params",
    "kv_bytes_for_params",
    "model_shape",
    "model_kv_bytes",
    "MODEL",
    "rule_layers",
    "check_params",
    "ASPECT_RATIO",
    "HEAD_DIM",
    "RULE_KV_HEADS",
    "FFN_RATIO",
]

ASPECT_RATIO = 128.0  # d_model / layers: Llama-3-8B, Mistral-7B
HEAD_DIM = 128  # Llama-3, Mistral, MPT-7B
RULE_KV_HEADS = 8  # Llama-3-8B, Llama-3-70B, Mistral-7B
FFN_RATIO = 3.5  # gated FFN width / d_model: 14,336 / 4,096
# Newton steps on N(L) from above converge monotonically (N is convex in L): a
# relative step below this is the answer to the last bits of a float.
_LAYER_TOLERANCE = 1e-14
_MAX_NEWTON = roots.MAX_ITERATIONS


@dataclass(frozen=True)
class ModelShape:
    """A decoder-only transformer's shape (whole numbers); parameters and KV bytes follow."""

    name: str
    layers: int
    d_model: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn_dim: int
    vocab: int
    gated_ffn: bool = True
    tied_embeddings: bool = False
    published_params: float = math.nan
    source: str = ""

    def __post_init__(self):
        for key in ("layers", "d_model", "heads", "kv_heads", "head_dim", "ffn_dim"):
            validate.whole_number(key, getattr(self, key), low=1)
        validate.whole_number("vocab", self.vocab, low=0)
        if self.heads % self.kv_heads:
            raise InvalidValueError(
                f"{PLACEHOLDER}={self.kv_heads} must divide heads="
                f"{self.heads} (grouped-query attention)",
                argument="kv_heads",
                value=self.kv_heads,
            )

    @property
    def params(self):
        """Parameters: weights and norm gains of the blocks, final norm and embeddings."""
        d, hd = self.d_model, self.head_dim
        per_layer = (
            2 * d * self.heads * hd
            + 2 * d * self.kv_heads * hd
            + (3 if self.gated_ffn else 2) * d * self.ffn_dim
            + 2 * d
        )
        embeddings = self.vocab * d * (1 if self.tied_embeddings else 2)
        return float(self.layers * per_layer + d + embeddings)

    def kv_bytes_per_token(self, bytes_per_element=2.0):
        """KV-cache bytes per token: 2 x layers x kv_heads x head_dim x bytes per element.

        >>> SHAPE_PRESETS["llama-3-70b"].kv_bytes_per_token(2.0)
        327680.0
        """
        b = validate.number("bytes_per_element", bytes_per_element)
        return 2.0 * self.layers * self.kv_heads * self.head_dim * b

    def as_tuple(self):
        return (
            self.layers,
            self.d_model,
            self.heads,
            self.kv_heads,
            self.head_dim,
            self.ffn_dim,
            self.vocab,
            self.params,
        )


_LLAMA3 = (
    "Llama Team, 'The Llama 3 Herd of Models' (arXiv:2407.21783), Table 3; vocabulary "
    "128,256 from meta-llama/Meta-Llama-3-{}/config.json"
)
_MISTRAL = (
    "Jiang et al. 2023, 'Mistral 7B' (arXiv:2310.06825), Table 1 (dim 4096, 32 layers, "
    "head_dim 128, hidden 14336, 32 heads, 8 KV heads, vocab 32000)"
)
# Table 4 gives d_model, heads and layers only. MPT uses a 4x FFN, tied embeddings and
# a 50,368-token vocabulary (mosaicml/mpt-7b config.json); Table 4 states no KV-head
# count, so these presets take every head as a KV head (the largest cache).
_MPT = (
    "Sardana et al. 2024, Table 4 (d_model, heads, layers, params); FFN 4 d, tied "
    "embeddings, vocab 50,368 from MosaicML's MPT config; KV heads not stated: all heads"
)


def _mpt(name, params, d_model, heads, layers):
    return ModelShape(
        name,
        layers,
        d_model,
        heads,
        heads,
        d_model // heads,
        4 * d_model,
        50368,
        gated_ffn=False,
        tied_embeddings=True,
        published_params=params,
        source=_MPT,
    )


SHAPE_PRESETS = {
    s.name: s
    for s in (
        ModelShape(
            "llama-3-8b",
            32,
            4096,
            32,
            8,
            128,
            14336,
            128256,
            published_params=8.03e9,
            source=_LLAMA3.format("8B"),
        ),
        ModelShape(
            "llama-3-70b",
            80,
            8192,
            64,
            8,
            128,
            28672,
            128256,
            published_params=70.6e9,
            source=_LLAMA3.format("70B"),
        ),
        ModelShape(
            "mistral-7b",
            32,
            4096,
            32,
            8,
            128,
            14336,
            32000,
            published_params=7.24e9,
            source=_MISTRAL,
        ),
        _mpt("mpt-150m", 151e6, 768, 12, 12),
        _mpt("mpt-370m", 367e6, 1024, 16, 24),
        _mpt("mpt-750m", 749e6, 1536, 12, 24),
        _mpt("mpt-1.3b", 1.26e9, 2048, 16, 24),
        _mpt("mpt-2.5b", 2.46e9, 2560, 20, 32),
        _mpt("mpt-6b", 6.05e9, 4096, 32, 32),
    )
}


def _get_shape(shape, name="shape"):
    if isinstance(shape, ModelShape):
        return shape
    if isinstance(shape, str) and shape.strip().lower() in SHAPE_PRESETS:
        return SHAPE_PRESETS[shape.strip().lower()]
    raise InvalidTypeError(
        f"unknown model shape {shape!r}: use one of {', '.join(SHAPE_PRESETS)}",
        argument=name,
        value=shape,
    )


SHAPE = Arg(
    "shape",
    'A shape preset such as "llama-3-70b", or a ModelShape.',
    kind="custom",
    check_value=lambda value, on_invalid, law: _get_shape(value),
)
BYTES_PER_ELEMENT = Arg(
    "bytes_per_element",
    "Bytes per cached key or value element (2 for 16 bits). Default 2.",
    "bytes",
    default=2.0,
)
ONE_PARAMS = Arg(
    "params",
    PARAMS.help,
    PARAMS.unit,
    kind="custom",
    check_value=lambda value, on_invalid, law: validate.scalar("params", value),
)


@gate(SHAPE)
def get_shape(shape):
    """A :class:`ModelShape` from a preset name or a shape."""
    return shape


_BLOCK = 2.0 + 3.0 * FFN_RATIO  # d^2 coefficient of a layer: queries, outputs, gated FFN
_KINK_WIDTH = float(RULE_KV_HEADS * HEAD_DIM)
_KINK_LAYERS = _KINK_WIDTH / ASPECT_RATIO


def _rule_params(layers):
    """Block parameters N of the rule at ``layers`` (fractional) above the kink, and dN/dL."""
    d = ASPECT_RATIO * layers
    value = layers * (_BLOCK * d * d + 2.0 * d * _KINK_WIDTH)
    return value, 3.0 * _BLOCK * d * d + 4.0 * d * _KINK_WIDTH


@gate(PARAMS)
def rule_layers(params):
    """Layers (fractional) of the default rule for ``params`` block parameters.

    Below the kink (d_model < 1024) N = (12.5 + 2) 128^2 L^3 is inverted exactly.
    Above, Newton's method (:func:`xlplan.engine.roots.halley`) on the convex,
    increasing N(L) from an upper bound (the cubic term alone) descends
    monotonically to the root, inside [8, that bound].

    >>> f"{rule_layers(6.979e9):.2f}"
    '32.00'
    """
    n = np.asarray(params, dtype=np.float64)
    flat = np.atleast_1d(n)
    layers = (flat / ((_BLOCK + 2.0) * ASPECT_RATIO**2)) ** (1.0 / 3.0)
    above = layers > _KINK_LAYERS
    if np.any(above):  # Newton only where the closed form below the kink does not apply
        big = flat[above]
        layers[above] = _newton_layers(big, (big / (_BLOCK * ASPECT_RATIO**2)) ** (1.0 / 3.0))
    return float(layers[0]) if np.ndim(n) == 0 else layers


def _newton_layers(n, top):
    """Newton's method (the engine's kernel) on N(L) = n from the upper bound ``top``."""

    def terms(layers, n):
        value, slope = _rule_params(layers)
        return value - n, slope, None

    found = roots.halley(
        terms,
        top,
        np.full(top.shape, _KINK_LAYERS),
        top,
        (n,),
        shrink=False,
        rtol=_LAYER_TOLERANCE,
        max_iterations=_MAX_NEWTON,
    )
    roots.check(found, "shape rule", "layers")
    return found.root


@gate(PARAMS, BYTES_PER_ELEMENT)
def kv_bytes_for_params(params, bytes_per_element=2.0):
    """KV bytes per token of the default rule's (fractional) shape for ``params``.

    2 x L x min(8 x 128, d_model) x bytes, with L from :func:`rule_layers`.
    """
    layers, b = rule_layers.kernel(params), bytes_per_element
    kv_width = np.minimum(_KINK_WIDTH, ASPECT_RATIO * np.asarray(layers))
    result = 2.0 * layers * kv_width * b
    return float(result) if np.ndim(result) == 0 else result


@gate(ONE_PARAMS)
def shape_for_params(params):
    """The default rule's shape for ``params``, rounded to whole layers and heads.

    >>> s = shape_for_params(7e9); (s.layers, s.d_model, s.kv_heads)
    (32, 4096, 8)
    """
    n = params
    exact = ASPECT_RATIO * rule_layers.kernel(n) / HEAD_DIM
    if exact < RULE_KV_HEADS:
        candidates = [max(1, round(exact))]
    else:  # a multiple of the 8 KV heads: the one whose aspect ratio is nearest 128
        low = RULE_KV_HEADS * math.floor(exact / RULE_KV_HEADS)
        candidates = [low, low + RULE_KV_HEADS]
    shapes = [_rounded(n, heads) for heads in candidates]
    return min(shapes, key=lambda s: abs(math.log(s.d_model / s.layers / ASPECT_RATIO)))


def _rounded(n, heads):
    """The rule's shape with ``heads`` heads and the whole layers that best spend ``n``."""
    d = heads * HEAD_DIM
    kv = min(heads, RULE_KV_HEADS)
    ffn = max(256, 256 * round(FFN_RATIO * d / 256))
    per_layer = 2 * d * d + 2 * d * kv * HEAD_DIM + 3 * d * ffn + 2 * d
    layers = max(1, round((n - d) / per_layer))
    return ModelShape(
        f"rule-{n:.3g}",
        layers,
        d,
        heads,
        kv,
        HEAD_DIM,
        ffn,
        0,
        published_params=n,
        source="default rule (xlplan.engine.deploy.shape)",
    )


@gate(
    SHAPE,
    ONE_PARAMS,
    Arg(
        "tolerance",
        "Largest relative difference allowed, >= 0. Default 0.1.",
        low_open=False,
        default=0.1,
    ),
)
def check_params(shape, params, tolerance=0.1):
    """Relative difference of ``shape``'s parameter count from ``params``; error beyond it."""
    n = params
    counted = shape.params
    difference = counted / n - 1.0
    if abs(difference) > tolerance:
        raise InvalidValueError(
            f"shape {shape.name} has {counted:.4g} parameters, {difference:+.1%} "
            f"from {PLACEHOLDER}={n:g}: must be within {tolerance:.0%}",
            argument="params",
            value=n,
        )
    return difference


def _model(value, on_invalid, law):
    """A preset name or shape as a :class:`ModelShape`; anything else one parameter count."""
    if isinstance(value, (str, ModelShape)):
        return _get_shape(value, "model")
    return validate.scalar("model", value)


MODEL = Arg(
    "model",
    'A shape preset such as "llama-3-70b", or a number of parameters (the default shape rule).',
    kind="custom",
    check_value=_model,
)
# Seven-setting hardware has no inference precision: the cache is then 16-bit.
_SIXTEEN_BITS = 2.0


@gate(MODEL)
def model_shape(model):
    """A preset's shape, or the default rule's for a number of parameters (whole layers).

    >>> model_shape(7e9).layers, model_shape("mistral-7b").vocab
    (32, 32000)
    """
    return model if isinstance(model, ModelShape) else shape_for_params.kernel(model)


@gate(
    MODEL,
    BYTES_PER_ELEMENT.but(
        help="Bytes per cached key or value element (2 for 16 "
        "bits). Default: the hardware's inference precision.",
        optional_none=True,
        default=None,
    ),
    HARDWARE,
)
def model_kv_bytes(model, bytes_per_element=None, hardware=None):
    """KV-cache bytes per token of a preset's shape, or of the rule's for a parameter count.

    ``bytes_per_element`` defaults to the hardware's bytes per weight (16 bits for
    hardware without its serving settings).

    >>> model_kv_bytes("llama-3-70b", hardware="h100")
    163840.0
    """
    b = bytes_per_element
    if b is None:
        b = hardware.bytes_per_weight or _SIXTEEN_BITS
    if isinstance(model, ModelShape):
        return model.kv_bytes_per_token(b)
    return kv_bytes_for_params.kernel(model, b)
