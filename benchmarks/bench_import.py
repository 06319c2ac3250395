"""Time ``import xlplan`` in fresh interpreters against ``import numpy`` alone.

Run from the repository root: ``python benchmarks/bench_import.py [--repeat 9]``.

Each measurement is a new Python process that times one import with
``time.perf_counter`` (interpreter start-up excluded); the figure is the median
over the repeats. ``import numpy`` is the baseline: xlplan's engine needs numpy,
so numpy's import is the floor. Target: ``import xlplan`` under 0.15 s. Also
shown: the Excel functions (``xlplan.udfs``), which every Excel route loads.
"""

import argparse
import statistics
import subprocess
import sys

TIMER = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module, repeat):
    """Median seconds to import ``module`` in ``repeat`` fresh interpreters."""
    times = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", TIMER.format(module=module)],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(done.stdout))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    numpy = import_seconds("numpy", args.repeat)
    print(f"import numpy (baseline): {numpy:.3f} s  (median of {args.repeat})")
    for module in ("xlplan", "xlplan.udfs"):
        seconds = import_seconds(module, args.repeat)
        target = "  (target < 0.15 s)" if module == "xlplan" else ""
        print(
            f"import {module}: {seconds:.3f} s{target}; ratio to numpy {seconds / numpy:.2f}x; "
            f"beyond numpy {seconds - numpy:+.3f} s"
        )


if __name__ == "__main__":
    main()
