from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from platewise.errors import ConfigError
from platewise.serving.interface import ModelInterface
from platewise.serving.plugins import BUILTIN_DIR, discover, find_plugin_dirs

PLUGINS = Path(__file__).parent / "plugins"


def test_discover_loads_good_plugins_and_reports_broken_ones():
    found = discover([PLUGINS])
    assert set(found.models) == {"echo", "sleepy", "twice", "crashy", "whoami", "plates"}
    assert set(found.broken) == {"broken_import", "broken_load", "no_model_class"}
    assert "a_module_that_does_not_exist" in found.broken["broken_import"]
    assert "weights.onnx not found" in found.broken["broken_load"]
    assert "class Model(ModelInterface)" in found.broken["no_model_class"]


def test_discover_uses_class_name_attribute_over_folder_name():
    found = discover([PLUGINS], only=("double",))
    assert list(found.models) == ["twice"]
    assert found.models["twice"].run(np.ones((3, 2), np.float32), {}).tolist() == [[2, 2]] * 3


def test_discover_only_filters_by_folder_name():
    found = discover([PLUGINS], only=("echo",))
    assert list(found.models) == ["echo"]
    assert not found.broken


def test_missing_models_directory_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        find_plugin_dirs([tmp_path / "nope"])


def test_models_dir_may_point_at_one_plugin_folder():
    assert find_plugin_dirs([PLUGINS / "echo"]) == [PLUGINS / "echo"]


def test_default_run_batch_loops_over_run():
    class M(ModelInterface):
        def run(self, input, args):
            return int(input.sum()) + int(args.get("add", 0))

    assert M().run_batch([np.ones(2), np.ones(3)], [{}, {"add": "1"}]) == [2, 4]


def test_model_without_run_raises_not_implemented():
    with pytest.raises(NotImplementedError):
        ModelInterface().run(np.zeros(1), {})


def test_builtin_flow_plugin_returns_float32_hxwx2():
    found = discover([BUILTIN_DIR], only=("flow",))
    img = np.zeros((20, 30, 3), np.uint8)
    img[:, 15:] = 255
    out = found.models["flow"].run(img, {})
    assert out.shape == (20, 30, 2)
    assert out.dtype == np.float32
    assert out[10, 15, 0] > 0
    assert abs(out[10, 15, 1]) < 1e-6


def test_spec_caps_max_batch_by_model_setting():
    class M(ModelInterface):
        max_batch = 2

    assert M().spec("m", server_max_batch=8).max_batch == 2
    assert ModelInterface().spec("m", server_max_batch=8).max_batch == 8
