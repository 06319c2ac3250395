"""Report scenario files (issue 15): numbers, paths, keys and messages a person reads."""

import json

import pytest

from xlplan.engine.errors import InvalidValueError, XlplanError
from xlplan.report.scenario import ENTRY_KEYS, load_scenario


def _write(path, text):
    path.write_text(text)
    return path


def test_yaml_reads_exponents_without_a_dot_as_numbers(tmp_path):
    path = _write(
        tmp_path / "plan.yaml",
        "sweep_quality_params: [1e9, 7E9]\nscenarios:\n"
        "  - chinchilla_params: 13e9\n    requests: 2e+9\n  - loss: 2.3\n"
        "    requests: 1_000\n",
    )
    scenario = load_scenario(path)
    assert scenario.sweep_quality_params == (1e9, 7e9)
    assert scenario.plans[0].chinchilla_params == 13e9
    assert scenario.plans[0].requests == 2e9
    assert scenario.plans[1].requests == 1000
    # The same plan read from TOML (which has always read 13e9 as a number) agrees.
    toml = _write(
        tmp_path / "plan.toml", "[[scenarios]]\nchinchilla_params = 13e9\nrequests = 2e9\n"
    )
    assert load_scenario(toml).plans[0] == scenario.plans[0]


def test_yaml_text_that_is_not_a_number_stays_text(tmp_path):
    path = _write(
        tmp_path / "plan.yaml",
        "title: 13e9x\nscenarios:\n  - name: 7e9\n    loss: 2.3\n    requests: 1e9\n",
    )
    scenario = load_scenario(path)
    assert scenario.title == "13e9x"
    assert scenario.plans[0].name == "7000000000.0"  # a YAML number, shown as Python reads it


def test_law_file_is_found_next_to_the_scenario_file(tmp_path, monkeypatch):
    folder = tmp_path / "plans"
    folder.mkdir()
    law = {"name": "mine", "A": 400.0, "B": 410.0, "E": 1.7, "alpha": 0.34, "beta": 0.28}
    (folder / "fitted.json").write_text(json.dumps(law))
    path = _write(
        folder / "plan.toml", 'law = "fitted.json"\n[[scenarios]]\nloss = 2.3\nrequests = 1e9\n'
    )
    monkeypatch.chdir(tmp_path)  # not the scenario's folder: the old lookup failed here
    scenario = load_scenario(path)
    assert scenario.law.name == "mine" and scenario.law.A == 400.0


def test_unknown_key_in_a_scenario_entry_is_named_with_the_allowed_keys(tmp_path):
    path = _write(tmp_path / "plan.toml", "[[scenarios]]\nloss = 2.3\nrequest = 1e9\n")
    with pytest.raises(InvalidValueError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "unknown key 'request'" in message
    assert "None" not in message
    for key in ENTRY_KEYS:
        assert key in message


def test_loss_and_chinchilla_params_together_is_an_error(tmp_path):
    path = _write(
        tmp_path / "plan.toml",
        "[[scenarios]]\nloss = 2.3\nchinchilla_params = 7e9\nrequests = 1e9\n",
    )
    with pytest.raises(InvalidValueError, match=r"it gives chinchilla_params, loss"):
        load_scenario(path)
    path.write_text("[[scenarios]]\nrequests = 1e9\n")
    with pytest.raises(InvalidValueError, match="needs exactly one of chinchilla_params, loss"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "[[scenarios]]\nloss = 2.3\nrequests = 1e9\n[[scenarios]]\nloss = 2.3\nrequests = -1\n",
            "scenarios[2].requests = -1",
        ),
        (
            "sweep_quality_params = [1e9, 0]\n[[scenarios]]\nloss = 2.3\nrequests = 1e9\n",
            "sweep_quality_params[2] = 0",
        ),
    ],
)
def test_positions_count_from_one(tmp_path, text, where):
    path = _write(tmp_path / "plan.toml", text)
    with pytest.raises(InvalidValueError) as info:
        load_scenario(path)
    assert str(info.value).startswith(where), str(info.value)
    assert "[0]" not in str(info.value)


def test_runs_error_suggests_only_what_works_in_a_scenario(tmp_path):
    (tmp_path / "runs.csv").write_text(
        "params,toks,loss\n"
        + "".join(
            f"{n:g},{20 * n:g},{3 - k / 10}\n" for k, n in enumerate([1e8, 2e8, 4e8, 8e8, 1.6e9])
        )
    )
    path = _write(
        tmp_path / "plan.toml", 'runs = "runs.csv"\n[[scenarios]]\nloss = 2.3\nrequests = 1e9\n'
    )
    with pytest.raises(XlplanError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "tokens_col" not in message  # not a scenario key: the file would be refused
    assert "xlplan fit --tokens-col NAME" in message


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('law = "chinchilla"\nruns = "runs.csv"\n', "both law and runs"),
        ("[hardware]\ntrain_price_per_hour = 2\n", "missing decode_mfu, inference_peak_flops"),
        ("[hardware]\ntrain_mfu = 0.5\nmfu = 0.5\n", "unknown key 'mfu'"),
    ],
)
def test_conflicting_or_incomplete_top_level_settings(tmp_path, text, match):
    path = _write(tmp_path / "plan.toml", text + "[[scenarios]]\nloss = 2.3\nrequests = 1e9\n")
    with pytest.raises(InvalidValueError, match=match):
        load_scenario(path)


def test_a_full_hardware_table_is_read(tmp_path):
    settings = {
        "train_price_per_hour": 2.0,
        "train_peak_flops": 3e14,
        "train_mfu": 0.4,
        "inference_price_per_hour": 1.5,
        "inference_peak_flops": 6e14,
        "prefill_mfu": 0.5,
        "decode_mfu": 0.02,
    }
    body = "".join(f"{k} = {v!r}\n" for k, v in settings.items())
    path = _write(
        tmp_path / "plan.toml", "[[scenarios]]\nloss = 2.3\nrequests = 1e9\n[hardware]\n" + body
    )
    hardware = load_scenario(path).hardware
    assert {k: getattr(hardware, k) for k in settings} == settings
    path.write_text(path.read_text() + "train_power_watts = 400.0\n")  # optional extras
    assert load_scenario(path).hardware.train_power_watts == 400.0
