from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from platewise.config import load_config, parse_overrides
from platewise.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    depth: int = 2
    name: str = "x"


@dataclass(frozen=True)
class Cfg:
    lr: float = 1e-3
    steps: int = 10
    amp: bool = False
    size: tuple[int, int] = (32, 128)
    inner: Inner = field(default_factory=Inner)


def test_load_config_reads_toml_and_applies_typed_overrides(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('lr = 0.01\nsize = [48, 192]\n[inner]\nname = "y"\n')
    cfg = load_config(Cfg, p, ["--steps=5", "--inner.depth=4", "--amp=true"])
    assert cfg == Cfg(lr=0.01, steps=5, amp=True, size=(48, 192), inner=Inner(depth=4, name="y"))


def test_unknown_keys_and_wrong_types_raise_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key"):
        load_config(Cfg, None, ["--nope=1"])
    with pytest.raises(ConfigError, match="expected int"):
        load_config(Cfg, None, ["--steps=abc"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(Cfg, tmp_path / "missing.toml")


def test_parse_overrides_rejects_arguments_without_equals():
    with pytest.raises(ConfigError, match="--key=value"):
        parse_overrides(["--lr"])
