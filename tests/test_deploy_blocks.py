"""The planner's and the report's training-on-a-cluster and KV-cache serving blocks.

Their values are the engine's (to 1e-12), their Checks rows are OK as built and each one
turns to ERROR when a cell it reads is typed over; the report's new scenario keys refuse
hostile values with a message naming the key, never a traceback.
"""

import math
import subprocess

import openpyxl
import pytest
from numpy.testing import assert_allclose

import xlplan
from xlplan.cli import main
from xlplan.engine.deploy import kvcache, latency, training
from xlplan.engine.deploy.serving import at_batch, throughput
from xlplan.engine.errors import XlplanError
from xlplan.engine.hardware import get_hardware
from xlplan.report import deployment
from xlplan.report.compute import deploy_rows, kv_batch, plan_rows
from xlplan.report.scenario import load_scenario
from xlplan.shared.checks import FIRST_ROW, SHEET
from xlplan.templates import budget, kv_block, training_block
from xlplan.templates.routes import to_route
from xlplan.workbook.evaluate import evaluate

from lo_helpers import SOFFICE, convert, needs_soffice, read_csv

HW = get_hardware("paper-a100")


def _planner():
    return to_route(budget.build(), "desktop")


def _row(ws, label):
    """The row whose column A reads ``label``."""
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == label)


def _checks(workbook, values):
    """{label: (value, compared with, result)} of the Checks sheet."""
    ws = workbook[SHEET]
    return {
        ws.cell(r, 1).value: tuple(values.get((SHEET, r, c)) for c in (2, 3, 6))
        for r in range(FIRST_ROW, ws.max_row + 1)
    }


@pytest.fixture(scope="module")
def planner():
    workbook = _planner()
    values = evaluate(workbook).values
    ws = workbook["Planner"]

    def shown(label):
        return values[("Planner", _row(ws, label), 2)]

    return workbook, values, shown


def test_training_block_is_the_engine(planner):
    _, _, shown = planner
    n, d = shown("Recommended model size (parameters)"), shown("Recommended training tokens")
    loss = xlplan.chinchilla_from_params(7e9).loss
    assert_allclose(n, xlplan.cost_optimal(loss, 1e6 * 730).optimal.params, rtol=1e-12)
    run = training.training_time(n, d, training_block.INPUTS[0][1], HW)
    fast = training.gpus_for_deadline(n, d, training_block.DEFAULT_DEADLINE_DAYS, HW)
    expected = {
        training_block.DAYS: run.days,
        training_block.GPU_HOURS: run.gpu_hours,
        training_block.DOLLARS: run.dollars,
        training_block.START: 1.0,
        training_block.END: training.training_months(run.days)[1],
        training_block.FOR_DEADLINE: fast.gpus,
        training_block.DAYS_AT: fast.days,
    }
    for label, value in expected.items():
        assert_allclose(shown(label), value, rtol=1e-12, err_msg=label)
    assert shown(training_block.DOLLARS) == pytest.approx(shown("Training cost ($)"), rel=1e-12)
    assert 0 < run.days < 30 and fast.days <= 30  # the defaults are a plan that fits in a month


def test_kv_block_is_the_engine(planner):
    _, _, shown = planner
    n = shown("Recommended model size (parameters)")
    context, batch = kv_block.INPUTS[0][1], kv_block.DEFAULT_BATCH
    tpot, ttft = kv_block.INPUTS[2][1], kv_block.INPUTS[3][1]
    kv = xlplan.engine.deploy.shape.kv_bytes_for_params(n, HW.bytes_per_weight)
    assert_allclose(shown(kv_block.KV_BYTES), kv, rtol=1e-12)
    s = kvcache.kv_serving(n, HW, batch, context, kv, 70.0)
    off = kvcache.kv_serving(n, HW, batch, 0.0, kv, 70.0)
    big = latency.max_batch(n, HW, context, tpot, ttft, kv, 70.0)
    a = kv_block.AT_BATCH
    expected = {
        a + "decode MFU": s.decode_mfu,
        a + "decode tokens/s per GPU": s.decode_tokens_per_s,
        a + "$ per 1M input tokens": s.usd_per_million_input,
        a + "$ per 1M output tokens": s.usd_per_million_output,
        kv_block.NO_KV: off.usd_per_million_output,
        a + "GPUs per copy (weights and the batch's cache)": s.gpus_per_copy,
        a + "time per output token": s.tpot,
        a + "time to first token": s.ttft,
        a + "KV cache of the batch (bytes)": s.kv_cache_bytes,
        kv_block.MAX: big.batch,
        kv_block.AT_MAX + "$ per 1M output tokens": big.serving.usd_per_million_output,
        kv_block.AT_MAX + "GPUs per copy": big.serving.gpus_per_copy,
        kv_block.AT_MAX + "time per output token": big.serving.tpot,
        kv_block.AT_MAX + "time to first token": big.serving.ttft,
    }
    for label, value in expected.items():
        assert_allclose(shown(label), value, rtol=1e-12, err_msg=label)
    # the cache costs something, and the TPOT target binds the largest batch on paper-a100
    assert s.usd_per_million_output > off.usd_per_million_output
    assert big.limited_by == "TPOT" and big.serving.tpot <= tpot
    # context 0 is serving without the cache at that batch: the roofline of at_batch
    plain = throughput(n, at_batch(HW, batch)).usd_per_million_output
    assert_allclose(off.usd_per_million_output, plain, rtol=1e-12)


NEW_CHECKS = (
    "Training on the cluster",
    "Training ends in month",
    "Training starts in month",
    "The fewest GPUs",
    "KV bytes per token",
    "KV cache of the batch",
    "Serving with context 0",
    "The largest batch",
)


def test_new_planner_checks_are_there_and_ok(planner):
    workbook, values, _ = planner
    rows = _checks(workbook, values)
    ours = {label: row for label, row in rows.items() if label and label.startswith(NEW_CHECKS)}
    assert len(ours) == 12
    for label, (left, right, result) in ours.items():
        assert isinstance(left, float) and isinstance(right, float), label
        assert result == "OK", (label, left, right)
    assert values[(SHEET, 5, 2)] == "OK"


# (the cell's label, a factor (float) or a value (str) typed over it, the check that must turn
# to ERROR, and an input to change as well or None)
PERTURBED = [
    (training_block.DAYS, 1.001, "Training on the cluster: GPUs x days x 24", None),
    (training_block.DOLLARS, 1.001, "Training on the cluster: GPU-hours x training $", None),
    (training_block.DOLLARS, 1.001, "Training on the cluster costs the plan's training $", None),
    (training_block.END, "2", "Training ends in month", None),
    (training_block.START, "2", "Training starts in month 1", None),
    (training_block.FOR_DEADLINE, 0.5, "The fewest GPUs for the deadline", None),
    (kv_block.KV_BYTES, 1.001, "KV bytes per token", None),
    (kv_block.AT_BATCH + "KV cache of the batch (bytes)", 1.001, "KV cache of the batch", None),
    (kv_block.NO_KV, 1.001, "Serving with context 0", None),
    (kv_block.AT_MAX + "GPUs per copy", 0.5, "The largest batch fits", None),
    # a batch that still fits in memory but is 20% past the TPOT-limited largest (143)
    (kv_block.MAX, "171", "The largest batch meets the TPOT target", None),
    # the largest batch for a 1 s TTFT, kept while the target tightens to 0.1 s
    (kv_block.MAX, 1.0, "The largest batch meets the TTFT target", (kv_block.TTFT, 0.1)),
]


@pytest.mark.parametrize("label, typed, check, also", PERTURBED)
def test_each_new_check_fails_on_a_typed_over_cell(planner, label, typed, check, also):
    _, _, shown = planner
    workbook = _planner()
    ws = workbook["Planner"]
    value = float(typed) if isinstance(typed, str) else shown(label) * typed
    ws.cell(_row(ws, label), 2).value = value
    if also is not None:
        ws.cell(_row(ws, also[0]), 2).value = also[1]
    after = evaluate(workbook).values
    rows = _checks(workbook, after)
    (found,) = [row for name, row in rows.items() if name and name.startswith(check)]
    assert found[2] == "ERROR", (label, found)
    assert isinstance(found[0], float) and isinstance(found[1], float)  # a real disagreement
    assert after[(SHEET, 5, 2)] == "ERROR"


def test_blank_targets_and_deadline_are_optional(planner):
    """Blank TPOT / TTFT targets and deadline: the block says so, every check stays OK."""
    workbook = _planner()
    ws = workbook["Planner"]
    for label in (kv_block.TPOT, kv_block.TTFT, training_block.DEADLINE):
        ws.cell(_row(ws, label), 2).value = None
    values = evaluate(workbook).values
    assert values[("Planner", _row(ws, training_block.FOR_DEADLINE), 2)] == "no deadline given"
    n = values[("Planner", _row(ws, "Recommended model size (parameters)"), 2)]
    big = latency.max_batch(n, HW, kv_block.INPUTS[0][1])  # memory alone limits it
    assert values[("Planner", _row(ws, kv_block.MAX), 2)] == big.batch
    assert big.limited_by == "memory"
    assert values[(SHEET, 5, 2)] == "OK"


def test_the_serving_block_note_names_what_ignores_the_cache(planner):
    workbook, _, _ = planner
    ws = workbook["Planner"]
    texts = [str(ws.cell(r, 1).value) for r in range(1, ws.max_row + 1)]
    (serving,) = [t for t in texts if t.startswith("Roofline bound")]
    assert "ignore KV-cache traffic" in serving and "KV-cache block below" in serving
    (kv,) = [t for t in texts if t.startswith("Roofline with the KV cache")]
    assert "Not in the plan's costs" in kv


# ---- the report ----

SCENARIO = """title = "Deployment"
hardware = "h100"
[training]
gpus = 512
deadline_days = 20
[serving]
context = 8192
tpot_target = 0.03
ttft_target = 0.5
[[scenarios]]
name = "7B-class"
chinchilla_params = 7e9
requests = 2e9
[[scenarios]]
name = "70B-class"
chinchilla_params = 70e9
requests = 3e10
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("deploy_report")
    (folder / "plan.toml").write_text(SCENARIO)
    out = folder / "plan.xlsx"
    assert main(["report", "-q", "-o", str(out), "--scenario", str(folder / "plan.toml")]) == 0
    return folder / "plan.toml", out


def test_scenario_keys_are_read(report):
    scenario = load_scenario(report[0])
    assert scenario.training.gpus == 512 and scenario.training.deadline_days == 20
    assert scenario.serving.context == 8192
    assert (scenario.serving.tpot_target, scenario.serving.ttft_target) == (0.03, 0.5)
    defaults = load_scenario()
    assert defaults.training.gpus == 256 and defaults.training.deadline_days is None
    assert defaults.serving.context == 4096 and defaults.serving.tpot_target is None


def test_deployment_sheet_is_the_engine(report):
    scenario = load_scenario(report[0])
    hw = scenario.hardware
    ws = openpyxl.load_workbook(report[1], data_only=True)[deployment.SHEET]
    rows = plan_rows(scenario)
    batch = kv_batch(scenario)
    assert batch == round(xlplan.engine.deploy.serving.implied_batch(hw)) == 3
    for k, row in enumerate(rows):
        layout = deployment.DeploymentLayout(deploy_rows(scenario, rows), _kv_header(ws))

        def shown(key, k=k, layout=layout):
            ref = layout.cell(key, k).split("!")[1].replace("$", "")
            return ws[ref].value

        run = training.training_time(row.params, row.tokens, 512, hw)
        fast = training.gpus_for_deadline(row.params, row.tokens, 20, hw)
        kv = kvcache.kv_bytes_default(row.params, hw)
        s = kvcache.kv_serving(row.params, hw, batch, 8192, kv, 70.0)
        big = latency.max_batch(row.params, hw, 8192, 0.03, 0.5, kv, 70.0)
        expected = {
            "gpus": 512.0,
            "days": run.days,
            "gpu_hours": run.gpu_hours,
            "training": row.training,
            "first_month": 1.0,
            "last_month": float(math.ceil(run.days / (365 / 12))),
            "deadline_gpus": fast.gpus,
            "deadline_run_days": fast.days,
            "kv_bytes_per_token": kv,
            "usd_per_million_output": s.usd_per_million_output,
            "gpus_per_copy": s.gpus_per_copy,
            "tpot": s.tpot,
            "max_batch": big.batch,
            "max_usd_per_million_output": big.serving.usd_per_million_output,
            "max_tpot": big.serving.tpot,
        }
        for key, value in expected.items():
            assert_allclose(shown(key), value, rtol=1e-12, err_msg=key)
        assert_allclose(run.dollars, row.training, rtol=1e-12)


def _kv_header(ws):
    return (
        next(
            r
            for r in range(1, ws.max_row + 1)
            if ws.cell(r, 1).value == "Serving with the KV cache"
        )
        + 1
    )


def test_answer_page_states_training_and_kv_serving(report):
    wb = openpyxl.load_workbook(report[1], data_only=True)
    answer, ws = wb["Answer"], wb[deployment.SHEET]
    headers = [c.value for c in answer[6]]
    days = headers.index("Training on 512 GPUs: days") + 1
    month = headers.index("Training: from month 1 to month") + 1
    cost = headers.index("Serving with the KV cache (8,192 tokens): $ per 1M output tokens") + 1
    for k in range(2):
        # (to the last bit openpyxl writes: the answer's cached value is the float read back)
        assert answer.cell(7 + k, days).value == pytest.approx(ws.cell(6 + k, 3).value, rel=1e-15)
        assert answer.cell(7 + k, month).value == ws.cell(6 + k, 7).value
        kv = ws.cell(_kv_header(ws) + 1 + k, 6).value
        assert answer.cell(7 + k, cost).value == pytest.approx(kv, rel=1e-15)
    assert answer["B4"].value == "OK"


def test_report_deployment_checks_are_ok_and_can_fail(report, tmp_path):
    from xlplan.workbook.recalc import recalc_file

    wb = openpyxl.load_workbook(report[1], data_only=True)
    checks = wb[SHEET]
    labels = [checks.cell(r, 1).value for r in range(FIRST_ROW, checks.max_row + 1)]
    first = labels.index("7B-class: training on the cluster: GPUs x days x 24 = GPU-hours")
    last = labels.index("What a budget buys: the best model's lifetime cost = the budget")
    # per plan: 5 training (deadline given), 3 KV, 5 at the largest batch (2 targets given)
    assert last - first == 2 * 13
    assert all(checks.cell(FIRST_ROW + r, 6).value == "OK" for r in range(first, last))
    assert checks["B5"].value == "OK"
    # the first plan's training days typed over (40 days, 2 months): its identities fail
    out = tmp_path / "patched.xlsx"
    evaluation = recalc_file(report[1], out, [(deployment.SHEET, "C6", 40.0)])
    assert evaluation.values[(SHEET, 5, 2)] == "ERROR"
    patched = openpyxl.load_workbook(out, data_only=True)[SHEET]
    failed = [
        patched.cell(r, 1).value
        for r in range(FIRST_ROW, patched.max_row + 1)
        if patched.cell(r, 6).value == "ERROR"
    ]
    assert failed == [
        "7B-class: training on the cluster: GPUs x days x 24 = GPU-hours",
        "7B-class: training ends in month ROUNDUP(days / (365/12)), starting in month 1",
    ]


def test_hardware_without_memory_settings_leaves_kv_serving_blank(tmp_path):
    text = (
        "[hardware]\ntrain_price_per_hour = 2\ntrain_peak_flops = 1e15\ntrain_mfu = 0.4\n"
        "inference_price_per_hour = 2\ninference_peak_flops = 1e15\nprefill_mfu = 0.5\n"
        "decode_mfu = 0.02\n[[scenarios]]\nloss = 2.3\nrequests = 1e9\n"
    )
    (tmp_path / "plan.toml").write_text(text)
    out = tmp_path / "r.xlsx"
    assert main(["report", "-q", "-o", str(out), "--scenario", str(tmp_path / "plan.toml")]) == 0
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb[deployment.SHEET]
    assert ws.cell(_kv_header(ws) + 1, 6).value == "n/a"
    assert any("no memory settings" in str(c.value) for row in ws.iter_rows() for c in row)
    assert wb[SHEET]["B5"].value == "OK"


def test_an_unmeetable_target_is_said_in_the_sheet(tmp_path):
    (tmp_path / "plan.toml").write_text(
        'hardware = "h100"\n[serving]\ntpot_target = 1e-6\n'
        "[[scenarios]]\nchinchilla_params = 7e9\nrequests = 1e9\n"
    )
    out = tmp_path / "r.xlsx"
    assert main(["report", "-q", "-o", str(out), "--scenario", str(tmp_path / "plan.toml")]) == 0
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb[deployment.SHEET]
    assert ws.cell(_kv_header(ws) + 1, 12).value == "n/a"
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row)
    assert "tpot_target=1e-06 s cannot be met" in text
    assert wb[SHEET]["B5"].value == "OK"


HOSTILE = [
    ("[training]\ngpus = -4\n", "training.gpus = -4 is out of range"),
    ("[training]\ngpus = 0\n", "training.gpus = 0 is out of range"),
    ('[training]\ngpus = "many"\n', "training.gpus = 'many' must be a number"),
    ("[training]\ngpus = 1e30\n", "training.gpus = 1e+30 is out of range"),
    ("[training]\ngpus = 10.5\n", "training.gpus = 10.5 must be a whole number"),
    ("[training]\ngpus = nan\n", "training.gpus = nan is out of range"),
    ("[training]\ndeadline_days = -1\n", "training.deadline_days = -1 is out of range"),
    ("[training]\ndeadline_days = 1e9\n", "training.deadline_days = 1e+09 is out of range"),
    ("[training]\ndeadline_days = [30]\n", "training.deadline_days = [30] must be a number"),
    ("[training]\ngpu = 8\n", "unknown key(s) training.gpu"),
    ("training = 8\n", "training must be a table"),
    ("[serving]\ncontext = -1\n", "serving.context = -1 is out of range"),
    ("[serving]\ncontext = 1e300\n", "serving.context = 1e+300 is out of range"),
    ('[serving]\ncontext = "4k"\n', "serving.context = '4k' must be a number"),
    ("[serving]\ntpot_target = 0\n", "serving.tpot_target = 0 is out of range"),
    ("[serving]\nttft_target = inf\n", "serving.ttft_target = inf is out of range"),
    ("[serving]\nttft_target = true\n", "serving.ttft_target = True must be a number"),
]


@pytest.mark.parametrize("text, message", HOSTILE)
def test_hostile_keys_give_a_clear_error(tmp_path, capsys, text, message):
    path = tmp_path / "plan.toml"
    path.write_text(text + "[[scenarios]]\nloss = 2.3\nrequests = 1e9\n")
    with pytest.raises(XlplanError) as info:
        load_scenario(path)
    assert message in str(info.value)
    assert main(["report", "-q", "-o", str(tmp_path / "r.xlsx"), "--scenario", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "r.xlsx").exists()


@needs_soffice
def test_libreoffice_shows_the_new_answer_columns(report, tmp_path):
    rows = read_csv(convert(report[1], "csv", tmp_path))  # first sheet: the answer
    header = rows[5]
    column = header.index("Serving with the KV cache (8,192 tokens): $ per 1M output tokens")
    ws = openpyxl.load_workbook(report[1], data_only=True)[deployment.SHEET]
    assert rows[3][1] == "OK"
    shown = float(rows[6][column].replace("$", "").replace(",", ""))
    assert shown == pytest.approx(ws.cell(_kv_header(ws) + 1, 6).value, abs=5e-4)


# LibreOffice told to recalculate every formula on load (never to trust cached values), and to
# write each sheet as CSV: the report's Checks are plain spreadsheet formulas, so LibreOffice
# recomputes them on its own.
_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""
_EVERY_SHEET_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def _libreoffice_checks(path, folder):
    """{check label: OK / ERROR} of ``path``'s Checks sheet as LibreOffice recalculates it."""
    profile = folder / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_PROFILE)
    result = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            _EVERY_SHEET_CSV,
            "--outdir",
            str(folder),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    checks = folder / f"{path.stem}-{SHEET}.csv"
    assert result.returncode == 0 and checks.exists(), result.stderr + result.stdout
    rows = read_csv(checks)
    return rows[4][1], {row[0]: row[5] for row in rows[FIRST_ROW - 1 :] if row and row[0]}


@needs_soffice
def test_libreoffice_recalculates_the_report_checks(report, tmp_path):
    master, rows = _libreoffice_checks(report[1], tmp_path)
    assert master == "OK" and len(rows) >= 40
    assert set(rows.values()) == {"OK"}
    patched = tmp_path / "patched.xlsx"
    wb = openpyxl.load_workbook(report[1])  # formulas kept, cached results dropped
    wb[deployment.SHEET]["C6"] = 40.0  # the first plan's training days
    wb.save(patched)
    master, rows = _libreoffice_checks(patched, tmp_path)
    assert master == "ERROR"
    assert sorted(label for label, result in rows.items() if result != "OK") == [
        "7B-class: training ends in month ROUNDUP(days / (365/12)), starting in month 1",
        "7B-class: training on the cluster: GPUs x days x 24 = GPU-hours",
    ]
