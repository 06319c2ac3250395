"""Fit runs of any magnitude without numpy noise or a traceback.

Runs a hostile file can hold (every loss 1e-320, every size 1e308) overflow the
optimiser's intermediate steps and can leave a singular system. The fitted law
is validated whatever happened, so numpy's floating-point warnings would only
add lines to a one-line error; a singular system means the runs do not
determine the coefficients, which is said in one line naming the runs.
"""

from contextlib import contextmanager

import numpy as np

from ..engine.errors import InvalidValueError

__all__ = ["quiet_fit"]


@contextmanager
def quiet_fit(source, argument="runs"):
    """Fit inside this block: floating-point warnings off, a singular system an
    :class:`InvalidValueError` naming ``source``."""
    try:
        with np.errstate(all="ignore"):
            yield
    except np.linalg.LinAlgError as error:  # e.g. every run the same size
        raise InvalidValueError(
            f"the runs in {source} do not pin down the coefficients "
            f"({error}): add runs over a wider range of sizes and token "
            "counts",
            argument=argument,
            value=str(source),
        ) from None
