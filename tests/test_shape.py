"""Model shapes: published parameter counts, KV bytes per token, the default rule."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from xlplan.engine.deploy.shape import (
    ASPECT_RATIO,
    SHAPE_PRESETS,
    ModelShape,
    check_params,
    get_shape,
    kv_bytes_for_params,
    model_kv_bytes,
    model_shape,
    rule_layers,
    shape_for_params,
)
from xlplan.engine.errors import InvalidTypeError, InvalidValueError


def test_kv_bytes_on_published_shapes():
    # Llama-3-70B: 2 x 80 layers x 8 KV heads x 128 x 2 bytes (the figure)
    assert SHAPE_PRESETS["llama-3-70b"].kv_bytes_per_token(2.0) == 327_680
    # Llama-3-8B and Mistral-7B: 2 x 32 x 8 x 128 x 2 = 128 KiB per token at 16 bits
    assert SHAPE_PRESETS["llama-3-8b"].kv_bytes_per_token(2.0) == 131_072
    assert SHAPE_PRESETS["mistral-7b"].kv_bytes_per_token(2.0) == 131_072
    # fp8 cache halves it; MPT-6B (multi-head, 32 x 32 x 128) at 16 bits: 512 KiB
    assert SHAPE_PRESETS["llama-3-70b"].kv_bytes_per_token(1.0) == 163_840
    assert SHAPE_PRESETS["mpt-6b"].kv_bytes_per_token(2.0) == 524_288


@pytest.mark.parametrize(
    "name, tolerance", [("llama-3-8b", 1e-3), ("llama-3-70b", 1e-3), ("mistral-7b", 1e-3)]
)
def test_parameter_count_matches_the_published_one(name, tolerance):
    shape = SHAPE_PRESETS[name]
    assert abs(check_params(shape, shape.published_params, tolerance)) < tolerance


def test_llama_3_8b_count_by_hand():
    d, layers, vocab = 4096, 32, 128256
    attention = d * d * 2 + 2 * d * 1024
    ffn = 3 * d * 14336
    expected = layers * (attention + ffn + 2 * d) + d + 2 * vocab * d
    assert SHAPE_PRESETS["llama-3-8b"].params == expected == 8_030_261_248


def test_mpt_presets_follow_table_4():
    # Table 4 (d_model, heads, layers); its Params column is not reproduced exactly by
    # the MPT layout (4x FFN, tied 50,368-token embeddings): within 20%, 18% at 150M.
    table4 = {
        "mpt-150m": (768, 12, 12),
        "mpt-370m": (1024, 16, 24),
        "mpt-750m": (1536, 12, 24),
        "mpt-1.3b": (2048, 16, 24),
        "mpt-2.5b": (2560, 20, 32),
        "mpt-6b": (4096, 32, 32),
    }
    for name, (d, heads, layers) in table4.items():
        shape = SHAPE_PRESETS[name]
        assert (shape.d_model, shape.heads, shape.layers) == (d, heads, layers)
        assert abs(check_params(shape, shape.published_params, 0.2)) < 0.2


def test_rule_inverts_its_parameter_count():
    n = np.logspace(6, 13, 57)
    layers = rule_layers(n)
    d = ASPECT_RATIO * layers
    counted = layers * (12.5 * d * d + 2 * d * np.minimum(1024, d))
    assert_allclose(counted, n, rtol=1e-13)
    assert_allclose(layers, [rule_layers(float(x)) for x in n], rtol=1e-14)
    assert isinstance(rule_layers(7e9), float)


def test_rule_matches_llama_3_8b_blocks():
    blocks = SHAPE_PRESETS["llama-3-8b"].params - 2 * 128256 * 4096 - 4096
    shape = shape_for_params(blocks)
    assert (shape.layers, shape.d_model, shape.heads, shape.kv_heads, shape.ffn_dim) == (
        32,
        4096,
        32,
        8,
        14336,
    )
    assert_allclose(kv_bytes_for_params(blocks, 2.0), 131_072, rtol=2e-3)


@pytest.mark.parametrize("n", [3e7, 1e9, 7e9, 7e10, 1e12])
def test_rounded_shape_is_within_a_few_percent_of_n(n):
    assert abs(check_params(shape_for_params(n), n, 0.05)) < 0.05


def test_errors_name_the_argument():
    with pytest.raises(InvalidValueError, match="kv_heads=5 must divide heads=32"):
        ModelShape("x", 2, 4096, 32, 5, 128, 1024, 0)
    with pytest.raises(InvalidTypeError, match="unknown model shape 'gpt-9'"):
        get_shape("gpt-9")
    with pytest.raises(
        InvalidValueError,
        match=r"8.03e\+09 parameters, \+703.0% from params=1e\+09: must be "
        "within 10%",
    ):
        check_params("llama-3-8b", 1e9)
    with pytest.raises(InvalidValueError, match="bytes_per_element=0"):
        SHAPE_PRESETS["llama-3-8b"].kv_bytes_per_token(0)
    assert math.isclose(kv_bytes_for_params(7e9, 1.0) * 2, kv_bytes_for_params(7e9, 2.0))


def test_a_model_is_a_preset_or_a_parameter_count():
    assert model_shape("Mistral-7B") is SHAPE_PRESETS["mistral-7b"]
    assert model_shape(7e9) == shape_for_params(7e9)
    assert model_kv_bytes("llama-3-70b", 2.0) == 327_680
    # default: the hardware's bytes per weight (paper-a100: int8), 16 bits without it
    assert model_kv_bytes("llama-3-70b") == 163_840
    seven = [2, 1e15, 0.5, 2, 1e15, 0.5, 0.01]
    assert model_kv_bytes(7e9, None, seven) == kv_bytes_for_params(7e9, 2.0)
    with pytest.raises(InvalidTypeError, match="unknown model shape 'gpt-9'") as caught:
        model_shape("gpt-9")
    assert caught.value.argument == "model"
    with pytest.raises(InvalidTypeError, match="must be a number"):
        model_shape([7e9, 8e9])
