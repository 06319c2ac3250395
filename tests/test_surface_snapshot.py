"""The public surface before and after the argument gate: the Excel registry (names,
argument names, optional and range flags, help text, result columns, slow flag) and
``xlplan.__all__`` with the signatures of its functions must equal the snapshot
taken on the ``regroup`` branch.

Regenerate (only when the surface is meant to change) with
``python tests/test_surface_snapshot.py > tests/data/surface_snapshot.json``.
"""

import inspect
import json
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "data" / "surface_snapshot.json"


def surface():
    import xlplan
    from xlplan import udfs

    functions = {
        name: {
            "description": spec.description,
            "params": [[p.name, p.help, p.optional, p.range] for p in spec.params],
            "result": list(spec.result),
            "slow": spec.slow,
        }
        for name, spec in sorted(udfs.FUNCTIONS.items())
    }
    signatures = {
        name: str(inspect.signature(getattr(xlplan, name)))
        for name in xlplan.__all__
        if inspect.isfunction(getattr(xlplan, name))
    }
    return {
        "functions": functions,
        "udfs_all": sorted(udfs.__all__),
        "xlplan_all": list(xlplan.__all__),
        "signatures": signatures,
    }


def test_surface_matches_the_snapshot():
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(surface()))
    assert actual["xlplan_all"] == expected["xlplan_all"]
    assert actual["udfs_all"] == expected["udfs_all"]
    assert actual["signatures"] == expected["signatures"]
    assert sorted(actual["functions"]) == sorted(expected["functions"])
    for name, spec in expected["functions"].items():
        assert actual["functions"][name] == spec, name


def test_every_registered_function_is_a_udfs_attribute():
    from xlplan import udfs

    for name, spec in udfs.FUNCTIONS.items():
        assert getattr(udfs, name) is spec.func


if __name__ == "__main__":
    print(json.dumps(surface(), indent=1, sort_keys=True))
