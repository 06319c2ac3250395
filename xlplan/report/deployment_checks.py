"""The Checks rows of the report's Deployment sheet, as formulas over its values.

Each plan's training on the cluster against the Summary and the Assumptions (GPUs x
days x 24 = GPU-hours, GPU-hours x price = training $ = the Summary's, the calendar's
ROUNDUP, the deadline met), and its serving with the KV cache against the shape rule,
the roofline by hand and the engine's serving without the cache (``throughput`` at the
batch, or the Summary's own column when the scenario's batch prices the plan).
"""

from ..engine.constants import DAYS_PER_YEAR, HOURS_PER_DAY, MONTHS_PER_YEAR
from ..engine.deploy.serving import at_batch, throughput
from ..shared.checks import Check
from ..shared.shape_rule import rule_params_formula
from .sheets import summary_cell

__all__ = ["deployment_checks"]


def _training(name, d, s, a, row, nominal):
    """``nominal``: the cell of the plan's training $ at today's price (the Summary's, or
    for a launch plan the Cash flow's: its Summary dollars are present values)."""
    where = "Summary" if nominal == s["training"] else "Cash flow"
    checks = [
        Check(
            f"{name}: training on the cluster: GPUs x days x 24 = GPU-hours",
            f"={d('gpus')}*{d('days')}*{HOURS_PER_DAY:g}",
            f"={d('gpu_hours')}",
            "integer",
            "Deployment GPUs, days; GPU-hours",
        ),
        Check(
            f"{name}: training GPU-hours x $ per GPU-hour = the {where}'s training $",
            f"={d('gpu_hours')}*{a['Train $/GPU-hour']}",
            f"={nominal}",
            "usd",
            f"Deployment GPU-hours, Assumptions; {where} training $",
        ),
        Check(
            f"{name}: the Deployment sheet's training $ = the {where}'s",
            f"={d('training')}",
            f"={nominal}",
            "usd",
            f"Deployment training $; {where} training $",
        ),
        Check(
            f"{name}: training ends in month ROUNDUP(days / ({DAYS_PER_YEAR:g}/"
            f"{MONTHS_PER_YEAR:g})), starting in month 1",
            f"=ROUNDUP({d('days')}/({DAYS_PER_YEAR:g}/{MONTHS_PER_YEAR:g}),0)+{d('first_month')}-1",
            f"={d('last_month')}",
            "integer",
            "Deployment days, start month; end month",
        ),
    ]
    if row.deadline_days == row.deadline_days:  # a deadline is given
        checks.append(
            Check(
                f"{name}: the fewest GPUs for the deadline train within it",
                f"={d('deadline_days')}",
                f"={d('gpu_hours')}/{d('deadline_gpus')}/{HOURS_PER_DAY:g}",
                "ratio",
                "Deployment deadline; GPU-hours / fewest GPUs / 24",
                at_least=True,
            )
        )
    return checks


def _kv(scenario, name, d, s, a, row, params):
    bytes_per = a["Bytes per weight"]
    if scenario.serving.batch is None:  # the engine's serving without the cache, at the batch
        plain = throughput(params, at_batch(scenario.hardware, row.batch))
        right, where = float(plain.usd_per_million_output), "SERVING at the batch (engine)"
    else:  # the scenario's batch prices the whole report: the Summary's column
        right, where = f"={s['usd_per_million_output']}", "Summary $ per 1M output tokens"
    return [
        Check(
            f"{name}: KV bytes per token = 2 x layers x KV heads x 128 head dim x bytes per "
            "element: the layers it implies give the recommended size by the shape rule",
            "=" + rule_params_formula(d("kv_bytes_per_token"), bytes_per),
            f"={s['params']}",
            "count",
            "Deployment KV bytes per token, Assumptions; Summary recommended params",
        ),
        Check(
            f"{name}: KV cache of the batch = batch x context x KV bytes per token",
            f"={d('batch')}*{d('context')}*{d('kv_bytes_per_token')}",
            f"={d('kv_cache_bytes')}",
            "count",
            "Deployment batch, context, KV bytes per token; KV cache",
        ),
        Check(
            f"{name}: serving with context 0 = serving without the KV cache: $ per 1M output",
            f"={d('no_kv_usd_per_million_output')}",
            right,
            "usd_rate",
            f"Deployment context 0; {where}",
        ),
    ]


def _largest(scenario, name, d, s, a):
    """The largest batch fits and meets the targets: memory and the roofline by hand."""
    n, b = s["params"], a["Bytes per weight"]
    peak, mfu = a["Inference peak FLOP/s"], a["Prefill MFU"]
    bandwidth, memory = a["Inference memory bandwidth (B/s)"], a["Inference GPU memory (B)"]
    batch, g, c, kv = d("max_batch"), d("max_gpus_per_copy"), d("context"), d("kv_bytes_per_token")
    d_in = a["Input tokens per request"]
    checks = [
        Check(
            f"{name}: the largest batch fits: GPUs per copy x memory >= weights + its KV cache",
            f"={g}*{memory}",
            f"={n}*{b}+{batch}*{c}*{kv}",
            "bytes",
            "Deployment largest batch, GPUs, context; Assumptions; Summary params",
            at_least=True,
        )
    ]
    tpot = f"MAX(2*{n}*{batch}/({g}*{peak}*{mfu}),({n}*{b}+{batch}*{c}*{kv})/({g}*{bandwidth}))"
    compute = f"2*{n}*{batch}*{d_in}/({g}*{peak}*{mfu})"
    # context 0: prefill is compute-bound, as serving without the cache has it
    ttft = (
        f"MAX({compute},({n}*{b}+{batch}*{d_in}*{kv})/({g}*{bandwidth}))"
        if scenario.serving.context > 0
        else compute
    )
    for key, target, by_hand, what in (
        ("max_tpot", scenario.serving.tpot_target, tpot, "TPOT"),
        ("max_ttft", scenario.serving.ttft_target, ttft, "TTFT"),
    ):
        checks.append(
            Check(
                f"{name}: {what} at the largest batch = the roofline by hand "
                "(max of compute and memory time)",
                f"={by_hand}",
                f"={d(key)}",
                "seconds",
                "Deployment largest batch, GPUs, context; Assumptions; Summary params",
            )
        )
        if target is not None:
            checks.append(
                Check(
                    f"{name}: the largest batch meets the {what} target ({target:g} s)",
                    target,
                    f"={by_hand}",
                    "seconds",
                    f"scenario's serving.{what.lower()}_target; the roofline by hand",
                    at_least=True,
                )
            )
    return checks


_SUMMARY = ("params", "training", "usd_per_million_output")


def deployment_checks(scenario, plan_rows, deployment, a, nominal=None):
    """Every Deployment check: ``deployment`` its layout, ``a`` the Assumptions' cells,
    ``nominal(k)`` the cell of plan k's training $ at today's price (default the Summary's)."""
    nominal = nominal or (lambda k: summary_cell("training", k))
    checks = []
    for k, (plan, row) in enumerate(zip(scenario.plans, deployment.rows, strict=True)):

        def d(key, k=k):
            return deployment.cell(key, k)

        s = {key: summary_cell(key, k) for key in _SUMMARY}
        checks += _training(plan.name, d, s, a, row, nominal(k))
        if row.kv_note:
            continue
        checks += _kv(scenario, plan.name, d, s, a, row, plan_rows[k].params)
        if not row.max_batch_note:
            checks += _largest(scenario, plan.name, d, s, a)
    return checks
