from __future__ import annotations

from pathlib import Path

import pytest

from platewise.data.sources import default_data_root

DATA = default_data_root()


@pytest.fixture(scope="session")
def data_root() -> Path:
    """../shared/data; tests that use it skip when it is absent."""
    if not (DATA / "README.md").is_file():
        pytest.skip(f"real data not found at {DATA} (set PLATEWISE_DATA)")
    return DATA


SRC = Path(__file__).resolve().parents[1] / "src"


def _run_cli(*args: str, input: bytes | None = None, timeout: float = 120):
    """Runs ``python -m platewise ARGS`` in a subprocess (src on the path); returns the CompletedProcess."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "platewise", *args], input=input, capture_output=True, env=env, timeout=timeout
    )


@pytest.fixture
def run_cli():
    """``run_cli("read", "x.jpg")`` runs the CLI in a subprocess and returns the CompletedProcess (bytes)."""
    return _run_cli
