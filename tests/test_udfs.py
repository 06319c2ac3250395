"""The Excel functions as plain Python calls: engine numbers, Excel-style inputs, errors."""

import itertools
import math

import pytest
from numpy.testing import assert_allclose

import xlplan
from xlplan import udfs
from xlplan.excel.cell_error import CellError
from xlplan.fit.law import fit_law
from xlplan.fit.runs import load_runs

RTOL = 1e-12
CHIN_ROW = [list(xlplan.get_law("chinchilla").as_tuple())]


def _is_error(value, code, *words):
    assert isinstance(value, CellError), value
    assert value.code == code
    assert str(value).startswith(code + " ")
    for word in words:
        assert word in value.message, value.message
    return True


def test_values_equal_the_engine():
    law = xlplan.get_law("epoch-2024")
    assert_allclose(udfs.SCALING_LOSS(7e9, 1e12, "epoch-2024"), law.loss(7e9, 1e12), RTOL)
    model = xlplan.chinchilla_from_params(7e9)
    assert_allclose(
        udfs.CHINCHILLA_MODEL(7e9), [[model.loss, model.tokens, model.training_flops]], RTOL
    )
    model = xlplan.chinchilla_from_loss(2.1)
    assert_allclose(udfs.CHINCHILLA_OPT(2.1), [[model.params, model.tokens]], RTOL)
    plan = xlplan.compute_optimal(2.1, 1e13)
    assert_allclose(udfs.OPT_PARAMS(2.1, 1e13), [[plan.optimal.params, plan.optimal.tokens]], RTOL)
    assert udfs.TOTAL_FLOPS(7e9, 1e12, 1e13) == 6 * 7e9 * 1e12 + 2 * 7e9 * 1e13
    plan = xlplan.cost_optimal(2.1, 1e9, 100, 300, "h100", "sardana-all")
    assert_allclose(
        udfs.COST_OPT(2.1, 1e9, 100, 300, "h100", "sardana-all"),
        [[plan.optimal.params, plan.optimal.tokens]],
        RTOL,
    )
    cost = xlplan.lifetime_cost(7e9, 1e12, 1e9, hardware="a100-40gb")
    assert_allclose(
        udfs.LIFETIME_COST(7e9, 1e12, 1e9, None, None, "a100-40gb"),
        [[cost.training, cost.inference, cost.total]],
        RTOL,
    )
    assert udfs.XLPLAN_LAW("sardana-all") == [list(xlplan.LAW_PRESETS["sardana-all"].as_tuple())]
    assert udfs.XLPLAN_HARDWARE("h100") == [list(xlplan.HARDWARE_PRESETS["h100"].as_tuple())]


def test_results_are_plain_floats_in_one_row():
    for value in (
        udfs.OPT_PARAMS(2.1, 1e12),
        udfs.LIFETIME_COST(7e9, 1e12, 1e9),
        udfs.XLPLAN_HARDWARE("paper-a100"),
    ):
        assert len(value) == 1
        assert all(type(v) is float for v in value[0])
    assert type(udfs.SCALING_LOSS(7e9, 1e12)) is float


def test_text_numbers_and_one_cell_ranges_are_numbers():
    expected = udfs.OPT_PARAMS(2.1, 1e12)
    assert udfs.OPT_PARAMS("2.1", " 1e12 ") == expected
    assert udfs.OPT_PARAMS([[2.1]], [1e12]) == expected
    assert udfs.OPT_PARAMS(2, 10**12) == udfs.OPT_PARAMS(2.0, 1e12)


def test_blank_optional_arguments_take_their_defaults():
    expected = udfs.COST_OPT(2.1, 1e9, 70, 215, "paper-a100", "chinchilla")
    assert udfs.COST_OPT(2.1, 1e9) == expected
    assert udfs.COST_OPT(2.1, 1e9, None, "", [[None]], " ") == expected
    assert udfs.LIFETIME_COST(7e9, 1e12, 1e9, "", None, None) == udfs.LIFETIME_COST(
        7e9, 1e12, 1e9, 70, 215, "paper-a100"
    )
    assert udfs.SCALING_LOSS(7e9, 1e12, None) == udfs.SCALING_LOSS(7e9, 1e12, "chinchilla")


def test_law_as_a_range_from_xlplan_law():
    row = udfs.XLPLAN_LAW("epoch-2024")
    expected = udfs.OPT_PARAMS(2.1, 1e12, "epoch-2024")
    assert udfs.OPT_PARAMS(2.1, 1e12, row) == expected
    assert udfs.OPT_PARAMS(2.1, 1e12, row[0]) == expected  # a 1-D list, as xlwings reads a row
    assert udfs.OPT_PARAMS(2.1, 1e12, [[v] for v in row[0]]) == expected  # a column
    assert udfs.OPT_PARAMS(2.1, 1e12, [[str(v) for v in row[0]]]) == expected
    assert udfs.OPT_PARAMS(2.1, 1e12, "EPOCH-2024") == expected


def test_hardware_as_a_range_from_xlplan_hardware():
    row = udfs.XLPLAN_HARDWARE("h100")
    assert udfs.COST_OPT(2.1, 1e9, None, None, row) == udfs.COST_OPT(2.1, 1e9, None, None, "h100")
    assert udfs.LIFETIME_COST(7e9, 1e12, 1e9, 70, 215, row) == udfs.LIFETIME_COST(
        7e9, 1e12, 1e9, 70, 215, "h100"
    )


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: udfs.OPT_PARAMS(1.5, 1e12), ["loss=1.5", "E=1.69"]),
        (lambda: udfs.OPT_PARAMS(1.69, 1e12), ["loss=1.69"]),
        (lambda: udfs.OPT_PARAMS(2.1, -1), ["inf_tokens=-1", ">= 0"]),
        (lambda: udfs.CHINCHILLA_OPT(1.0, "chinchilla"), ["loss=1"]),
        (lambda: udfs.CHINCHILLA_MODEL(0), ["params=0"]),
        (lambda: udfs.SCALING_LOSS(7e9, -5), ["tokens=-5"]),
        (lambda: udfs.TOTAL_FLOPS(7e9, 1e12, float("nan")), ["inf_tokens=nan"]),
        (lambda: udfs.TOTAL_FLOPS(7e9, "inf", 0), ["tokens"]),
        (lambda: udfs.COST_OPT(2.1, -3), ["requests=-3"]),
        (lambda: udfs.COST_OPT(2.1, 1e9, -1), ["input_tokens=-1"]),
        (lambda: udfs.LIFETIME_COST(7e9, 1e12, 1e9, 70, -2), ["output_tokens=-2"]),
        (
            lambda: udfs.LIFETIME_COST(
                7e9, 1e12, 1e9, 70, 215, [[2, 1e15, 1.5, 2, 1e15, 0.5, 0.01]]
            ),
            ["train_mfu=1.5"],
        ),
        (lambda: udfs.OPT_PARAMS(2.1, 1e12, [[1, 2, -1, 0.3, 0.3]]), ["E=-1"]),
    ],
)
def test_out_of_range_values_are_num_errors(call, words):
    _is_error(call(), "#NUM!", *words)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: udfs.OPT_PARAMS("two", 1e12), ["loss='two'", "text"]),
        (lambda: udfs.OPT_PARAMS(True, 1e12), ["loss=True", "TRUE/FALSE"]),
        (lambda: udfs.OPT_PARAMS(None, 1e12), ["loss is blank"]),
        (lambda: udfs.OPT_PARAMS(2.1, ""), ["inf_tokens is blank"]),
        (lambda: udfs.OPT_PARAMS([[2.1, 2.2]], 1e12), ["loss", "single cell", "1x2"]),
        (lambda: udfs.OPT_PARAMS(2.1, 1e12, [[1, 2, 3, 4]]), ["law", "1x5", "4 cells"]),
        (lambda: udfs.OPT_PARAMS(2.1, 1e12, [[1, 2, 3], [4, 5, 6]]), ["law", "2x3"]),
        (lambda: udfs.OPT_PARAMS(2.1, 1e12, [[1, 2, "x", 4, 5]]), ["law[3]='x'"]),
        (
            lambda: udfs.OPT_PARAMS(2.1, 1e12, "gopher"),
            ["unknown law 'gopher'", "chinchilla", "epoch-2024", "sardana-all"],
        ),
        (lambda: udfs.OPT_PARAMS(2.1, 1e12, 3.0), ["law=3.0", "preset name"]),
        (
            lambda: udfs.COST_OPT(2.1, 1e9, None, None, "tpu"),
            ["unknown hardware 'tpu'", "paper-a100", "h100"],
        ),
        (lambda: udfs.COST_OPT(2.1, 1e9, None, None, [[1, 2, 3]]), ["hardware", "1x7 or 1x10"]),
        (lambda: udfs.XLPLAN_LAW(None), ["name"]),
        (lambda: udfs.XLPLAN_LAW(5), ["name=5"]),
        (lambda: udfs.XLPLAN_HARDWARE("nope"), ["nope", "paper-a100"]),
        (lambda: udfs.TOTAL_FLOPS(7e9, 1e12, object()), ["inf_tokens"]),
    ],
)
def test_wrong_types_and_shapes_are_value_errors(call, words):
    _is_error(call(), "#VALUE!", *words)


def test_a_bad_cell_does_not_affect_the_next():
    good = udfs.OPT_PARAMS(2.1, 1e12)
    cells = [udfs.OPT_PARAMS(loss, 1e12) for loss in (2.1, 1.0, "x", 2.1, None, 2.1)]
    assert [c for c in cells if not isinstance(c, CellError)] == [good, good, good]
    assert [c.code for c in cells if isinstance(c, CellError)] == ["#NUM!", "#VALUE!", "#VALUE!"]


def test_every_function_is_registered_with_help():
    # the ten core functions first; modules re-exported by udfs add theirs after
    assert list(udfs.FUNCTIONS)[:10] == [
        "SCALING_LOSS",
        "CHINCHILLA_MODEL",
        "CHINCHILLA_OPT",
        "OPT_PARAMS",
        "TOTAL_FLOPS",
        "COST_OPT",
        "LIFETIME_COST",
        "FIT_COEFFS",
        "XLPLAN_LAW",
        "XLPLAN_HARDWARE",
    ]
    assert {"SERVING", "GPUS_NEEDED", "BREAKEVEN_REQUESTS"} <= set(udfs.FUNCTIONS)
    assert set(udfs.FUNCTIONS) <= set(udfs.__all__)
    for name, spec in udfs.FUNCTIONS.items():
        assert spec.func is getattr(udfs, name)
        assert spec.description and len(spec.description) < 255
        assert all(p.help for p in spec.params)
        optional = [p.optional for p in spec.params]
        assert optional == sorted(optional), f"{name}: an optional argument before a required"
    assert [p.name for p in udfs.FUNCTIONS["COST_OPT"].params] == [
        "loss",
        "requests",
        "input_tokens",
        "output_tokens",
        "hardware",
        "law",
        "unique_tokens",
    ]
    assert udfs.FUNCTIONS["LIFETIME_COST"].result == ("training $", "inference $", "total $")
    assert udfs.FUNCTIONS["FIT_COEFFS"].slow


def _runs(law, rows):
    return [["params", "tokens", "loss"]] + [[n, d, law.loss(n, d)] for n, d in rows]


def test_fit_coeffs_recovers_a_known_law_and_feeds_opt_params():
    law = xlplan.get_law("chinchilla")
    rows = [(n, n * r) for n in (1e8, 3e8, 1e9, 3e9, 1e10) for r in (5, 20, 80, 300)]
    fitted = udfs.FIT_COEFFS(_runs(law, rows))
    assert not isinstance(fitted, CellError), fitted
    assert_allclose(fitted[0], law.as_tuple(), rtol=0.05)
    plan = udfs.OPT_PARAMS(2.1, 1e12, fitted)
    assert_allclose(plan, udfs.OPT_PARAMS(2.1, 1e12, "chinchilla"), rtol=0.1)


def test_fit_coeffs_remembers_fits_of_the_same_runs():
    law = xlplan.get_law("epoch-2024")
    rows = [(n, n * r) for n in (1e8, 1e9, 1e10) for r in (5, 20, 80)]
    runs = _runs(law, rows)
    udfs._fitted.cache_clear()
    first = udfs.FIT_COEFFS(runs)
    again = udfs.FIT_COEFFS(tuple(tuple(r) for r in runs))  # same values, another container
    assert again == first and udfs._fitted.cache_info().hits == 1
    direct = fit_law(load_runs(runs)).law.as_tuple()
    assert first == [list(direct)]  # the cache returns exactly what a fresh fit gives
    assert udfs.FIT_COEFFS(runs, 20) != first  # other options: another fit
    assert udfs._fitted.cache_info().misses == 2
    assert isinstance(udfs.FIT_COEFFS(runs[:4]), CellError)  # errors are not cached
    assert isinstance(udfs.FIT_COEFFS(runs[:4]), CellError)
    assert udfs._fitted.cache_info().currsize == 2


def test_fit_coeffs_cache_keys_on_the_parsed_numbers_not_the_cells():
    # TRUE is not a number of runs (the row is skipped) but 1 is (a run of loss 1):
    # a cache keyed on the cells' values (True == 1 in Python) returned the first
    # fit for both. Whatever order they come in, each answer is its own fresh fit.
    law = xlplan.get_law("epoch-2024")
    rows = [(n, n * r) for n in (1e8, 1e9, 1e10) for r in (5, 20, 80)]
    flagged, one, zero = _runs(law, rows), _runs(law, rows), _runs(law, rows)
    flagged[4][2], one[4][2], zero[4][2] = True, 1, 0
    fresh = {id(t): [list(fit_law(load_runs(t)).law.as_tuple())] for t in (flagged, one)}
    assert fresh[id(flagged)] != fresh[id(one)]
    for order in ((flagged, one), (one, flagged)):
        udfs._fitted.cache_clear()
        for table in order:
            assert udfs.FIT_COEFFS(table) == fresh[id(table)]
    assert udfs.FIT_COEFFS(zero).code == "#NUM!"  # 0 is a bad loss, False would be skipped
    flagged[4][2] = False  # skipped like TRUE: the same runs, so the cached fit
    assert udfs.FIT_COEFFS(flagged) == fresh[id(flagged)]
    assert udfs._fitted.cache_info().hits == 1
    # Same numbers in another form (numeric text, a tuple of tuples): one fit, cached.
    udfs._fitted.cache_clear()
    first = udfs.FIT_COEFFS(one)
    assert udfs.FIT_COEFFS([[str(v) if i else v for i, v in enumerate(r)] for r in one]) == first
    assert udfs._fitted.cache_info().hits == 1


def test_fit_coeffs_bad_runs_are_errors():
    assert isinstance(udfs.FIT_COEFFS([[1e9, 1e10]]), CellError)
    assert isinstance(
        udfs.FIT_COEFFS(_runs(xlplan.get_law("chinchilla"), [(1e9, 2e10)])), CellError
    )
    _is_error(udfs.FIT_COEFFS([[1e9, 2e10, 2.5]] * 10, "many"), "#VALUE!", "max_tokens_per_param")


def test_cell_error_is_text_with_code_and_message():
    error = CellError("#NUM!", "too small")
    assert error == "#NUM! too small" and error.code == "#NUM!" and error.message == "too small"
    with pytest.raises(ValueError, match="code"):
        CellError("#BOGUS", "x")
    assert not math.isnan(udfs.SCALING_LOSS("7e9", "1e12"))


def test_an_overflowing_result_is_a_num_error_not_inf():
    _is_error(udfs.TOTAL_FLOPS(1e300, 1e300, 0), "#NUM!", "too large")


def test_cell_errors_survive_pickling_for_worker_processes():
    import pickle

    error = udfs.OPT_PARAMS(1.0, 1e12)
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, CellError) and copy == error and copy.code == error.code


EXTREMES = [5e-324, 1e-300, 1e-30, 1.9, 2.1, 1e30, 1e300, 1.7e308]


@pytest.mark.parametrize(
    "name",
    [
        "SCALING_LOSS",
        "CHINCHILLA_MODEL",
        "CHINCHILLA_OPT",
        "OPT_PARAMS",
        "TOTAL_FLOPS",
        "COST_OPT",
        "LIFETIME_COST",
    ],
)
def test_extreme_numbers_give_a_number_or_a_cell_error(name):
    """Tiny and huge floats: a finite result or #NUM!, never a Python exception."""
    spec = udfs.FUNCTIONS[name]
    required = sum(not p.optional for p in spec.params)
    for args in itertools.product(EXTREMES, repeat=required):
        value = spec.func(*args)
        if isinstance(value, CellError):
            assert value.code in ("#NUM!", "#VALUE!"), value
        else:
            cells = value[0] if isinstance(value, list) else [value]
            assert all(math.isfinite(v) for v in cells), (args, value)


# A cell holding a path must never make xlplan open it: the answer is the same #VALUE!
# whether the file exists (and holds a valid law) or not, so it reveals nothing either.
PATH_CALLS = {
    "SCALING_LOSS": lambda law: udfs.SCALING_LOSS(7e9, 1e12, law),
    "CHINCHILLA_MODEL": lambda law: udfs.CHINCHILLA_MODEL(7e9, law),
    "CHINCHILLA_OPT": lambda law: udfs.CHINCHILLA_OPT(2.1, law),
    "OPT_PARAMS": lambda law: udfs.OPT_PARAMS(2.1, 1e12, law),
    "COST_OPT": lambda law: udfs.COST_OPT(2.1, 1e9, None, None, None, law),
    "XLPLAN_LAW": lambda law: udfs.XLPLAN_LAW(law),
}


@pytest.mark.parametrize("name", sorted(PATH_CALLS))
def test_a_path_in_a_cell_is_never_opened(name, tmp_path, monkeypatch):
    from xlplan.lawfile import write_law_file

    real, missing = tmp_path / "real.json", tmp_path / "nothere.json"
    write_law_file(xlplan.get_law("epoch-2024"), real)
    opened = []
    original_open = open
    monkeypatch.setattr(
        "builtins.open",
        lambda file, *a, **k: (opened.append(str(file)), original_open(file, *a, **k))[1],
    )
    answers = [PATH_CALLS[name](str(path)) for path in (real, missing)]
    assert not [f for f in opened if f.endswith(".json")], opened
    for answer, path in zip(answers, (real, missing), strict=True):
        _is_error(answer, "#VALUE!", f"unknown law '{path}'")
    assert answers[0].message.replace("real", "X") == answers[1].message.replace("nothere", "X")
