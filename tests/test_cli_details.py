"""Command-line details (issue 15): outputs, folders, plain --help, fits from compute."""

import re

import numpy as np
import pytest

from xlplan.cli import build_parser, main
from xlplan.engine.laws import get_law
from xlplan.fit.runs import load_runs
from xlplan.lawfile import load_law_file


def test_report_refuses_an_output_that_is_not_xlsx(tmp_path, capsys):
    out = tmp_path / "report.csv"
    assert main(["report", "-q", "-o", str(out)]) == 2
    assert "name it .xlsx" in capsys.readouterr().err
    assert not out.exists()


def test_report_output_naming_a_folder_says_so(tmp_path, capsys):
    assert main(["report", "-q", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and ".tmp" not in err


def test_recalc_output_naming_a_folder_says_so(tmp_path, capsys):
    assert main(["workbooks", "build", "-d", str(tmp_path / "w")]) == 0
    workbook = tmp_path / "w" / "fit_coefficients.xlsx"
    assert main(["recalc", str(workbook), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and ".tmp" not in err


def test_workbooks_build_creates_the_folder(tmp_path):
    target = tmp_path / "new" / "templates"
    assert main(["workbooks", "build", "-d", str(target)]) == 0
    from xlplan.templates.build import TEMPLATES

    assert all((target / name).is_file() for name in TEMPLATES)


def _help_texts(parser=None):
    """--help of xlplan and of every sub-command, recursively."""
    parser = parser or build_parser()
    yield parser.format_help()
    for action in parser._actions:
        if isinstance(action.choices, dict):
            for sub in action.choices.values():
                yield from _help_texts(sub)


def test_help_is_plain_text():
    texts = list(_help_texts())
    assert len(texts) >= 8  # xlplan, its seven commands, workbooks build
    for text in texts:
        assert "``" not in text
        assert not re.search(r":(mod|func|class):`", text)


def _epoch_style_runs(tmp_path):
    """Runs from the chinchilla law with a compute column and no tokens column."""
    law = get_law("chinchilla")
    params = np.repeat([7e7, 1.5e8, 3e8, 6e8, 1.2e9], 4)
    tokens = params * np.tile([5.0, 10.0, 20.0, 40.0], 5)
    loss = law.E + law.A / params**law.alpha + law.B / tokens**law.beta
    path = tmp_path / "epoch.csv"
    path.write_text(
        "Model Size,Training Compute (FLOP),Loss\n"
        + "".join(
            f"{float(n)!r},{float(6 * n * d)!r},{float(lo)!r}\n"
            for n, d, lo in zip(params, tokens, loss, strict=True)
        )
    )
    return path, tokens


def test_load_runs_reads_tokens_from_training_compute(tmp_path):
    path, tokens = _epoch_style_runs(tmp_path)
    runs = load_runs(str(path), params_col="Model Size", flops_col="Training Compute (FLOP)")
    np.testing.assert_allclose(runs.tokens, tokens, rtol=1e-12)
    with pytest.raises(TypeError, match="not both"):
        load_runs(str(path), tokens_col="x", flops_col="Training Compute (FLOP)")


def test_fit_flops_col_recovers_the_law(tmp_path, capsys):
    path, _ = _epoch_style_runs(tmp_path)
    out = tmp_path / "law.json"
    assert (
        main(
            [
                "fit",
                str(path),
                "--params-col",
                "Model Size",
                "--flops-col",
                "Training Compute (FLOP)",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    fitted, truth = load_law_file(out), get_law("chinchilla")
    for key in ("E", "alpha", "beta"):
        assert getattr(fitted, key) == pytest.approx(getattr(truth, key), rel=1e-3)
