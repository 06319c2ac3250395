"""Record the exhaustive optimum of every generated fitting problem (not run in CI).

Run from the repository root: ``python scripts/record_fit_optima.py [--count 200]``.
It takes about 10 minutes on 2 cores: each problem runs all 4,500 Hoffmann
starts to convergence (:func:`xlplan.fit.search.exhaustive_search`, inside the
box of valid laws) and polishes the best end points with Newton's method.
The result, ``tests/data/fit_optima.json``, is what ``tests/test_fit_search.py``
checks the fast search against. Each record keeps a checksum of the generated
runs, so a change in the generator (or in numpy's random streams) fails loudly
instead of comparing against another problem.
"""

import argparse
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from xlplan.engine.constants import DEFAULT_DELTA
from xlplan.fit.search import exhaustive_search, hoffmann_grid, make_objective
from xlplan.fit.synthetic import DEFAULT_SEED, make_problem

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "fit_optima.json"


def checksum(runs):
    """Sum of log N + 2 log D + 3 log L: changes if any generated number changes."""
    return float(
        np.log(runs.params).sum() + 2 * np.log(runs.tokens).sum() + 3 * np.log(runs.loss).sum()
    )


def record(index, seed=DEFAULT_SEED):
    problem = make_problem(index, seed)
    fun = make_objective(problem.runs, DEFAULT_DELTA)
    result = exhaustive_search(fun, hoffmann_grid())
    return {
        "index": index,
        "runs": len(problem.runs),
        "noise": problem.noise,
        "checksum": checksum(problem.runs),
        "law": list(problem.law.as_tuple()),
        "objective": float(result.values[0]),
        "x": [float(v) for v in result.ends[0]],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with ProcessPoolExecutor(args.workers) as pool:
        records = list(pool.map(record, range(args.count)))
    data = {"seed": DEFAULT_SEED, "delta": DEFAULT_DELTA, "problems": records}
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {len(records)} problems to {OUT}")


if __name__ == "__main__":
    main()
