from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import platewise


def test_public_names_are_exactly_the_documented_ones():
    assert set(platewise.__all__) == {
        "ALPR",
        "PlateDetector",
        "PlateReader",
        "Zone",
        "BBox",
        "Corners",
        "Detection",
        "PlateRead",
        "PlateText",
        "PlatewiseError",
        "InvalidImage",
        "InvalidInput",
        "ModelNotFound",
        "ConfigError",
        "ServerBusy",
        "StoreError",
        "__version__",
    }


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="nope"):
        platewise.nope  # noqa: B018


def test_importing_platewise_and_the_pipeline_does_not_import_torch():
    src = str(Path(platewise.__file__).resolve().parents[1])
    code = (
        f"import sys; sys.path.insert(0, {src!r});"
        "import platewise, platewise.pipeline, platewise.plates, platewise.cli; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
