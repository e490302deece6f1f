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
