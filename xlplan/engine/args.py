"""One declaration per argument, one gate that checks every argument of a call.

Each public engine function names its arguments once, as :class:`Arg` values
(name, kind, allowed range, default, unit, help); :func:`gate` checks all of them before
the function's body runs, collects every bad argument (and every bad element of
an array) into one error, and hands the body plain floats, float64 arrays, a
:class:`~xlplan.engine.laws.ScalingLaw` and a
:class:`~xlplan.engine.hardware.Hardware`. The body is a kernel that never checks
again; other engine functions call it directly as ``function.kernel``.

The Excel functions reuse the same declarations for their argument help and
defaults (:mod:`xlplan.excel.params`).

A Python float in range costs one comparison: a single Excel cell stays on the
``math`` path.
"""

import functools
import inspect
import math
from dataclasses import dataclass

from . import validate
from .constants import (
    DEFAULT_HARDWARE,
    DEFAULT_INPUT_TOKENS,
    DEFAULT_LAW,
    DEFAULT_OUTPUT_TOKENS,
)
from .errors import XlplanError
from .hardware import get_hardware
from .laws import get_law

__all__ = [
    "Arg",
    "REQUIRED",
    "gate",
    "raise_collected",
    "LOSS",
    "PARAMS",
    "TOKENS",
    "REQUESTS",
    "INFERENCE_TOKENS",
    "INPUT_TOKENS",
    "OUTPUT_TOKENS",
    "UNIQUE_TOKENS",
    "LAW",
    "HARDWARE",
]

REQUIRED = inspect.Parameter.empty
KINDS = ("number", "loss", "law", "hardware", "custom")


@dataclass(frozen=True)
class Arg:
    """One argument of a public engine function.

    Parameters
    ----------
    name : str
        The argument's name in the engine's signature.
    help : str
        One line for users (Excel's function wizard shows it).
    unit : str
        Unit of the value (``"tokens"``, ``"USD"``, ``"nats"``...), "" if none.
    kind : {"number", "loss", "law", "hardware", "custom"}
        ``"number"``: float or array in [low, high] (bounds open or closed);
        ``"loss"``: a number above the law's E (the function's ``law`` argument);
        ``"law"``/``"hardware"``: anything :func:`get_law`/:func:`get_hardware` takes;
        ``"custom"``: ``check_value(value, on_invalid, law)`` converts and checks
        (``law`` is the function's checked law, or None).
    low, high : float
        Bounds of a number; ``low_open``/``high_open`` exclude the bound itself.
    optional_none : bool
        ``None`` means "not given" and passes unchecked (e.g. ``unique_tokens``).
    default : object
        The value when the argument is omitted (``REQUIRED``: none). The gate checks
        that the function's signature says the same; the Excel functions use it for a
        blank cell.
    needs_law : bool
        The check depends on the function's law (always for ``"loss"``). When the law
        itself is bad, the value is still checked as a number in [low, high], so every
        bad argument is reported at once.
    """

    name: str
    help: str = ""
    unit: str = ""
    kind: str = "number"
    low: float = 0.0
    low_open: bool = True
    high: float = math.inf
    high_open: bool = False
    optional_none: bool = False
    check_value: object = None
    needs_law: bool = False
    default: object = REQUIRED

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r} must be one of {KINDS}")

    def fits(self, x):
        """True for a float in range (the cheap test a single cell takes)."""
        return (
            (x > self.low if self.low_open else x >= self.low)
            and (x < self.high if self.high_open else x <= self.high)
            and x - x == 0.0
        )

    def open_bounds(self):
        """(lo, hi) with ``lo < x < hi`` exactly when :meth:`fits` (x) for a float x.

        A closed bound moves one float outwards, and an infinite one excludes inf:
        the gate tests one valid cell with one chained comparison.
        """
        low = self.low if self.low_open else math.nextafter(self.low, -math.inf)
        high = self.high if self.high_open else math.nextafter(self.high, math.inf)
        return low, high

    def check(self, value, on_invalid="raise", law=None):
        """``value`` converted and checked; raises an :class:`XlplanError` naming it."""
        if value is None and self.optional_none:
            return None
        if self.kind == "number" or ((self.kind == "loss" or self.needs_law) and law is None):
            return validate.number(
                self.name,
                value,
                low=self.low,
                low_open=self.low_open,
                high=self.high,
                high_open=self.high_open,
                on_invalid=on_invalid,
            )
        if self.kind == "loss":
            return law.check_reachable(value, on_invalid)
        if self.kind == "law":
            return get_law(value)
        if self.kind == "hardware":
            return get_hardware(value)
        return self.check_value(value, on_invalid, law)

    def but(self, **changes):
        """The same declaration with some fields changed (another name, help, range)."""
        return Arg(**dict(self.__dict__, **changes))


def raise_collected(errors):
    """Raise one error for every (position in the signature, error) in ``errors``.

    One error is raised as it is; several become one of the first one's type whose
    message lists them all. Either way ``positions_by_argument`` maps each bad
    argument to its bad positions (``[()]`` for a scalar) and ``parts`` holds the
    individual errors (a face renaming arguments renames each part).
    """
    errors = [e for _, e in sorted(errors, key=lambda pair: pair[0])]
    by_argument = {}
    for error in errors:
        by_argument.update(
            getattr(error, "positions_by_argument", None)
            or {error.argument: getattr(error, "positions", None) or [()]}
        )
    first = errors[0]
    if len(errors) > 1:
        combined = type(first).__new__(type(first))
        XlplanError.__init__(
            combined,
            "; ".join(
                e.template.replace("{argument}", e.argument) if e is not first else e.template
                for e in errors
            ),
            argument=first.argument,
            value=first.value,
        )
        combined.positions = getattr(first, "positions", None)
        combined.parts = errors
        first = combined
    first.positions_by_argument = by_argument
    raise first


_NUMBER, _LOSS, _LAW, _HARDWARE, _CUSTOM, _OTHER, _OTHER_LAW = range(7)


def _code(arg):
    """How the gate checks ``arg``: what :meth:`Arg.check` would do, decided once."""
    if arg.kind == "number":
        return _NUMBER
    if arg.kind == "loss":
        return _LOSS
    if arg.kind in ("law", "hardware") and not arg.needs_law and not arg.optional_none:
        return _LAW if arg.kind == "law" else _HARDWARE
    if arg.kind == "custom" and not arg.needs_law:
        return _CUSTOM
    return _OTHER_LAW if arg.kind == "law" else _OTHER


def _signature(function):
    parameters = inspect.signature(function).parameters
    return tuple(parameters), tuple(p.default for p in parameters.values())


def gate(*args):
    """Decorate a public engine function: check every declared argument, then run it.

    ``args`` are :class:`Arg` declarations, each matching a parameter of the function
    by name. A ``law`` declaration is resolved first, so a ``loss`` is checked against
    its E. ``on_invalid`` (when the function takes it) is honoured: ``"nan"`` turns
    bad array elements into NaN instead of an error. The undecorated body stays
    reachable as ``function.kernel``, for callers whose arguments are checked.

    Keyword-only parameters are checked alike and passed to the body by name; so are
    keys of a ``**options`` parameter that have a declaration (given or not: the
    declaration's default), while other keys pass through unchecked.
    """

    def decorate(kernel):
        parameters = inspect.signature(kernel).parameters.values()
        if any(p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in parameters):
            return _by_name(kernel, args)
        gated = _positional(kernel, args, *_signature(kernel))
        gated.kernel = kernel
        gated.args = tuple(args)
        return gated

    return decorate


def _positional(kernel, args, names, defaults):
    """``kernel`` behind the checks of ``args``; ``kernel(*values)`` in ``names`` order."""
    index = {name: i for i, name in enumerate(names)}
    missing = [a.name for a in args if a.name not in index]
    if missing:
        raise TypeError(f"{kernel.__name__}: no parameters {missing}")
    drifted = [
        a.name for a in args if a.default is not REQUIRED and defaults[index[a.name]] != a.default
    ]
    if drifted:  # one declaration: the signature may not say something else
        raise TypeError(f"{kernel.__name__}: defaults of {drifted} differ from their Arg")
    order = sorted(args, key=lambda a: (a.kind != "law", index[a.name]))
    # (position, declaration, what it is, its open bounds): a number in range, a loss
    # above the law's E, or a law or hardware resolved directly, cost no method call.
    checks = tuple(
        (index[a.name], a, _code(a), *(a.open_bounds() if a.kind == "number" else (0, 0)))
        for a in order
    )
    invalid_at = index.get("on_invalid")
    required = sum(d is REQUIRED for d in defaults)  # Python puts them first
    most = len(names)

    def bound(call_args, call_kwargs):
        """The values of every parameter in order, or None for a call Python refuses."""
        given = len(call_args)
        if given > len(names):
            return None
        values = [*call_args, *defaults[given:]]
        for key, value in call_kwargs.items():
            at = index.get(key)
            if at is None or at < given:
                return None
            values[at] = value
        if given < required and any(values[i] is REQUIRED for i in range(given, required)):
            return None
        return values

    @functools.wraps(kernel)
    def gated(*call_args, **call_kwargs):
        if call_kwargs or not required <= len(call_args) <= most:
            values = bound(call_args, call_kwargs)
            if values is None:  # let Python raise its own TypeError
                return kernel(*call_args, **call_kwargs)
        else:  # positional arguments only, as many as Python accepts: bound's values
            values = [*call_args, *defaults[len(call_args) :]]
        on_invalid = "raise" if invalid_at is None else values[invalid_at]
        if on_invalid != "raise":
            validate.check_on_invalid(on_invalid)
        errors = law = None
        for i, arg, code, low, high in checks:  # the law comes first
            value = values[i]
            if type(value) is float:
                if code == _NUMBER:
                    if low < value < high:
                        continue  # one valid cell: one comparison, no numpy
                elif code == _LOSS and law is not None and law.E < value < math.inf:
                    continue
            elif value is None and arg.optional_none:
                continue
            try:
                if code == _LAW:
                    values[i] = law = get_law(value)
                elif code == _HARDWARE:
                    values[i] = get_hardware(value)
                elif code == _CUSTOM:
                    values[i] = arg.check_value(value, on_invalid, law)
                elif code == _OTHER_LAW:
                    values[i] = law = arg.check(value, on_invalid, law)
                else:
                    values[i] = arg.check(value, on_invalid, law)
            except XlplanError as error:
                errors = (errors or []) + [(i, error)]
        if errors:
            raise_collected(errors)
        return kernel(*values)

    return gated


def _by_name(kernel, args):
    """The gate of a kernel with keyword-only parameters or ``**options``.

    Every value is laid out in one list (positional parameters, keyword-only ones,
    declared keys of ``**options``, then the other keys as one dict) and checked by the
    positional gate of a kernel taking that list, which calls ``kernel`` by name.
    """
    parameters = inspect.signature(kernel).parameters
    if any(p.kind in (p.POSITIONAL_ONLY, p.VAR_POSITIONAL) for p in parameters.values()):
        raise TypeError(f"{kernel.__name__}: the gate takes no positional-only or *args")
    positional = [n for n, p in parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    by_name = [n for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY]
    spread = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    keys = [a for a in args if a.name not in parameters] if spread else []
    if any(a.default is REQUIRED for a in keys):
        raise TypeError(f"{kernel.__name__}: declared keys of **options need a default")
    names = positional + by_name + [a.name for a in keys]
    defaults = [parameters[n].default for n in positional + by_name] + [a.default for a in keys]
    index = {name: i for i, name in enumerate(names)}
    first = len(positional)

    def laid_out(*values):
        by_key = dict(zip(names[first:], values[first:-1], strict=True))
        return kernel(*values[:first], **by_key, **values[-1])

    checked = _positional(laid_out, args, (*names, "**"), (*defaults, {}))

    @functools.wraps(kernel)
    def gated(*call_args, **call_kwargs):
        if len(call_args) > first:
            return kernel(*call_args, **call_kwargs)  # Python raises its own TypeError
        values = [*call_args, *defaults[len(call_args) :]]
        others = {}
        for key, value in call_kwargs.items():
            at = index.get(key)
            if at is None and spread:
                others[key] = value
            elif at is None or at < len(call_args):
                return kernel(*call_args, **call_kwargs)
            else:
                values[at] = value
        if any(value is REQUIRED for value in values):
            return kernel(*call_args, **call_kwargs)
        return checked(*values, others)

    gated.kernel = kernel
    gated.args = tuple(args)
    return gated


# The arguments several engine functions share, declared once. The Excel functions
# show the same help (xlplan.excel.params).
LOSS = Arg(
    "loss",
    "Target pre-training loss in nats per token; must exceed the law's E.",
    "nats per token",
    kind="loss",
)
PARAMS = Arg("params", "Model size: number of parameters, e.g. 7E9.", "parameters")
TOKENS = Arg("tokens", "Training tokens, e.g. 1.4E12.", "tokens")
REQUESTS = Arg("requests", "Lifetime inference requests, >= 0.", "requests", low_open=False)
INFERENCE_TOKENS = Arg(
    "inference_tokens",
    "Lifetime inference tokens (input + output), >= 0.",
    "tokens",
    low_open=False,
)
INPUT_TOKENS = Arg(
    "input_tokens",
    f"Prompt tokens per request. Default {DEFAULT_INPUT_TOKENS:g}.",
    "tokens",
    low_open=False,
    default=DEFAULT_INPUT_TOKENS,
)
OUTPUT_TOKENS = Arg(
    "output_tokens",
    f"Generated tokens per request. Default {DEFAULT_OUTPUT_TOKENS:g}.",
    "tokens",
    low_open=False,
    default=DEFAULT_OUTPUT_TOKENS,
)
UNIQUE_TOKENS = Arg(
    "unique_tokens",
    "Unique training tokens available (data may be repeated). Default: unlimited.",
    "tokens",
    optional_none=True,
    default=None,
)
# Office's schemas allow at most 128 characters per argument description (tested).
LAW = Arg(
    "law",
    'Loss law: a preset such as "chinchilla" or a 1x5 range A, B, E, alpha, '
    f"beta (from XLPLAN_LAW or FIT_COEFFS). Default {DEFAULT_LAW}.",
    kind="law",
    default=None,
)
HARDWARE = Arg(
    "hardware",
    'Hardware: a preset name such as "paper-a100" or a 1x7 (or '
    f"1x10) range as XLPLAN_HARDWARE returns. Default {DEFAULT_HARDWARE}.",
    kind="hardware",
    default=None,
)
