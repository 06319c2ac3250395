"""Results as callers expect them: a float for a scalar computation, the array otherwise."""

import numpy as np

__all__ = ["plain"]


def plain(value):
    """``float(value)`` when ``value`` is 0-dimensional, ``value`` unchanged otherwise.

    Numpy arithmetic on floats gives 0-d arrays or numpy scalars; a scalar call of
    an engine function returns a Python float, an array call the array.

    Examples
    --------
    >>> plain(np.float64(2.5)), plain(np.array(1.0))
    (2.5, 1.0)
    >>> plain(np.array([1.0, 2.0]))
    array([1., 2.])
    """
    return float(value) if np.ndim(value) == 0 else value
