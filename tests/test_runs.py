"""Reading training runs: every source type, skipped rows, and every bad-input path."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from xlplan.engine.errors import InvalidTypeError, InvalidValueError
from xlplan.fit.runs import MIN_RUNS, load_runs

N = [1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9]
D = [2e9, 4e9, 8e9, 1.6e10, 3.2e10, 6.4e10]
L = [3.4, 3.1, 2.9, 2.7, 2.5, 2.4]


def _rows():
    return [list(r) for r in zip(N, D, L, strict=True)]


def test_excel_range_with_header_and_blank_and_text_rows():
    # What =FIT_COEFFS(A1:C9) passes: a header of text, blank cells as None.
    table = [
        ["Params", "Tokens", "Loss"],
        *_rows()[:3],
        [None, None, None],
        [8e8, "n/a", 2.7],
        *_rows()[4:],
    ]
    runs = load_runs(table)
    assert len(runs) == 5
    assert runs.skipped_rows == (5, 6)  # header is row 1, first run row 2
    assert runs.skip_reasons[0] == "blank"
    assert "Tokens='n/a' is not a number" in runs.skip_reasons[1]
    assert runs.rows == (2, 3, 4, 7, 8)
    assert_allclose(runs.params, [1e8, 2e8, 4e8, 1.6e9, 3.2e9])
    assert_allclose(runs.loss, [3.4, 3.1, 2.9, 2.5, 2.4])


def test_headerless_array_and_tuple_of_tuples_agree():
    a = load_runs(np.array(_rows()))
    b = load_runs(tuple(tuple(r) for r in _rows()))
    assert a.skipped_rows == () and a.rows[0] == 1
    for key in ("params", "tokens", "loss"):
        assert_array_equal(getattr(a, key), getattr(b, key))
    assert_allclose(a.tokens_per_param, np.array(D) / np.array(N))


def test_dict_dataframe_and_aliases_case_insensitive():
    frame = pd.DataFrame({"PARAMETERS": N, "Training Tokens": D, "Final Loss": L, "x": 1})
    a = load_runs(frame)
    b = load_runs({"n": N, "d": D, "loss": L})
    assert_array_equal(a.loss, b.loss)
    assert_array_equal(a.params, N)


def test_csv_and_xlsx_files(tmp_path):
    frame = pd.DataFrame({"model size": N, "tokens": D, "val_loss_c4": L})
    csv, xlsx = tmp_path / "runs.csv", tmp_path / "runs.xlsx"
    frame.to_csv(csv, index=False)
    frame.to_excel(xlsx, index=False)
    a = load_runs(str(csv), loss_col="VAL_LOSS_C4")
    b = load_runs(xlsx, loss_col="val_loss_c4")
    assert_allclose(a.loss, L)
    assert_allclose(b.tokens, D)


def test_csv_blank_line_is_counted(tmp_path):
    path = tmp_path / "runs.csv"
    lines = ["params,tokens,loss"] + [",".join(map(str, r)) for r in _rows()]
    path.write_text("\n".join(lines[:3] + [",,"] + lines[3:]) + "\n")
    runs = load_runs(path)
    assert len(runs) == 6 and runs.skipped_rows == (4,)


def test_arrays_are_read_only():
    runs = load_runs(_rows())
    with pytest.raises(ValueError):
        runs.params[0] = 1.0


@pytest.mark.parametrize("bad, column", [(0.0, "params"), (-3.0, "tokens"), (np.inf, "loss")])
def test_non_positive_or_infinite_value_names_row_and_column(bad, column):
    rows = [["params", "tokens", "loss"], *_rows()]
    rows[3][["params", "tokens", "loss"].index(column)] = bad
    message = rf"row 4: {column}=.* must be a finite number > 0"
    with pytest.raises(InvalidValueError, match=message) as info:
        load_runs(rows)
    assert info.value.argument == column and info.value.positions == [(4,)]


def test_too_few_runs_says_how_many_are_needed():
    message = rf"4 usable run\(s\).*1 row\(s\) skipped.*at least {MIN_RUNS}"
    with pytest.raises(InvalidValueError, match=message):
        load_runs(_rows()[:4] + [[None, "x", None]])


def test_missing_column_lists_candidates():
    with pytest.raises(InvalidTypeError, match=r"no loss column.*loss_c4_val"):
        load_runs({"params": N, "tokens": D, "loss_c4_val": L, "loss_de_en": L})
    with pytest.raises(InvalidTypeError, match="loss_col='final' is not a column"):
        load_runs({"params": N, "tokens": D, "loss": L}, loss_col="final")


def test_bad_shapes_and_sources(tmp_path):
    with pytest.raises(InvalidTypeError, match="table of rows"):
        load_runs([1.0, 2.0, 3.0])
    with pytest.raises(InvalidTypeError, match="exactly 3 columns"):
        load_runs([r + [1.0] for r in _rows()])
    with pytest.raises(InvalidTypeError, match="need a header row"):
        load_runs(_rows(), loss_col="loss")
    with pytest.raises(InvalidTypeError, match=r"must end in .csv"):
        load_runs(str(tmp_path / "runs.txt"))
