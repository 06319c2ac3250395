"""Every CLI command on broken inputs: a one-line error and a non-zero status, never a
traceback (issue 10, item 15), and the scenario-file errors that used to be tracebacks;
the Python API's lifetime_cost loss and array errors listing every argument (item 16)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xlplan
from xlplan.engine.errors import InvalidValueError
from xlplan.engine.laws import get_law

PAPER = (Path(xlplan.__file__).parent / "data" / "paper_scenario.toml").read_text()
HARDWARE_KEYS = (
    "train_price_per_hour",
    "train_peak_flops",
    "train_mfu",
    "inference_price_per_hour",
    "inference_peak_flops",
    "prefill_mfu",
    "decode_mfu",
)
GOOD_HARDWARE = dict(zip(HARDWARE_KEYS, (2.0, 3.12e14, 0.4, 2.0, 3.12e14, 0.5, 0.1), strict=True))


def _xlplan(*args, cwd=None):
    done = subprocess.run(
        [sys.executable, "-m", "xlplan", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )
    return done.returncode, done.stdout + done.stderr


def _scenario(tmp_path, name, top_lines):
    """The paper's scenario with ``top_lines`` in place of its law and hardware lines."""
    body = "\n".join(
        line for line in PAPER.splitlines() if not line.startswith(("law =", "hardware ="))
    )
    path = tmp_path / name
    path.write_text(top_lines + "\n" + body)
    return path


def _inline(table):
    return "{" + ", ".join(f"{k} = {v!r}" for k, v in table.items()) + "}"


@pytest.mark.parametrize(
    "top, words",
    [
        (
            f"hardware = {_inline({**GOOD_HARDWARE, 'train_price': 2.0})}",
            ["unknown key 'train_price'", *HARDWARE_KEYS],
        ),
        (
            f"hardware = {_inline({k: v for k, v in GOOD_HARDWARE.items() if k != 'decode_mfu'})}",
            ["missing decode_mfu", *HARDWARE_KEYS],
        ),
        ('runs = {file = "runs.csv"}', ["runs must be a file name", "runs.csv"]),
        ("hardware = 7", ["hardware needs exactly 7 settings", *HARDWARE_KEYS]),
        (f"hardware = {_inline({**GOOD_HARDWARE, 'decode_mfu': 'fast'})}", ["decode_mfu='fast'"]),
        ("title = [1, 2]", ["title must be text"]),
        ("law = 2.5", ["law must be a preset name"]),
    ],
)
def test_scenario_mistakes_are_one_line_errors_naming_the_key(tmp_path, top, words):
    path = _scenario(tmp_path, "plan.toml", top)
    status, output = _xlplan("report", "--scenario", path, "-o", tmp_path / "r.xlsx", "-q")
    assert status == 2, output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1, output
    assert all(word in output for word in words), output
    assert not (tmp_path / "r.xlsx").exists()


def test_a_hardware_table_with_every_key_still_works(tmp_path):
    path = _scenario(tmp_path, "plan.toml", f"hardware = {_inline(GOOD_HARDWARE)}")
    status, output = _xlplan("report", "--scenario", path, "-o", tmp_path / "r.xlsx", "-q")
    assert status == 0, output
    assert (tmp_path / "r.xlsx").stat().st_size > 0


def _broken_inputs(tmp_path):
    """(command line) of every command with something wrong in it."""
    text = tmp_path / "notes.txt"
    text.write_text("not a workbook")
    fake_xlsx = tmp_path / "fake.xlsx"
    fake_xlsx.write_text("not a zip file")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    junk = tmp_path / "junk.csv"
    junk.write_text("params,tokens,loss\n1e9,abc,2.1\n,,\n")
    wrong_cols = tmp_path / "cols.csv"
    wrong_cols.write_text("a,b\n1,2\n")
    yaml_list = tmp_path / "list.yaml"
    yaml_list.write_text("- 1\n- 2\n")
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("law = = 3\n")
    missing = tmp_path / "missing.csv"
    return [
        ["tables", "--no-such-option"],
        ["no-such-command"],
        ["fit", missing],
        ["fit", empty],
        ["fit", junk],
        ["fit", wrong_cols],
        ["fit", tmp_path],
        ["fit", junk, "--max-tokens-per-param", "-5"],
        ["fit", junk, "--loss-col", "nope"],
        ["fit", junk, "--bootstrap", "-1"],
        ["fit", junk, "--output", tmp_path / "no" / "x.json"],
        ["workbooks"],
        ["workbooks", "build", "-d", text],
        ["recalc", missing, "-o", tmp_path / "o.xlsx"],
        ["recalc", text, "-o", tmp_path / "o.xlsx"],
        ["recalc", fake_xlsx, "-o", tmp_path / "o.xlsx"],
        ["recalc", fake_xlsx, "-o", fake_xlsx],
        ["report", "--scenario", missing, "-o", tmp_path / "r.xlsx"],
        ["report", "--scenario", yaml_list, "-o", tmp_path / "r.xlsx"],
        ["report", "--scenario", bad_toml, "-o", tmp_path / "r.xlsx"],
        ["report", "--scenario", text, "-o", tmp_path / "r.xlsx"],
        ["report", "--scenario", tmp_path, "-o", tmp_path / "r.xlsx"],
        ["report", "-o", tmp_path / "no" / "such" / "dir" / "r.xlsx", "-q"],
        ["report", "--law", "no-such-law", "-o", tmp_path / "r.xlsx"],
        ["serve", "--port", "70000"],
        ["serve", "--token", "short"],
        ["serve", "--public-url", "javascript:alert(1)"],
        ["serve", "--slow-timeout", "inf"],
        ["serve", "--certfile", missing],
        ["serve", "--max-body-bytes", "0"],
        ["addin", "--config", tmp_path],
        ["addin", "--interpreter", missing, "--dry-run"],
    ]


def test_every_command_on_broken_input_fails_without_a_traceback(tmp_path):
    failures = []
    for args in _broken_inputs(tmp_path):
        status, output = _xlplan(*args, cwd=tmp_path)
        if status == 0 or "Traceback" in output or not output.strip():
            failures.append((args, status, output[-400:]))
    assert not failures, failures


def test_lifetime_cost_gives_the_models_loss():
    plan = xlplan.lifetime_cost(7e9, 1.4e12, 1e9)
    law = get_law("chinchilla")
    by_hand = law.E + law.A / 7e9**law.alpha + law.B / 1.4e12**law.beta
    assert plan.loss == pytest.approx(by_hand, rel=1e-12)
    epoch = xlplan.lifetime_cost(7e9, 1.4e12, 1e9, law="epoch-2024")
    assert epoch.loss == pytest.approx(get_law("epoch-2024").loss(7e9, 1.4e12), rel=1e-12)
    assert epoch.total == plan.total  # the dollars do not depend on the law
    arrays = xlplan.lifetime_cost(np.array([1e9, 7e9]), np.array([2e10, 1.4e12]), 1e9)
    assert np.isfinite(arrays.loss).all() and arrays.loss[1] == pytest.approx(by_hand)


def test_array_errors_list_the_bad_positions_of_every_argument():
    loss = np.array([2.1, 1.5, 2.0, 1.0])
    demand = np.array([1e12, -1.0, -5.0, 1e13])
    with pytest.raises(InvalidValueError) as caught:
        xlplan.compute_optimal(loss, demand)
    assert caught.value.positions_by_argument == {
        "loss": [(1,), (3,)],
        "inference_tokens": [(1,), (2,)],
    }
    message = str(caught.value)
    assert "loss[1]=1.5" in message and "inference_tokens[2]=-5" in message
    with pytest.raises(InvalidValueError) as caught:
        xlplan.cost_optimal(loss, demand, input_tokens=np.array([70, 70, -3, 70]))
    assert caught.value.positions_by_argument == {
        "loss": [(1,), (3,)],
        "requests": [(1,), (2,)],
        "input_tokens": [(2,)],
    }
    with pytest.raises(InvalidValueError) as caught:
        xlplan.lifetime_cost(np.array([-1.0, 7e9]), 1e12, np.array([1e9, -2.0]))
    assert caught.value.positions_by_argument == {"params": [(0,)], "requests": [(1,)]}
    # One bad argument: its own error, as before.
    with pytest.raises(InvalidValueError, match=r"inference_tokens\[1\]=-1") as caught:
        xlplan.compute_optimal(np.array([2.1, 2.2]), np.array([1e12, -1.0]))
    assert caught.value.positions == [(1,)]
