"""Blocks of work shared out over threads, or run one after another where threads are absent.

Pyodide (xlwings Lite, Excel's WebAssembly Python) reports ``sys.platform ==
"emscripten"`` and cannot start threads: a ``ThreadPoolExecutor`` there fails on its
first task. :func:`map_blocks` runs the same function on the same blocks in the same
order either way, so results are identical; only the wall time differs.
"""

import functools
import os
import sys
from concurrent.futures import ThreadPoolExecutor

__all__ = ["threads_available", "map_blocks", "SERIAL_ENV"]

# Setting this environment variable to 1 forces the single-threaded path (tests, and
# anyone who wants to rule threads out when chasing a difference).
SERIAL_ENV = "XLPLAN_SERIAL"


def threads_available():
    """False in Pyodide (no threads) or when ``$XLPLAN_SERIAL`` is 1; checked at each call."""
    return sys.platform != "emscripten" and os.environ.get(SERIAL_ENV) != "1"


@functools.lru_cache(maxsize=4)
def _pool(max_workers, name):
    # One pool per caller kind, created on first use so that importing xlplan starts
    # no thread (Pyodide would fail at import time otherwise).
    return ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)


def map_blocks(func, items, max_workers, name="xlplan"):
    """``[func(item) for item in items]``, on up to ``max_workers`` threads when available."""
    items = list(items)
    if max_workers <= 1 or len(items) <= 1 or not threads_available():
        return [func(item) for item in items]
    return list(_pool(max_workers, name).map(func, items))
