"""The README's deployment figures are what the engine computes today."""

import pytest

from xlplan.engine.deploy.kv_breakeven import kv_breakeven_requests
from xlplan.engine.deploy.kv_sizing import kv_cost_optimal
from xlplan.engine.deploy.kvcache import kv_gpus_needed
from xlplan.engine.deploy.latency import max_batch
from xlplan.engine.deploy.training import gpus_for_deadline, training_time
from xlplan.engine.paper.chinchilla import chinchilla_from_params
from xlplan.paper import TABLE3_PRINTED, _parse

import doc_pages

README = doc_pages.text()  # the README and docs/, where the reference lives


@pytest.mark.parametrize(
    "context, label", [(0, "without the KV cache (today)"), (4096, "with the KV cache, 4k context")]
)
def test_worked_example_rows(context, label):
    plan = max_batch(7e9, "h100", context, tpot_target=0.05, input_tokens=3881)
    s = plan.serving
    needs = kv_gpus_needed(7e9, 1e9, 3881, 215, "h100", plan.batch, context)
    row = (
        f"| {label} | {plan.batch:,.0f} | {plan.limited_by} | {s.tpot * 1e3:.1f} ms | "
        f"{s.decode_mfu:.{1 if context == 0 else 2}%} | ${s.usd_per_million_output:.4f} | "
        f"${s.usd_per_million_input:.4f} | "
    )
    assert row in README
    assert (
        f"| {s.gpus_per_copy:.0f} | {needs.gpu_hours_per_month:,.0f} h, "
        f"{needs.average:.1f}, {needs.peak:.0f} |"
    ) in README


def test_table3_rows_at_4k_context():
    for printed in TABLE3_PRINTED:
        loss = chinchilla_from_params(_parse(printed[2])).loss
        cells = [printed[0], f"{loss:.2f}"]
        for hardware, batch in (("paper-a100", 2), ("h100", 32)):
            off, on = (
                kv_cost_optimal(
                    loss, _parse(printed[0]), hardware=hardware, batch=batch, context=c
                ).optimal
                for c in (0, 4096)
            )
            cells += [
                f"{off.params / 1e9:.2f}B",
                f"{on.params / 1e9:.2f}B ({on.params / off.params - 1:+.1%})",
                f"${off.total:,.0f}",
                f"${on.total:,.0f}",
            ]
        assert "| " + " | ".join(cells) + " |" in README


def test_break_even_and_training_figures():
    off, on = (
        kv_breakeven_requests(2.1, 0.2, 0.6, hardware="h100", batch=32, context=c)
        for c in (0, 4096)
    )
    assert (
        f"**{off.requests / 1e6:.0f}M requests** without the cache, "
        f"**{on.requests / 1e6:.0f}M** with" in " ".join(README.split())
    )
    plan = training_time(70e9, 4.2547e12, 1024, "h100")
    assert (
        f"**{plan.days:.1f} days, {plan.gpu_hours:,.0f} GPU-hours, ${plan.dollars:,.0f}**"
    ) in README
    assert f"**{gpus_for_deadline(70e9, 4.2547e12, 30, 'h100').gpus:,.0f} GPUs**" in README
