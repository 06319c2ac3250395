"""The report's training settings: the cluster the recommended models train on.

A scenario file may hold a ``[training]`` table::

    [training]
    gpus = 1024            # GPUs training together (default 256)
    deadline_days = 30     # optional: also the fewest GPUs that train within it

:mod:`xlplan.report.compute` trains each plan's recommended model on them
(:func:`xlplan.engine.deploy.training.training_time`, ``gpus_for_deadline`` and
``training_months``: training from month 1, serving the month after it ends). A scenario
with a monthly schedule and ``deadline_days`` is sized on that calendar, launched at the
deadline (:mod:`xlplan.report.launch`).
"""

from dataclasses import dataclass

from ..engine import validate
from ..engine.constants import DEFAULT_CLUSTER_GPUS
from ..engine.errors import InvalidTypeError, InvalidValueError, XlplanError

__all__ = ["TrainingSettings", "read_training", "MAX_GPUS", "MAX_DEADLINE_DAYS"]

_KEYS = {"gpus", "deadline_days"}
# Beyond these a figure is a typo, not a plan: ten million GPUs, a century of training.
MAX_GPUS = 1e7
MAX_DEADLINE_DAYS = 36500.0


@dataclass(frozen=True)
class TrainingSettings:
    gpus: float = DEFAULT_CLUSTER_GPUS
    deadline_days: object = None  # days, or None: no deadline


def _number(where, value, **bounds):
    try:
        return validate.scalar(where, value, **bounds)
    except XlplanError as error:
        raise error.renamed(where, assign=" = ") from None


def _gpus(value):
    gpus = _number("training.gpus", value, low=1.0, low_open=False, high=MAX_GPUS)
    if not gpus.is_integer():
        raise InvalidValueError(
            f"training.gpus = {gpus:g} must be a whole number of GPUs (1 to {MAX_GPUS:,.0f})",
            argument="training.gpus",
            value=gpus,
        )
    return gpus


def read_training(table, source):
    """The :class:`TrainingSettings` of a scenario's ``[training]`` table (or the defaults)."""
    if table is None:
        return TrainingSettings()
    if not isinstance(table, dict):
        raise InvalidTypeError(
            f"{source}: training must be a table (gpus, deadline_days)",
            argument="training",
            value=table,
        )
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise InvalidValueError(
            f"{source}: unknown key(s) training.{', training.'.join(unknown)}; "
            f"allowed: {', '.join(sorted(_KEYS))}",
            argument="training",
            value=unknown[0],
        )
    deadline = table.get("deadline_days")
    return TrainingSettings(
        _gpus(table.get("gpus", DEFAULT_CLUSTER_GPUS)),
        None
        if deadline is None
        else _number("training.deadline_days", deadline, high=MAX_DEADLINE_DAYS),
    )
