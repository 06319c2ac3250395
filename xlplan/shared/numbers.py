"""Numbers written into text (notes, headers, captions) as a reader writes them: 3.51B, not
3.51e+09. Cells keep their numbers and show them through number formats instead."""

__all__ = ["count_text", "flops_text"]

_UNITS = ((1e12, "T"), (1e9, "B"), (1e6, "M"))


def count_text(value, digits=3):
    """``value`` with a T / B / M suffix and ``digits`` significant figures (3.51B, 175M);
    below a million, with thousands separators (7,000)."""
    value = float(value)
    for scale, suffix in _UNITS:
        if abs(value) >= scale:
            shown = value / scale
            decimals = max(0, digits - len(str(int(abs(shown)))))
            return f"{shown:,.{decimals}f}{suffix}"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.{digits}g}"


def flops_text(value):
    """FLOPs in zettaFLOP (10^21), as the sheets' FLOP columns show them."""
    return f"{float(value) / 1e21:,.2f} ZFLOP"
