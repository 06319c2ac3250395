"""Run many ``xlplan`` command lines in one process and report each outcome as JSON.

Starting Python and importing xlplan's dependencies costs seconds on a loaded
machine, so the hostile-file test hands its whole corpus to one process running
this script (``python tests/cli_driver.py < cases.json``). Each case runs
:func:`xlplan.cli.main` as ``python -m xlplan`` would, with its own stderr, an
alarm as a hang detector, and a listing of the output folder before and after.
"""

import contextlib
import io
import json
import os
import signal
import sys
import time
import traceback


class Hang(BaseException):
    """The alarm went off: the case ran past its time limit (BaseException: never caught
    as an ordinary error by the code under test)."""


def _alarm(signum, frame):
    raise Hang()


def _listing(folder):
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def run_case(argv, folder, seconds):
    """(exit status, stderr, traceback or None, seconds, files new in ``folder``)."""
    from xlplan.cli import main

    before, err, out = _listing(folder), io.StringIO(), io.StringIO()
    problem, start = None, time.perf_counter()
    signal.alarm(seconds)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            status = main(argv)
    except SystemExit as stop:  # argparse, require_extra
        status = stop.code if isinstance(stop.code, int) else 1
        if not isinstance(stop.code, int) and stop.code is not None:
            err.write(f"{stop.code}\n")
    except Hang:
        status, problem = None, f"no answer within {seconds} s"
    except BaseException:  # what a user would see as a traceback
        status, problem = None, traceback.format_exc()
    finally:
        signal.alarm(0)
    new = sorted(set(_listing(folder)) - set(before))
    return status, err.getvalue(), problem, time.perf_counter() - start, new


def main():
    import resource

    # A case that reads without bound fails here with MemoryError instead of taking the
    # machine's memory; 4 GB of address space is far above what any case needs.
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    signal.signal(signal.SIGALRM, _alarm)
    request = json.load(sys.stdin)
    results = []
    for case in request["cases"]:
        status, err, problem, seconds, new = run_case(
            case["argv"], request["folder"], request["seconds"]
        )
        results.append(
            {
                "id": case["id"],
                "status": status,
                "stderr": err,
                "problem": problem,
                "seconds": seconds,
                "new_files": new,
            }
        )
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
