"""Excel functions of deployment: the engine's numbers, and errors as cell values."""

import pytest
from numpy.testing import assert_allclose

from xlplan import udfs
from xlplan.engine.deploy import kv_sizing, kvcache, latency, training
from xlplan.engine.deploy.shape import SHAPE_PRESETS, kv_bytes_for_params, shape_for_params
from xlplan.excel.cell_error import CellError


def test_model_shape_and_kv_bytes():
    assert udfs.MODEL_SHAPE("Llama-3-70B") == [
        [80.0, 8192.0, 64.0, 8.0, 128.0, 28672.0, 128256.0, 70_553_706_496.0]
    ]
    rule = shape_for_params(7e9)
    assert udfs.MODEL_SHAPE("7e9") == [[float(v) for v in rule.as_tuple()]]
    assert udfs.KV_BYTES("llama-3-70b", 2) == 327_680
    # default: the hardware's inference precision (paper-a100 int8, h100 fp8: 1 byte)
    assert udfs.KV_BYTES("llama-3-70b") == 163_840
    assert udfs.KV_BYTES(7e9, None, "h100") == kv_bytes_for_params(7e9, 1.0)
    assert udfs.KV_BYTES("mistral-7b", None, [2, 1e15, 0.5, 2, 1e15, 0.5, 0.01]) == 131_072


def test_serving_and_largest_batch_are_the_engines():
    s = kvcache.kv_serving(7e9, "h100", 32, 4096)
    assert udfs.SERVING_KV(7e9, 4096, "h100", 32) == [
        [
            s.decode_mfu,
            s.decode_tokens_per_s,
            s.usd_per_million_input,
            s.usd_per_million_output,
            s.gpus_per_copy,
            s.tpot,
            s.ttft,
            s.kv_cache_bytes,
        ]
    ]
    plan = latency.max_batch(7e9, "h100", 4096, 0.01, 0.5, gpus=2)
    row = udfs.MAX_BATCH(7e9, 4096, 0.01, 0.5, "h100", None, None, 2)[0]
    assert row[0] == plan.batch and row[5] == 2 and row[6] == plan.serving.tpot <= 0.01
    # the batch that MAX_BATCH finds meets the same targets in SERVING_KV
    again = udfs.SERVING_KV(7e9, 4096, "h100", row[0], 0.01, 0.5, None, None, 2)
    assert again[0][5] == row[6]


def test_cost_opt_kv_is_the_engines_and_context_zero_is_cost_opt():
    plan = kv_sizing.kv_cost_optimal(2.05, 3.51e11, hardware="h100", batch=32, context=4096)
    assert udfs.COST_OPT_KV(2.05, 3.51e11, 4096, None, None, "h100", 32) == [
        [plan.optimal.params, plan.optimal.tokens]
    ]
    batch32 = udfs.XLPLAN_HARDWARE("h100", True)
    batch32[0][6] = udfs.SERVING(7e9, "h100", 32)[0][0]  # decode MFU of the roofline at 32
    assert udfs.COST_OPT_KV(2.05, 3.51e11, 0, None, None, "h100", 32) == udfs.COST_OPT(
        2.05, 3.51e11, None, None, batch32
    )


def test_training_functions():
    plan = training.training_time(70e9, 1.4e12, 1024, "h100")
    assert udfs.TRAINING_TIME(70e9, 1.4e12, 1024, "h100") == [
        [plan.days, plan.gpu_hours, plan.dollars]
    ]
    gpus, days, dollars = udfs.TRAINING_GPUS(70e9, 1.4e12, 30, "h100")[0]
    assert (gpus, dollars) == (459.0, plan.dollars) and days <= 30
    assert_allclose(days * gpus, plan.days * 1024, rtol=1e-14)


@pytest.mark.parametrize(
    "call, code, text",
    [
        (lambda: udfs.MODEL_SHAPE("gpt-9"), "#VALUE!", "unknown model shape 'gpt-9'"),
        (lambda: udfs.KV_BYTES("llama-3-8b", 0), "#NUM!", "bytes_per_element=0"),
        (
            lambda: udfs.SERVING_KV(7e9, 4096, "h100", 32, 0.001),
            "#NUM!",
            "tpot_target=0.001 s is not met at this batch: it takes 0.004656 s",
        ),
        (
            lambda: udfs.SERVING_KV(7e9, 4096, "paper-a100-table3", 1, None, None, None, None, 0),
            "#NUM!",
            "gpus=0",
        ),
        (
            lambda: udfs.SERVING_KV(7e9, 100, [2, 1e15, 0.5, 2, 1e15, 0.5, 0.01]),
            "#VALUE!",
            "SERVING_KV needs the hardware's ten settings",
        ),
        (
            lambda: udfs.MAX_BATCH(7e9, 4096, 0.001, None, "h100"),
            "#NUM!",
            "tpot_target=0.001 s cannot be met: the best achievable is 0.00217 s",
        ),
        (lambda: udfs.MAX_BATCH(7e9, 0), "#NUM!", "unbounded"),
        (lambda: udfs.TRAINING_TIME(7e9, 1e12, -4), "#NUM!", "gpus=-4"),
        (lambda: udfs.COST_OPT_KV(1.5, 1e9, 4096), "#NUM!", "loss=1.5"),
        (lambda: udfs.COST_OPT_KV(2.0, 1e9, 4096, None, None, "h100", 0.5), "#NUM!", "batch=0.5"),
        (lambda: udfs.TRAINING_GPUS(7e9, 1e12, "soon"), "#VALUE!", "days='soon'"),
    ],
)
def test_errors_are_cell_values(call, code, text):
    result = call()
    assert isinstance(result, CellError) and result.code == code and text in result.message


def test_a_cell_names_every_bad_argument():
    cell = udfs.SERVING_KV(-1, -5, "h100", 0.5, None, None, 0, -1, 0)
    assert cell.code == "#NUM!"
    for text in (
        "params=-1",
        "context=-5",
        "batch=0.5",
        "input_tokens=0",
        "kv_bytes_per_token=-1",
        "gpus=0",
    ):
        assert text in cell.message
    cell = udfs.COST_OPT_KV(1.5, -1, -3, None, None, "no-such-gpu", 0)
    for text in ("loss=1.5", "requests=-1", "context=-3", "batch=0", "no-such-gpu"):
        assert text in cell.message
    cell = udfs.TRAINING_GPUS(-1, 0, 0)
    assert all(t in cell.message for t in ("params=-1", "tokens=0", "days=0"))


def test_published_presets_are_reachable_by_name():
    for name, shape in SHAPE_PRESETS.items():
        assert udfs.MODEL_SHAPE(name)[0][-1] == shape.params
