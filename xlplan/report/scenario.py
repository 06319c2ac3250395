"""Report scenarios: the law, the hardware and the demand scenarios to plan for.

Read from TOML or YAML (same keys; see ``xlplan/data/paper_scenario.toml``, the
embedded default with the paper's settings). Every problem names the file and key.
This module only parses: :func:`parse_scenario` gives each plan's goal as written
(a loss or a Chinchilla size, or a budget) and the runs to fit a law to;
:func:`xlplan.report.compute.resolved` fits the law and solves the goals, and
:func:`load_scenario` is the two together.
"""

import dataclasses
import math
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..engine import validate
from ..engine.constants import (
    DEFAULT_HARDWARE,
    DEFAULT_INPUT_TOKENS,
    DEFAULT_LAW,
    DEFAULT_OUTPUT_TOKENS,
)
from ..engine.deploy.energy import DEFAULT_GRID_KG_PER_KWH, DEFAULT_PUE
from ..engine.errors import InvalidTypeError, InvalidValueError, XlplanError
from ..engine.hardware import Hardware, get_hardware
from ..engine.laws import get_law
from ..lawfile import is_law_file, law_from_text
from ..shared.safe_parse import BoundedYamlLoader, parse_toml, parse_yaml
from ..shared.safe_read import read_text
from ..shared.safe_text import clean_text
from .compute import resolved
from .monthly import MONTHLY_KEYS, parse_monthly
from .serving import ServingSettings, read_serving, serving_hardware
from .training import TrainingSettings, read_training

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = ["Plan", "Scenario", "parse_scenario", "load_scenario", "DEFAULT_SCENARIO", "EMBEDDED"]

DEFAULT_SCENARIO = "paper_scenario.toml"
EMBEDDED = "embedded default (the paper's settings)"
_KEYS = {
    "law",
    "runs",
    "hardware",
    "input_tokens",
    "output_tokens",
    "sweep_quality_params",
    "scenarios",
    "title",
    "unique_tokens",
    "serving",
    "pue",
    "grid_kg_per_kwh",
    "training",
}
# What a scenario may give as its goal: a quality, or a budget (the best model it buys).
_GOALS = ("chinchilla_params", "loss", "budget_dollars", "budget_flops")
# The keys of one [[scenarios]] entry; anything else is a typo and is refused.
# Most [[scenarios]] and sweep sizes a file may give: each is a row (or a column) of solved
# plans; a file of 100,000 entries would run for hours and write an unreadable report.
MAX_SCENARIOS = 200
MAX_SWEEP = 50
ENTRY_KEYS = {
    "name",
    "requests",
    "requests_low",
    "requests_high",
    "unique_tokens",
    *_GOALS,
    *MONTHLY_KEYS,
}


class _Loader(BoundedYamlLoader):
    """YAML 1.1 reads ``13e9`` (no dot) as text; this loader reads it as a number, as TOML
    and YAML 1.2 do."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


@dataclass(frozen=True)
class Plan:
    """One demand scenario: a name, a target loss (and its Chinchilla size), requests.

    As parsed, a quality plan knows one of ``loss`` and ``chinchilla_params`` (the
    other NaN) and a budget plan neither; :func:`load_scenario` fills them in.

    ``unique_tokens``: unique training tokens available (None: unlimited).
    ``monthly`` is a :class:`~xlplan.report.monthly.MonthlyDemand` when the scenario
    gives a monthly schedule (then ``requests`` is its sum), else None.
    A budget scenario gives ``budget_dollars`` or ``budget_flops`` instead of a
    quality; its loss and Chinchilla size are those of the best model the budget
    buys (:func:`_budget_losses`), so every sheet can treat it as a quality.
    """

    name: str
    loss: float
    chinchilla_params: float
    requests: float
    # Optional demand range around ``requests`` (lifetime requests): gives a Risk sheet.
    requests_low: float = None
    requests_high: float = None
    # Unique training tokens available (None: unlimited data).
    unique_tokens: object = None
    # A MonthlyDemand when the scenario gives a monthly schedule (requests = its sum).
    monthly: object = None
    budget_dollars: float = math.nan
    budget_flops: float = math.nan

    @property
    def has_range(self):
        return self.requests_low is not None

    @property
    def has_budget(self):
        return not (math.isnan(self.budget_dollars) and math.isnan(self.budget_flops))


@dataclass(frozen=True)
class Scenario:
    source: str
    title: str
    law: object
    law_source: str
    hardware: object
    input_tokens: float
    output_tokens: float
    sweep_quality_params: tuple
    plans: tuple
    runs: object = None  # the Runs the law was fitted to, when the file gives `runs`
    serving: ServingSettings = dataclasses.field(default_factory=ServingSettings)
    pue: float = DEFAULT_PUE
    grid_kg_per_kwh: float = DEFAULT_GRID_KG_PER_KWH
    training: TrainingSettings = dataclasses.field(default_factory=TrainingSettings)


def _read(path):
    if path is None:
        text = resources.files("xlplan.data").joinpath(DEFAULT_SCENARIO).read_text("utf-8")
        return EMBEDDED, tomllib.loads(text)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise InvalidValueError(
            f"scenario file {str(path)!r} must end in .toml, .yaml or .yml",
            argument="--scenario",
            value=str(path),
        )
    text = read_text(path, "scenario file", "--scenario")
    if suffix == ".toml":
        data = parse_toml(text, "scenario file", path, "--scenario")
    else:
        data = parse_yaml(text, "scenario file", path, "--scenario", loader=_Loader)
    if not isinstance(data, dict):
        raise InvalidTypeError(
            f"scenario file {str(path)!r} must hold a table of settings",
            argument="--scenario",
            value=str(path),
        )
    return str(path), data


def _law(data, source, override=None):
    if override is not None:  # --law replaces the file's law, and its runs with it
        return law_from_text(override, "--law"), f"{override} (--law)", None
    if "runs" in data:  # the law (None here) is fitted by report.compute.resolved
        from ..fit.runs import load_runs

        runs_path = Path(source).parent / data["runs"]
        try:
            runs = load_runs(str(runs_path))
        except XlplanError as error:
            raise _runs_error(error, runs_path) from None
        return None, f"fitted to {runs_path}", runs
    law = data.get("law", DEFAULT_LAW)
    if isinstance(law, str):  # a preset, or a law file from `xlplan fit --output`
        if is_law_file(law) and _is_file(source):
            # Next to the scenario file, as `runs` is (an absolute path stays as it is).
            law = str(Path(source).parent / law.strip())
        return law_from_text(law), law, None
    return get_law(law), "coefficients given in the file", None


def _is_file(source):
    return source != EMBEDDED


def _runs_error(error, runs_path):
    """A runs-loading error for a scenario: a scenario has no column-name keys, so the
    loader's hint "pass loss_col=NAME" would not work; suggest renaming the column instead."""
    text = str(error)
    if "=NAME" in text:
        option = "--" + str(error.argument).replace("_", "-")  # tokens_col -> --tokens-col
        text = text.split(", or pass")[0] + (
            f" (in {runs_path}); rename that column, or fit "
            f"with `xlplan fit {option} NAME ...` and give "
            'the law file as law = "fitted.json"'
        )
        return type(error)(text, argument="runs", value=str(runs_path))
    return error


def _number(where, value, **bounds):
    """A number under a key of the file; the message spells it as the file does (key = value).

    ``bounds``: the allowed range as :func:`validate.scalar` takes it (default: any number).
    """
    bounds.setdefault("low", -math.inf)
    try:
        return validate.scalar(where, value, **bounds)
    except XlplanError as error:
        raise error.renamed(where, assign=" = ") from None


def _plans(data, source):
    entries = data.get("scenarios") or []
    if not entries:
        raise InvalidValueError(
            f"{source}: no [[scenarios]] given", argument="scenarios", value=None
        )
    plans = []
    for k, entry in enumerate(entries, start=1):
        where = f"scenarios[{k}]"
        _check_entry(entry, where, source)
        goals = [key for key in _GOALS if key in entry]
        if len(goals) != 1:
            raise InvalidValueError(
                f"{source}: {where} needs exactly one of {', '.join(_GOALS)}"
                + (f" (it gives {', '.join(goals)})" if goals else ""),
                argument=where,
                value=entry,
            )
        goal, budgets = goals[0], {}
        loss = size = math.nan
        if goal == "chinchilla_params":
            size = _number(f"{where}.chinchilla_params", entry["chinchilla_params"], low=0.0)
        elif goal == "loss":
            loss = _number(f"{where}.loss", entry["loss"], low=0.0)
        else:
            budgets[goal] = _positive(f"{where}.{goal}", entry[goal])
        monthly = parse_monthly(entry, where)
        requests = (
            monthly.total
            if monthly is not None
            else _number(f"{where}.requests", entry.get("requests"), low=0.0, low_open=False)
        )
        plans.append(
            Plan(
                clean_text(entry.get("name", f"scenario {k}")),
                loss,
                size,
                requests,
                *_demand_range(entry, where, requests),
                _unique_tokens(data, entry, where),
                monthly,
                **budgets,
            )
        )
    return tuple(plans)


def _positive(where, value, **bounds):
    """A number > 0 (or within ``bounds``) under a key of the file (budgets, PUE, grid)."""
    try:
        return validate.scalar(where, value, **bounds)
    except XlplanError as error:
        raise error.renamed(where, assign=" = ") from None


def _check_entry(entry, where, source):
    """Refuse a non-table entry and unknown keys (typos), which would otherwise be silently
    ignored; the goal (exactly one of _GOALS) is checked by the caller."""
    if not isinstance(entry, dict):
        raise InvalidTypeError(
            f"{source}: {where} must be a table of settings ({', '.join(sorted(ENTRY_KEYS))})",
            argument=where,
            value=None,
        )
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        raise InvalidValueError(
            f"{source}: {where}: unknown key {unknown[0]!r}; allowed: "
            f"{', '.join(sorted(ENTRY_KEYS))}",
            argument=f"{where}.{unknown[0]}",
            value=None,
        )


def _demand_range(entry, where, requests):
    """(requests_low, requests_high) of a scenario entry: both or neither, low <= base <= high."""
    given = [key for key in ("requests_low", "requests_high") if key in entry]
    if not given:
        return None, None
    if len(given) == 1:
        raise InvalidValueError(
            f"{where} gives {given[0]} alone: a demand range needs both "
            "requests_low and requests_high",
            argument=f"{where}.{given[0]}",
            value=entry[given[0]],
        )
    low = _number(f"{where}.requests_low", entry["requests_low"])
    high = _number(f"{where}.requests_high", entry["requests_high"])
    if not 0 < low <= requests <= high:
        raise InvalidValueError(
            f"{where}: requests_low = {low:g}, requests = {requests:g}, requests_high = "
            f"{high:g} must satisfy 0 < requests_low <= requests <= requests_high",
            argument=f"{where}.requests_low",
            value=low,
        )
    return low, high


def _unique_tokens(data, entry, where):
    """A scenario's own ``unique_tokens``, else the file's, else None (unlimited)."""
    if "unique_tokens" in entry:
        where, value = f"{where}.unique_tokens", entry["unique_tokens"]
    elif "unique_tokens" in data:
        where, value = "unique_tokens", data["unique_tokens"]
    else:
        return None
    try:
        return validate.scalar(where, value)  # unique tokens available: > 0
    except XlplanError as error:
        raise error.renamed(where, assign=" = ") from None


def _checked_shapes(data, source):
    """Keys whose value has the wrong kind (a table for a file name, ...), named at once."""
    kinds = {
        "runs": (str, 'a file name, e.g. runs = "runs.csv"'),
        "title": (str, "text"),
        "scenarios": (list, "a list of [[scenarios]] tables"),
        "sweep_quality_params": (list, "a list of model sizes, e.g. [1e9, 7e9]"),
        "law": ((str, list), "a preset name, a law file or [A, B, E, alpha, beta]"),
    }
    for key, (kind, wanted) in kinds.items():
        if key in data and not isinstance(data[key], kind):
            raise InvalidTypeError(
                f"{source}: {key} must be {wanted}, got "
                f"{type(data[key]).__name__} {str(data[key])[:60]}",
                argument=key,
                value=data[key],
            )
    for key, most in (("scenarios", MAX_SCENARIOS), ("sweep_quality_params", MAX_SWEEP)):
        if len(data.get(key) or ()) > most:
            raise InvalidValueError(
                f"{source}: {key} gives {len(data[key]):,} entries; at most {most}",
                argument=key,
                value=len(data[key]),
            )
    for k, entry in enumerate(data.get("scenarios") or [], start=1):
        if not isinstance(entry, dict):
            raise InvalidTypeError(
                f"{source}: scenarios[{k}] must be a table of name, loss "
                "or chinchilla_params, requests",
                argument=f"scenarios[{k}]",
                value=entry,
            )


def _hardware(hardware, source):
    """A preset name, or a table of the seven settings, e.g. [hardware] train_mfu = 0.4."""
    if not isinstance(hardware, dict):
        return get_hardware(hardware)
    # The seven are needed; the serving and power settings (and any later ones) may follow.
    needed = Hardware.setting_names()
    allowed = [
        f.name for f in dataclasses.fields(Hardware) if f.name not in ("name", "description")
    ]
    unknown, missing = sorted(set(hardware) - set(allowed)), sorted(set(needed) - set(hardware))
    if unknown or missing:
        problem = f"unknown key {unknown[0]!r}" if unknown else f"missing {', '.join(missing)}"
        raise InvalidValueError(
            f"{source}: hardware: {problem}; a hardware table gives "
            f"{', '.join(needed)} (and optionally "
            f"{', '.join(k for k in allowed if k not in needed)})",
            argument="hardware",
            value=None,
        )
    return Hardware(**hardware)


def load_scenario(path=None, law=None):
    """The :class:`Scenario` in ``path`` (TOML or YAML), or the embedded paper default,
    with its law fitted (if it gives runs) and every plan's loss solved from its goal.

    ``law`` (a preset name or a law file), if given, replaces the file's ``law`` or ``runs``.
    """
    return resolved(parse_scenario(path, law))


def parse_scenario(path=None, law=None):
    """The :class:`Scenario` in ``path`` as written: goals unsolved, a ``runs`` law None."""
    source, data = _read(path)
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise InvalidValueError(
            f"{source}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_KEYS))}",
            argument=unknown[0],
            value=None,
        )
    if "law" in data and "runs" in data:
        raise InvalidValueError(
            f"{source}: gives both law and runs: the law is either given or fitted to the runs",
            argument="law",
            value=None,
        )
    _checked_shapes(data, source)
    law, law_source, runs = _law(data, source, law)
    hardware = _hardware(data.get("hardware", DEFAULT_HARDWARE), source)
    serving = read_serving(data.get("serving"), source)
    hardware = serving_hardware(hardware, serving)
    # Positions count from 1, as scenarios[1] does: a person reads these messages.
    sweep = tuple(
        _number(f"sweep_quality_params[{k}]", v, low=0.0)
        for k, v in enumerate(data.get("sweep_quality_params", (1e9, 7e9, 13e9, 30e9, 70e9)), 1)
    )
    per_request = tuple(
        _number(key, data.get(key, default), low=0.0, low_open=False)
        for key, default in (
            ("input_tokens", DEFAULT_INPUT_TOKENS),
            ("output_tokens", DEFAULT_OUTPUT_TOKENS),
        )
    )
    scenario = Scenario(
        source,
        clean_text(data.get("title", "LLM sizing report")),
        law,
        law_source,
        hardware,
        *per_request,
        sweep,
        _plans(data, source),
        runs,
        serving,
        _positive("pue", data.get("pue", DEFAULT_PUE), low=1.0, low_open=False),
        _positive(
            "grid_kg_per_kwh", data.get("grid_kg_per_kwh", DEFAULT_GRID_KG_PER_KWH), low_open=False
        ),
        read_training(data.get("training"), source),
    )
    return scenario
