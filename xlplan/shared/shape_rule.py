"""The default shape rule written out for a Checks sheet: parameters from KV bytes per token.

:func:`xlplan.engine.deploy.shape.kv_bytes_for_params` gives a model of N parameters
2 x L x min(8 x 128, 128 L) x b KV bytes per token, with L the rule's (fractional)
layers. A check inverts it by hand: L from the KV bytes, then N from L; the planner
and the report compare that N with the recommended size.
"""

from ..engine.deploy.shape import ASPECT_RATIO, HEAD_DIM, RULE_KV_HEADS

__all__ = ["rule_params_formula"]

# The default shape rule's block parameters at L layers (d_model = 128 L, 8 KV heads of
# 128 from 8 layers): N = L (12.5 d^2 + 2 d x 1,024) = 204,800 L^3 + 262,144 L^2; below 8
# layers every head is a KV head (KV width d): N = 14.5 d^2 L = 237,568 L^3.
_CUBIC = 12.5 * ASPECT_RATIO**2
_SQUARE = 2.0 * ASPECT_RATIO * RULE_KV_HEADS * HEAD_DIM
_SMALL = (12.5 + 2.0) * ASPECT_RATIO**2


def rule_params_formula(kv, bytes_per_element):
    """Excel text: the parameters whose rule shape has ``kv`` KV bytes per token.

    From 8 layers (N >= 121 M): L = kv / (2 x 8 KV heads x 128 head dim x bytes), then
    N = 204,800 L^3 + 262,144 L^2; below, L = sqrt(kv / (2 x 128 x bytes)) and
    N = 237,568 L^3.

    >>> rule_params_formula("B1", 2)
    'IF(B1/(2*8*128*2)>=8,204800*(B1/(2*8*128*2))^3+262144*(B1/(2*8*128*2))^2,237568*SQRT(B1/(2*128*2))^3)'
    """
    layers = f"({kv}/(2*{RULE_KV_HEADS}*{HEAD_DIM}*{bytes_per_element}))"
    small = f"SQRT({kv}/(2*{ASPECT_RATIO:.0f}*{bytes_per_element}))"
    return (
        f"IF({layers[1:-1]}>={RULE_KV_HEADS},{_CUBIC:.0f}*{layers}^3+{_SQUARE:.0f}*{layers}^2,"
        f"{_SMALL:.0f}*{small}^3)"
    )
