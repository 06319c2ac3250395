"""The Chinchilla loss law L(N, D) = E + A / N**alpha + B / D**beta and its presets.

N is the parameter count and D the number of training tokens; the loss is in
nats per token. Presets are data: a frozen :class:`ScalingLaw` per name.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from . import validate
from .constants import DEFAULT_LAW
from .errors import InvalidTypeError, InvalidValueError, UnreachableLossError
from .scalars import plain

__all__ = [
    "EXPONENT_MIN",
    "EXPONENT_MAX",
    "ScalingLaw",
    "LAW_PRESETS",
    "COEFFICIENT_NAMES",
    "get_law",
    "law_names",
]

COEFFICIENT_NAMES = ("A", "B", "E", "alpha", "beta")
REPETITION_NAMES = ("R_D_star", "R_N_star")
# The plausible range of the exponents: published laws have 0.05-0.8, and outside
# [0.01, 5] powers like N = (...)**(1 / alpha) leave the float range for ordinary
# inputs. An exponent outside it is an error, never a plan. The fitter searches
# exactly this range (xlplan.fit.search), so every fitted law is valid.
EXPONENT_MIN = 0.01
EXPONENT_MAX = 5.0
# Sizes whose powers N**alpha stay inside [1e-300, 1e300] for every exponent allowed.
_ORDINARY = (1e-60, 1e60)


@dataclass(frozen=True)
class ScalingLaw:
    """Coefficients of L(N, D) = E + A / N**alpha + B / D**beta.

    Parameters
    ----------
    A, B : float
        Scale of the parameter and data terms (nats), > 0.
    E : float
        Irreducible loss (nats), > 0: no model reaches a loss at or below E.
    alpha, beta : float
        Exponents of the parameter and data terms, in [0.01, 5]
        (``EXPONENT_MIN``, ``EXPONENT_MAX``: the plausible range).
    name : str
        Label used in messages ("custom" for user coefficients).
    source : str
        Where the coefficients come from.
    R_D_star, R_N_star : float or None
        Decay constants of repeated data and of excess parameters in the
        data-constrained law of Muennighoff et al. 2023 (see
        :mod:`xlplan.engine.data.data_limits`), > 0. ``None`` (most laws): their
        C4 values are used, an approximation across laws.

    Examples
    --------
    >>> law = get_law("chinchilla")
    >>> round(law.loss(70e9, 1.4e12), 4)
    1.9323
    """

    A: float
    B: float
    E: float
    alpha: float
    beta: float
    name: str = "custom"
    source: str = field(default="", compare=False)
    R_D_star: float = None
    R_N_star: float = None

    def __post_init__(self):
        optional = tuple(k for k in REPETITION_NAMES if getattr(self, k) is not None)
        for key in COEFFICIENT_NAMES + optional:
            exponent = key in ("alpha", "beta")
            value = validate.scalar(
                key,
                getattr(self, key),
                label="law coefficient ",
                low=EXPONENT_MIN if exponent else 0.0,
                low_open=not exponent,
                high=EXPONENT_MAX if exponent else math.inf,
            )
            object.__setattr__(self, key, value)
        # (alpha, beta) as one array, for plain_loss's one numpy call on a single model
        object.__setattr__(self, "_exponents", np.array((self.alpha, self.beta)))

    @classmethod
    def from_coefficients(cls, coefficients, name="custom", source=""):
        """Build a law from five numbers in the order (A, B, E, alpha, beta)."""
        values = list(np.asarray(coefficients, dtype=object).ravel())
        if len(values) != 5:
            raise InvalidTypeError(
                f"a law needs exactly 5 coefficients (A, B, E, alpha, beta), got {len(values)}",
                argument="law",
                value=coefficients,
            )
        numbers = [
            validate.coerce_float(key, value, label="law coefficient ")
            for key, value in zip(COEFFICIENT_NAMES, values, strict=True)
        ]
        return cls(*numbers, name=name, source=source)

    def as_tuple(self):
        """(A, B, E, alpha, beta)."""
        return (self.A, self.B, self.E, self.alpha, self.beta)

    def as_dict(self):
        return dict(zip(COEFFICIENT_NAMES, self.as_tuple(), strict=True))

    def loss(self, params, tokens):
        """Predicted loss (nats) of a model with ``params`` parameters trained on ``tokens``."""
        return self.plain_loss(validate.number("params", params), validate.number("tokens", tokens))

    def plain_loss(self, params, tokens):
        """:meth:`loss` without checking its arguments: for sizes the engine already checked.

        ``params`` and ``tokens`` are floats or arrays (broadcast), > 0 or NaN; the
        result is a float for floats, the array otherwise. The one place L(N, D) is
        written: every caller that has checked its sizes calls this.
        """
        # numpy powers, on floats as on arrays: a size so small that N**alpha underflows
        # gives a loss of inf (an Excel cell shows #NUM!), never a Python
        # ZeroDivisionError/OverflowError, and a scalar call matches an array's element
        # bit for bit (Python's ** and numpy's vectorised power may differ in the last bit).
        if (
            type(params) is float
            and type(tokens) is float
            and _ORDINARY[0] < params < _ORDINARY[1]
            and _ORDINARY[0] < tokens < _ORDINARY[1]
        ):
            # One model of ordinary size (an Excel cell): both powers in one call on a
            # pair, the same vectorised loop as an array's, and no errstate (no power can
            # leave the float range): a third of the time of the general path.
            power_n, power_d = np.power(np.array((params, tokens)), self._exponents).tolist()
            return self.E + self.A / power_n + self.B / power_d
        with np.errstate(over="ignore", divide="ignore", under="ignore", invalid="ignore"):
            value = (
                self.E
                + self.A / np.power(params, self.alpha)
                + self.B / np.power(tokens, self.beta)
            )
        return plain(value)

    def check_reachable(self, loss, on_invalid="raise"):
        """Validate target losses: each must exceed E. Returns float or array."""
        try:
            return validate.number("loss", loss, low=self.E, on_invalid=on_invalid)
        except InvalidValueError as error:
            raise UnreachableLossError(
                f"{error.template} (a target loss at or below the irreducible loss "
                f"E={self.E:g} of law '{self.name}' cannot be reached by any model)",
                argument="loss",
                value=error.value,
                positions=error.positions,
            ) from None


_HOFFMANN = "Hoffmann et al. 2022 (Chinchilla), approach 3"
LAW_PRESETS: Mapping[str, ScalingLaw] = {
    law.name: law
    for law in (
        ScalingLaw(
            406.4,
            410.7,
            1.69,
            0.336,
            0.283,
            "chinchilla",
            _HOFFMANN + ", with alpha, beta as used by Sardana et al. 2024 (De Vries 2023)",
        ),
        ScalingLaw(
            406.4,
            410.7,
            1.69,
            0.34,
            0.28,
            "chinchilla-rounded",
            _HOFFMANN + ", exponents as printed (rounded)",
        ),
        ScalingLaw(
            math.exp(6.0073404),
            math.exp(6.0179186),
            math.exp(0.5267228),
            0.33917084,
            0.2849083,
            "hoffmann-unrounded",
            _HOFFMANN + ", unrounded values",
        ),
        ScalingLaw(
            482.01,
            2085.43,
            1.8172,
            0.3478,
            0.3658,
            "epoch-2024",
            "Besiroglu et al. 2024, Chinchilla replication",
        ),
        ScalingLaw(
            7.199,
            25.97,
            0.17,
            0.08,
            0.13,
            "sardana-100",
            "Sardana et al. 2024, Table 1: runs with <= 100 tokens/param",
        ),
        ScalingLaw(
            14.23,
            39.54,
            0.98,
            0.13,
            0.16,
            "sardana-250",
            "Sardana et al. 2024, Table 1: runs with <= 250 tokens/param",
        ),
        ScalingLaw(
            17.07,
            35.80,
            0.95,
            0.13,
            0.16,
            "sardana-500",
            "Sardana et al. 2024, Table 1: runs with <= 500 tokens/param",
        ),
        ScalingLaw(
            33.66, 138.9, 1.45, 0.18, 0.24, "sardana-all", "Sardana et al. 2024, Table 1: all runs"
        ),
        ScalingLaw(
            math.exp(6.255414),
            math.exp(7.3049974),
            math.exp(0.6254804),
            0.3526596,
            0.3526596,
            "muennighoff-2023",
            "Muennighoff et al. 2023, 'Scaling Data-Constrained Language Models' "
            "(NeurIPS), C4 fit with repetition; github.com/huggingface/datablations",
            R_D_star=15.387756,
            R_N_star=5.309743,
        ),
    )
}


def law_names():
    """Names of the law presets, in a stable order."""
    return list(LAW_PRESETS)


def get_law(law=None):
    """Resolve a law given as a preset name, five coefficients, a law or a fit result.

    ``None`` gives the default, ``constants.DEFAULT_LAW`` (``"chinchilla"``). Names are
    case-insensitive.
    Text is only ever a preset name: the engine never opens files (an Excel cell
    must not make xlplan read a path). Load a law file with
    :func:`xlplan.lawfile.load_law_file` and pass the law.
    """
    if law is None:
        return LAW_PRESETS[DEFAULT_LAW]
    if isinstance(law, ScalingLaw):
        return law
    if isinstance(law, str):
        key = law.strip().lower()
        if key in LAW_PRESETS:
            return LAW_PRESETS[key]
        raise InvalidTypeError(
            f"unknown law '{law}': use one of {', '.join(LAW_PRESETS)} or five coefficients "
            "(A, B, E, alpha, beta)",
            argument="law",
            value=law,
        )
    if hasattr(law, "law") and isinstance(law.law, ScalingLaw):  # a fit result
        return law.law
    return ScalingLaw.from_coefficients(law)
