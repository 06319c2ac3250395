"""Law files: a fitted or hand-written law saved as JSON, for the Python API and the CLI.

A law file holds ``A``, ``B``, ``E``, ``alpha``, ``beta`` and optionally
``name`` and ``source``; ``xlplan fit --output`` writes one. Only the Python
API, the CLI and report scenarios read them, always on an explicit request:
the engine (:func:`xlplan.engine.laws.get_law`) and the Excel functions never
open a file, so a cell holding a path cannot make xlplan read it.
"""

import dataclasses
import json
import os

from .engine.errors import InvalidTypeError
from .engine.laws import COEFFICIENT_NAMES, REPETITION_NAMES, ScalingLaw, get_law
from .shared.atomic import atomic_path, check_not_same
from .shared.safe_parse import parse_json
from .shared.safe_read import read_text

__all__ = ["load_law_file", "write_law_file", "is_law_file", "law_from_text"]


def is_law_file(text):
    """True when ``text`` names a law file (ends in .json) rather than a preset."""
    return isinstance(text, (str, os.PathLike)) and os.fspath(text).strip().lower().endswith(
        ".json"
    )


def law_from_text(text, argument="law"):
    """A law named on the command line or in a scenario: a law file (.json) or a preset."""
    if is_law_file(text):
        return load_law_file(os.fspath(text).strip(), argument)
    try:
        return get_law(text)
    except InvalidTypeError as error:
        raise error.renamed(argument) from None


def load_law_file(path, argument="law"):
    """Read a law file: JSON with A, B, E, alpha, beta and optional name, source,
    R_D_star, R_N_star.

    Errors name ``argument`` (e.g. ``"--law"``) and the file.
    """
    path = os.fspath(path)
    data = parse_json(read_text(path, "law file", argument), "law file", path, argument)
    missing = [k for k in COEFFICIENT_NAMES if not isinstance(data, dict) or k not in data]
    if missing:
        raise InvalidTypeError(
            f"law file {path!r} lacks {', '.join(missing)}: it needs "
            f"{', '.join(COEFFICIENT_NAMES)}",
            argument=argument,
            value=path,
        )
    name = str(data.get("name") or os.path.splitext(os.path.basename(path))[0])
    law = ScalingLaw.from_coefficients(
        [data[k] for k in COEFFICIENT_NAMES], name=name, source=str(data.get("source", path))
    )
    # Optional decay constants of the data-constrained law (Muennighoff et al. 2023).
    repetition = {k: data[k] for k in REPETITION_NAMES if data.get(k) is not None}
    return dataclasses.replace(law, **repetition) if repetition else law


def write_law_file(law, path, protect=(), argument="--output"):
    """Write ``law`` as JSON via a temporary file in the same folder and an atomic rename.

    Refuses to overwrite any file in ``protect`` (e.g. the runs it was fitted to).
    """
    for source in protect:
        check_not_same(source, path, argument=argument)
    data = {"name": law.name, **law.as_dict(), "source": law.source}
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
