"""Serving from the hardware: the roofline, $ per 1M tokens, GPUs to reserve, break-even."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import bisect

import xlplan
from xlplan import udfs
from xlplan.engine.deploy.serving import (
    at_batch,
    decode_mfu,
    gpus_needed,
    implied_batch,
    throughput,
)
from xlplan.engine.errors import InvalidTypeError, InvalidValueError
from xlplan.engine.hardware import BYTES_PER_WEIGHT, GPUS, HARDWARE_PRESETS, Hardware, get_hardware
from xlplan.engine.money.breakeven import breakeven_requests
from xlplan.engine.paper.sizing import cost_optimal, lifetime_cost
from xlplan.excel.cell_error import CellError
from xlplan.paper import table3

H100 = HARDWARE_PRESETS["h100"]


def test_presets_carry_the_datasheet_bandwidth_and_memory():
    expected = {
        "a100-40gb": (1.555e12, 40e9),
        "a100-80gb": (2.039e12, 80e9),
        "h100": (3.35e12, 80e9),
        "h200": (4.8e12, 141e9),
    }
    for name, (bandwidth, memory) in expected.items():
        assert (GPUS[name].memory_bandwidth, GPUS[name].memory) == (bandwidth, memory)
        assert "datasheet" in GPUS[name].source
    assert "2026-08-26" in GPUS["h200"].source and GPUS["h200"].price_per_hour == 3.99
    assert BYTES_PER_WEIGHT == {"bf16": 2, "fp16": 2, "int8": 1, "fp8": 1, "int4": 0.5}
    # Inference precision sets the bytes per weight: paper-a100 infers int8, h100 fp8.
    assert HARDWARE_PRESETS["paper-a100"].bytes_per_weight == 1.0
    bf16 = Hardware.from_gpus("h100", "h100", inference_precision="bf16")
    assert bf16.bytes_per_weight == 2.0 and bf16.inference_memory == 80e9


def test_a100_40gb_int8_batch_2_is_the_papers_one_percent():
    mfu = decode_mfu("a100-40gb", batch=2)
    assert_allclose(mfu, 2 * 2 * 1.555e12 / (1 * 6.24e14), rtol=1e-15)
    assert f"{mfu:.3%}" == "0.997%"
    assert udfs.SERVING(70e9, "a100-40gb", 2)[0][0] == mfu


def test_throughput_follows_the_roofline_formulas():
    n, peak, bandwidth = 13e9, 1.979e15, 3.35e12
    for batch in (1, 4, 64, 500):  # 500 is past the compute-bound cap
        rate = throughput(n, at_batch("h100", batch))
        decode = min(batch * bandwidth / (n * 1.0), peak * 0.5 / (2 * n))
        assert_allclose(rate.decode_tokens_per_s, decode, rtol=1e-13)
        assert_allclose(rate.prefill_tokens_per_s, peak * 0.5 / (2 * n), rtol=1e-13)
        assert_allclose(rate.usd_per_million_output, 2.0 / 3600 / decode * 1e6, rtol=1e-13)
        assert_allclose(rate.decode_mfu, decode * 2 * n / peak, rtol=1e-13)
    assert throughput(n, at_batch("h100", 500)).decode_mfu == 0.5  # capped at prefill MFU
    half = throughput(n, at_batch("h100", 4, 0.5)).decode_tokens_per_s
    assert_allclose(half, throughput(n, at_batch("h100", 2)).decode_tokens_per_s, rtol=1e-14)


def test_gpus_to_hold_the_weights():
    bf16 = Hardware.from_gpus("h100", "h100", inference_precision="bf16")
    assert throughput(70e9, bf16).gpus_for_weights == 2.0  # 140 GB on 80 GB GPUs
    assert throughput(40e9, bf16).gpus_for_weights == 1.0  # exactly 80 GB: one GPU
    assert throughput(7e9, "a100-40gb").gpus_for_weights == 1.0
    # Absurd sizes are an answer (a large count), not an error.
    assert throughput(1e15, bf16).gpus_for_weights == 25_000.0
    assert math.isnan(throughput(7e9, Hardware(*H100.as_tuple())).gpus_for_weights)


def test_derived_hardware_is_accepted_wherever_a_hardware_is():
    hw = at_batch("paper-a100", 2)
    assert hw == HARDWARE_PRESETS["paper-a100"].replace(decode_mfu=hw.decode_mfu, name=hw.name)
    plan = cost_optimal(2.1, 1e9, hardware=hw)
    same = cost_optimal(2.1, 1e9, hardware=Hardware(*hw.as_tuple()))
    assert plan.optimal.total == same.optimal.total
    assert udfs.COST_OPT(2.1, 1e9, None, None, list(hw.as_tuple(all=True))) == udfs.COST_OPT(
        2.1, 1e9, None, None, [list(hw.as_tuple())]
    )


def test_table3_with_decode_mfu_from_batch_2_stays_within_half_a_percent():
    stated = table3("paper-a100")
    derived = table3(at_batch("paper-a100", 2))
    for row_stated, row_derived in zip(stated, derived, strict=True):
        for a, b in zip(row_stated, row_derived, strict=True):
            assert_allclose(b.computed, a.computed, rtol=0.005, err_msg=a.column)
            # Decode at 0.997% costs a little more than at 1%: never less.
            if "cost" in a.column:
                assert b.computed >= a.computed


def test_gpu_hours_times_price_are_lifetime_costs_inference_dollars():
    params, tokens, requests = 7e9, 2e12, 3e8
    for hardware, batch, d_in, d_out in (
        ("h100", 8, 70, 215),
        ("paper-a100", 2, 500, 100),
        ("a100-80gb", 32, 0, 1000),
    ):
        hours = udfs.GPUS_NEEDED(params, requests, d_in, d_out, hardware, batch)[0][0]
        row = udfs.XLPLAN_HARDWARE(hardware, True)
        row[0][6] = udfs.SERVING(params, hardware, batch)[0][0]  # decode MFU column
        inference = udfs.LIFETIME_COST(params, tokens, requests, d_in, d_out, row)[0][1]
        assert_allclose(hours * row[0][3], inference, rtol=1e-13)
        engine = lifetime_cost(params, tokens, requests, d_in, d_out, at_batch(hardware, batch))
        assert_allclose(hours * row[0][3], engine.inference, rtol=1e-13)


def test_gpus_at_average_and_peak_load():
    hw = at_batch("h100", 8)
    needs = gpus_needed(7e9, 1e9, hardware=hw, peak_to_average=2)
    rate = throughput(7e9, hw)
    hours = 1e9 * (70 / rate.prefill_tokens_per_s + 215 / rate.decode_tokens_per_s) / 3600
    assert_allclose(needs.gpu_hours_per_month, hours, rtol=1e-13)
    assert_allclose(needs.average, hours / 730, rtol=1e-13)
    assert needs.peak == math.ceil(2 * hours / 730)
    assert gpus_needed(7e9, 0, hardware=hw).peak == 1.0  # the weights still need a GPU
    # Two GPUs per copy of a 70B bf16 model: reserve whole copies.
    bf16 = at_batch(Hardware.from_gpus("h100", "h100", inference_precision="bf16"), 16)
    big = gpus_needed(70e9, 2e8, hardware=bf16)
    assert big.peak % 2 == 0 and big.peak >= big.average and big.peak - big.average < 2
    assert gpus_needed(70e9, 1, hardware=bf16).peak == 2.0


def test_arrays_equal_a_loop():
    params = np.array([1e9, 7e9, 70e9])
    requests = np.array([[1e6], [1e9]])
    needs = gpus_needed(params, requests, hardware="h100", peak_to_average=1.5)
    for i in range(2):
        for j in range(3):
            one = gpus_needed(
                float(params[j]), float(requests[i, 0]), hardware="h100", peak_to_average=1.5
            )
            assert needs.peak[i, j] == one.peak
            assert needs.gpu_hours_per_month[i, j] == one.gpu_hours_per_month
    assert_allclose(
        decode_mfu("h100", np.arange(1.0, 5.0)),
        [decode_mfu("h100", b) for b in range(1, 5)],
        rtol=0,
    )
    losses = np.array([2.0, 2.1, 2.5])
    batch = breakeven_requests(losses, 0.2, 0.6, hardware="h100").requests
    loop = [breakeven_requests(x, 0.2, 0.6, hardware="h100").requests for x in losses]
    assert_allclose(batch, loop, rtol=1e-12)


def _brute_force_root(loss, price_in, price_out, d_in, d_out, hardware, law):
    a = (d_in * price_in + d_out * price_out) / 1e6

    def gap(requests):  # API bill minus the lump-sum cost-optimal total
        return a * requests - cost_optimal(loss, requests, d_in, d_out, hardware, law).optimal.total

    high = 1.0
    while gap(high) <= 0:
        high *= 10
    return bisect(gap, 0.0, high, xtol=1e-300, rtol=1e-14, maxiter=2000), gap


@pytest.mark.parametrize(
    "loss, price_in, price_out, d_in, d_out, hardware, law",
    [
        (2.1, 0.20, 0.60, 70, 215, "h100", "chinchilla"),
        (2.0, 0.20, 0.60, 70, 215, "paper-a100", "chinchilla"),
        (1.96, 3.0, 15.0, 1000, 300, "h200", "chinchilla"),
        (2.53, 0.05, 0.10, 70, 215, "a100-40gb", "epoch-2024"),
        (2.3, 0.5, 1.5, 200, 50, "paper-a100-table3", "sardana-all"),
    ],
)
def test_breakeven_agrees_with_bisection(loss, price_in, price_out, d_in, d_out, hardware, law):
    result = breakeven_requests(loss, price_in, price_out, d_in, d_out, hardware, law)
    root, gap = _brute_force_root(loss, price_in, price_out, d_in, d_out, hardware, law)
    assert_allclose(result.requests, root, rtol=1e-10)
    own = cost_optimal(loss, result.requests, d_in, d_out, hardware, law).optimal.total
    assert_allclose(own, result.requests * result.api_cost_per_request, rtol=1e-12)
    assert gap(0.99 * root) < 0 < gap(1.01 * root)  # the API is dearer only above
    cell = udfs.BREAKEVEN_REQUESTS(loss, price_in, price_out, d_in, d_out, hardware, law)
    assert_allclose(cell, root, rtol=1e-10)


def test_no_breakeven_is_na_never_a_number():
    law = xlplan.get_law("chinchilla")
    loss = 2.1
    result = breakeven_requests(loss, 0.002, 0.006, hardware="h100")
    assert result.requests == math.inf and not result.crosses
    # Independent check: the API undercuts the floor N_min x (inference $ per param per request).
    n_min = (law.A / (loss - law.E)) ** (1 / law.alpha)
    per_param = lifetime_cost(1.0, 1.0, 1.0, hardware="h100").inference
    assert_allclose(result.floor_cost_per_request, n_min * per_param, rtol=1e-12)
    assert result.api_cost_per_request < result.floor_cost_per_request
    for requests in np.logspace(3, 18, 16):  # and indeed the API is cheaper everywhere
        own = cost_optimal(loss, requests, hardware="h100").optimal.total
        assert requests * result.api_cost_per_request < own
    cell = udfs.BREAKEVEN_REQUESTS(loss, 0.002, 0.006, None, None, "h100")
    assert isinstance(cell, CellError) and cell.code == "#N/A"
    assert "cheaper at every volume" in cell.message
    # Just above the floor there is a (large) break-even; just below there is none.
    scale = result.floor_cost_per_request / result.api_cost_per_request
    above = breakeven_requests(loss, 0.002 * scale * 1.01, 0.006 * scale * 1.01, hardware="h100")
    below = breakeven_requests(loss, 0.002 * scale * 0.99, 0.006 * scale * 0.99, hardware="h100")
    assert math.isfinite(above.requests) and above.requests > 1e10 and below.requests == math.inf


def test_seven_setting_rows_keep_working_and_ten_are_accepted():
    seven, ten = udfs.XLPLAN_HARDWARE("h100"), udfs.XLPLAN_HARDWARE("h100", True)
    assert len(seven[0]) == 7 and len(ten[0]) == 10 and ten[0][:7] == seven[0]
    assert ten[0][7:] == [3.35e12, 80e9, 1.0]
    assert udfs.XLPLAN_HARDWARE("h100", False) == seven
    for function in (
        lambda hw: udfs.COST_OPT(2.1, 1e9, None, None, hw),
        lambda hw: udfs.LIFETIME_COST(7e9, 1e12, 1e9, None, None, hw),
        lambda hw: udfs.BREAKEVEN_REQUESTS(2.1, 0.2, 0.6, None, None, hw),
    ):
        assert function(seven) == function(ten) == function("h100")
    assert udfs.SERVING(7e9, ten, 4) == udfs.SERVING(7e9, "h100", 4)
    assert udfs.GPUS_NEEDED(7e9, 1e8, None, None, [[v] for v in ten[0]], 4) == udfs.GPUS_NEEDED(
        7e9, 1e8, None, None, "h100", 4
    )
    for cell in (udfs.SERVING(7e9, seven), udfs.GPUS_NEEDED(7e9, 1e8, None, None, seven)):
        assert cell.code == "#VALUE!"
        for words in ("ten settings", "memory bandwidth", "GPU memory", "bytes per weight"):
            assert words in cell.message


@pytest.mark.parametrize(
    "call, code, words",
    [
        (lambda: udfs.SERVING(7e9, "h100", 0), "#NUM!", ["batch=0", ">= 1"]),
        (lambda: udfs.SERVING(7e9, "h100", 2.5), "#NUM!", ["batch=2.5", "whole number"]),
        (lambda: udfs.SERVING(7e9, "h100", "two"), "#VALUE!", ["batch='two'"]),
        (lambda: udfs.SERVING(7e9, "h100", 1, 0), "#NUM!", ["bandwidth_utilisation=0", "(0, 1]"]),
        (lambda: udfs.SERVING(7e9, "h100", 1, 1.5), "#NUM!", ["bandwidth_utilisation=1.5"]),
        (lambda: udfs.SERVING(-7e9, "h100"), "#NUM!", ["params=-7e+09"]),
        (lambda: udfs.SERVING(7e9, [[1, 2, 3]]), "#VALUE!", ["hardware", "1x7 or 1x10"]),
        (
            lambda: udfs.GPUS_NEEDED(7e9, 1e9, None, None, "h100", 1, 0.5),
            "#NUM!",
            ["peak_to_average=0.5", ">= 1"],
        ),
        (lambda: udfs.GPUS_NEEDED(7e9, -1), "#NUM!", ["requests_per_month=-1"]),
        (lambda: udfs.GPUS_NEEDED(7e9, 1e9, None, None, "h100", 0.5), "#NUM!", ["batch=0.5"]),
        (lambda: udfs.BREAKEVEN_REQUESTS(2.1, 0, 0.6), "#NUM!", ["api_input_price=0", "> 0"]),
        (lambda: udfs.BREAKEVEN_REQUESTS(2.1, 0.2, -0.6), "#NUM!", ["api_output_price=-0.6"]),
        (lambda: udfs.BREAKEVEN_REQUESTS(1.5, 0.2, 0.6), "#NUM!", ["loss=1.5", "E=1.69"]),
        (lambda: udfs.XLPLAN_HARDWARE("h100", "maybe"), "#VALUE!", ["all='maybe'", "TRUE"]),
    ],
)
def test_bad_input_names_the_argument(call, code, words):
    cell = call()
    assert isinstance(cell, CellError) and cell.code == code, cell
    for word in words:
        assert word in cell.message, cell.message


def test_engine_errors():
    with pytest.raises(InvalidValueError, match="batch"):
        decode_mfu("h100", np.array([1.0, 2.5]))
    with pytest.raises(InvalidTypeError, match="ten settings"):
        gpus_needed(7e9, 1e9, hardware=Hardware(*H100.as_tuple()))
    with pytest.raises(InvalidTypeError, match="one number"):
        at_batch("h100", [1, 2])
    with pytest.raises(InvalidTypeError, match=r"exactly 7 settings .* or 10"):
        Hardware.from_settings([1.0] * 8)
    assert Hardware.from_settings(H100.as_tuple(all=True)) == H100.replace(name="custom")


def test_budget_planner_serving_block_is_the_engine():
    from pathlib import Path

    import openpyxl

    from xlplan.templates import serving_block as block

    path = Path(__file__).resolve().parent.parent / "workbooks" / "budget_planner.xlsx"
    ws = openpyxl.load_workbook(path, data_only=True)["Planner"]
    formulas = openpyxl.load_workbook(path)["Planner"]
    refs = {ws[f"A{r}"].value: f"B{r}" for r in range(1, ws.max_row + 1) if ws[f"A{r}"].value}
    results = [refs[label] for label, *_ in block.RESULTS]
    assert all(str(formulas[ref].value).startswith("=") for ref in results)
    values = [ws[ref].value for ref in results]
    params, lifetime, days = ws["B19"].value, ws["B18"].value, ws["B7"].value
    # No batch by default: serving uses the preset's decode MFU, as the plan does.
    assert [ws[refs[label]].value for label, *_ in block.INPUTS] == [None, 1, 2, 0.2, 0.6]
    hw = get_hardware("paper-a100")
    rate = throughput(params, hw)
    assert_allclose(
        [values[0]] + values[2:7],
        [
            rate.decode_mfu,
            rate.decode_tokens_per_s,
            rate.prefill_tokens_per_s,
            rate.usd_per_million_input,
            rate.usd_per_million_output,
            rate.gpus_for_weights,
        ],
        rtol=1e-12,
    )
    assert_allclose(values[1], implied_batch(hw), rtol=1e-12)
    needs = gpus_needed(params, lifetime / days * 365 / 12, hardware=hw, peak_to_average=2)
    assert_allclose(
        values[8:11], [needs.gpu_hours_per_month, needs.average, needs.peak], rtol=1e-12
    )
    assert_allclose(values[11], ws["B22"].value, rtol=1e-9)  # GPU-hours x price x months
    loss = xlplan.chinchilla_from_params(7e9).loss
    breakeven = breakeven_requests(loss, 0.20, 0.60, hardware="paper-a100")
    assert_allclose(values[12], breakeven.requests, rtol=1e-10)
    # Above break-even the plan's own lifetime cost is below the API's bill, and says so.
    assert lifetime > breakeven.requests and ws["B23"].value < values[14]
    assert values[15].startswith("build")


def _summary(tmp_path, text):
    import pandas as pd

    from xlplan.report.build import write_report

    scenario, out = tmp_path / "plan.toml", tmp_path / "report.xlsx"
    if text is None:
        scenario = None
    else:
        scenario.write_text(text)
    write_report(out, scenario, show_progress=False)
    return pd.read_excel(out, sheet_name="Summary", header=4, keep_default_na=False)


def test_report_summary_shows_dollars_per_million_output_tokens_and_gpus(tmp_path):
    frame = _summary(tmp_path, None)  # the paper's settings: paper-a100, 24 months
    params = frame["Recommended params"].to_numpy()
    requests = frame["Lifetime requests"].to_numpy()
    rate = throughput(params, "paper-a100")
    assert_allclose(frame["$ per 1M output tokens"], rate.usd_per_million_output, rtol=1e-12)
    needs = gpus_needed(params, requests / 24, hardware="paper-a100")
    assert_allclose(frame["GPUs to reserve"], needs.peak, rtol=0)


def test_report_serving_table_derives_the_decode_mfu_from_a_batch(tmp_path):
    frame = _summary(
        tmp_path,
        'hardware = "h100"\n[serving]\nmonths = 12\npeak_to_average = 2\n'
        'batch = 8\n[[scenarios]]\nname = "mine"\nloss = 2.2\nrequests = 5e9\n',
    )
    hw = at_batch("h100", 8)
    plan = cost_optimal(2.2, 5e9, hardware=hw)
    assert_allclose(frame["Lifetime cost $ (nominal)"][0], plan.optimal.total, rtol=1e-12)
    needs = gpus_needed(plan.optimal.params, 5e9 / 12, hardware=hw, peak_to_average=2)
    assert frame["GPUs to reserve"][0] == needs.peak
    # Seven settings know no memory: the GPUs column says n/a, the rest still works.
    seven = ", ".join(
        f"{k} = {v!r}" for k, v in zip(H100.setting_names(), H100.as_tuple(), strict=True)
    )
    frame = _summary(
        tmp_path, f"hardware = {{ {seven} }}\n[[scenarios]]\nloss = 2.2\nrequests = 5e9\n"
    )
    assert frame["GPUs to reserve"][0] == "n/a"
    assert_allclose(
        frame["$ per 1M output tokens"][0],
        throughput(frame["Recommended params"][0], H100).usd_per_million_output,
    )


@pytest.mark.parametrize(
    "table, words",
    [
        ("[serving]\nbatch = 0\n", "serving.batch"),
        ("[serving]\npeak_to_average = 0.5\n", "serving.peak_to_average"),
        ("[serving]\nweeks = 3\n", "serving.weeks"),
    ],
)
def test_report_serving_table_errors_name_the_key(tmp_path, table, words):
    from xlplan.engine.errors import XlplanError

    with pytest.raises(XlplanError, match=words):
        _summary(tmp_path, table + "[[scenarios]]\nloss = 2.2\nrequests = 5e9\n")
