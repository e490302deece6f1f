from __future__ import annotations

import cv2
import numpy as np
import pytest

from platewise.errors import ConfigError, InvalidImage, InvalidInput
from platewise.serving.codec import Limits, check_input, decode_input, parse_shape, tensor_from_bytes, to_json_text
from platewise.serving.config import ServeConfig, config_from_env
from platewise.serving.interface import ModelSpec

IMAGE = ModelSpec("m", "", "image", (), "uint8", "json", 8)
TENSOR = ModelSpec("t", "", "tensor", (-1, 2), "float32", "tensor", 8)
LIMITS = Limits(max_bytes=1 << 20, max_pixels=100_000)


def png(h: int, w: int) -> bytes:
    ok, enc = cv2.imencode(".png", np.zeros((h, w, 3), np.uint8))
    return enc.tobytes()


def test_raw_tensor_round_trips_without_copy():
    a = np.arange(12, dtype=np.float32).reshape(6, 2)
    out = tensor_from_bytes(a.tobytes(), [6, 2], "float32", LIMITS)
    assert np.array_equal(out, a)
    assert not out.flags.writeable


def test_tensor_byte_count_must_match_shape():
    with pytest.raises(InvalidInput, match="needs 48"):
        tensor_from_bytes(b"\0" * 47, [6, 2], "float32", LIMITS)


@pytest.mark.parametrize("dtype", ["object", "complex64", "<U4", "float128", ""])
def test_unknown_dtypes_are_refused(dtype):
    with pytest.raises(InvalidInput, match="not accepted"):
        tensor_from_bytes(b"\0" * 8, [1], dtype, LIMITS)


@pytest.mark.parametrize("shape", [[], [0, 3], [-1, 4], [1] * 7])
def test_bad_shapes_are_refused(shape):
    with pytest.raises(InvalidInput, match="shape"):
        tensor_from_bytes(b"", shape, "uint8", LIMITS)


def test_tensor_over_byte_limit_is_refused_before_reading():
    with pytest.raises(InvalidInput, match="byte limit"):
        tensor_from_bytes(b"", [10_000, 10_000, 3], "uint8", LIMITS)


def test_image_model_gets_bgr_from_gray_tensor():
    arr = tensor_from_bytes(bytes(20 * 30), [20, 30], "uint8", LIMITS)
    assert check_input(arr, IMAGE, LIMITS).shape == (20, 30, 3)


def test_image_model_refuses_float_tensor():
    arr = np.zeros((4, 4, 3), np.float32)
    with pytest.raises(InvalidImage, match="uint8"):
        check_input(arr, IMAGE, LIMITS)


def test_image_model_refuses_too_many_pixels():
    with pytest.raises(InvalidImage, match="pixel limit"):
        decode_input(spec=IMAGE, limits=LIMITS, encoded=png(400, 300))


def test_tensor_model_checks_dtype_and_shape():
    with pytest.raises(InvalidInput, match="dtype float32"):
        check_input(np.zeros((3, 2), np.float64), TENSOR, LIMITS)
    with pytest.raises(InvalidInput, match="shape"):
        check_input(np.zeros((3, 3), np.float32), TENSOR, LIMITS)
    assert check_input(np.zeros((5, 2), np.float32), TENSOR, LIMITS).shape == (5, 2)


def test_tensor_model_refuses_encoded_image():
    with pytest.raises(InvalidInput, match="raw tensor"):
        decode_input(spec=TENSOR, limits=LIMITS, encoded=png(4, 4))


@pytest.mark.parametrize("data", [b"", b"not an image at all", png(8, 8)[:40]])
def test_fake_empty_or_truncated_images_are_refused(data):
    with pytest.raises(InvalidImage):
        decode_input(spec=IMAGE, limits=LIMITS, encoded=data)


def test_decode_needs_exactly_one_input():
    with pytest.raises(InvalidInput, match="exactly one"):
        decode_input(spec=IMAGE, limits=LIMITS)


def test_parse_shape_accepts_commas_and_x():
    assert parse_shape("1080,1920,3") == parse_shape("1080x1920x3") == (1080, 1920, 3)
    with pytest.raises(InvalidInput):
        parse_shape("a,b")


def test_json_text_handles_numpy_values():
    assert to_json_text({"a": np.float32(0.5), "b": np.arange(2)}) == '{"a":0.5,"b":[0,1]}'


def test_env_vars_set_every_option_and_flags_win():
    env = {
        "PLATEWISE_MAX_BATCH": "16",
        "PLATEWISE_MODELS": "a,b",
        "PLATEWISE_ADAPTIVE": "false",
        "PLATEWISE_WORKERS": "3",
        "PLATEWISE_TOKEN": "s3cret",
    }
    cfg = config_from_env({"workers": 2}, environ=env)
    assert (cfg.max_batch, cfg.models, cfg.adaptive, cfg.workers, cfg.token) == (16, ("a", "b"), False, 2, "s3cret")
    assert "s3cret" not in repr(cfg)


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"PLATEWISE_MAX_BATCH": "0"}, "max_batch"),
        ({"PLATEWISE_MAX_QUEUE": "x"}, "max_queue"),
        ({"PLATEWISE_TLS_CERT": "a.pem"}, "tls_key"),
        ({"PLATEWISE_GRPC_PORT": "0", "PLATEWISE_HTTP_PORT": "0"}, "at least one"),
    ],
)
def test_bad_options_are_config_errors(env, match):
    with pytest.raises(ConfigError, match=match):
        config_from_env({}, environ=env)


def test_default_limit_admits_a_raw_1080p_frame():
    assert ServeConfig().max_request_bytes > 1080 * 1920 * 3 > 4 * 1024 * 1024
