"""The timing helper the benchmarks share (imported as a sibling script module)."""

import math
import time


def best_time(function, repeats):
    """The fastest of ``repeats`` calls of ``function()``, in seconds (the least noisy figure)."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best
