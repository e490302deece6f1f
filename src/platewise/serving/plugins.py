"""Plug-in discovery: every sub-folder with an ``__init__.py`` under a models directory is one model.

Each folder is imported with importlib under a private package name, its ``Model`` class (or the one
:class:`ModelInterface` subclass it defines) is instantiated, loaded and warmed up. A folder that fails
at any step is recorded in ``broken`` with the reason; the other models still serve.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from platewise.errors import ConfigError
from platewise.serving.interface import ModelInterface

__all__ = ["BUILTIN_DIR", "Discovery", "discover", "find_plugin_dirs", "load_plugin"]

log = logging.getLogger("platewise.serving")

BUILTIN_DIR = Path(__file__).parent / "models"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


@dataclass
class Discovery:
    """Result of a scan: loaded models by name and broken plug-ins by name -> one-line reason."""

    models: dict[str, ModelInterface] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)


def find_plugin_dirs(dirs: list[Path]) -> list[Path]:
    """Plug-in folders (sub-folders with ``__init__.py``) under each of ``dirs``, sorted by name.

    Raises:
        ConfigError: a directory that does not exist.
    """
    found: list[Path] = []
    for d in dirs:
        if not d.is_dir():
            raise ConfigError(f"models directory {d} not found")
        if (d / "__init__.py").is_file() and not any((s / "__init__.py").is_file() for s in d.iterdir()):
            found.append(d)  # --models pointing at one plug-in folder
            continue
        found += sorted(p for p in d.iterdir() if p.is_dir() and (p / "__init__.py").is_file())
    return found


def _import_folder(folder: Path) -> ModuleType:
    mod_name = f"platewise_plugins.{re.sub(r'[^A-Za-z0-9_]', '_', folder.name)}_{abs(hash(str(folder))):x}"
    spec = importlib.util.spec_from_file_location(
        mod_name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - only for non-files
        raise ImportError(f"cannot import {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module  # lets the plug-in use relative imports
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(mod_name, None)
        raise
    return module


def _model_class(module: ModuleType) -> type[ModelInterface]:
    cls = getattr(module, "Model", None)
    if isinstance(cls, type) and issubclass(cls, ModelInterface):
        return cls
    own = [
        c
        for _, c in inspect.getmembers(module, inspect.isclass)
        if issubclass(c, ModelInterface) and c is not ModelInterface and c.__module__ == module.__name__
    ]
    if len(own) != 1:
        raise TypeError("define `class Model(ModelInterface)` in the plug-in's __init__.py")
    return own[0]


def load_plugin(folder: Path, threads: int, warm: bool = True) -> tuple[str, ModelInterface]:
    """Imports, instantiates, loads and (optionally) warms up one plug-in folder -> (served name, model)."""
    module = _import_folder(folder)
    cls = _model_class(module)
    name = cls.name or folder.name
    if not _NAME.match(name):
        raise ValueError(f"model name {name!r} must match {_NAME.pattern}")
    if cls.input_kind not in ("image", "tensor") or cls.output_kind not in ("json", "tensor"):
        raise ValueError("input_kind must be 'image' or 'tensor'; output_kind 'json' or 'tensor'")
    model = cls()
    model.load(threads)
    if warm:
        model.warmup()
    return name, model


def discover(dirs: list[Path], *, threads: int = 1, only: tuple[str, ...] = (), warm: bool = True) -> Discovery:
    """Loads every plug-in under ``dirs``; broken ones are logged and skipped, never fatal.

    Args:
        only: serve just these names (others are not imported); empty = all.
    """
    out = Discovery()
    for folder in find_plugin_dirs(dirs):
        if only and folder.name not in only:
            continue
        try:
            name, model = load_plugin(folder, threads, warm)
        except BaseException as e:  # noqa: BLE001 - a plug-in may raise anything, even SystemExit
            if isinstance(e, KeyboardInterrupt):
                raise
            reason = f"{type(e).__name__}: {e}".splitlines()[0][:500]
            out.broken[folder.name] = reason
            log.warning("model plug-in %s is broken and skipped: %s", folder, reason)
            log.debug("%s", traceback.format_exc())
            continue
        if name in out.models:
            out.broken[f"{folder}"] = f"duplicate model name {name!r}"
            log.warning("model plug-in %s skipped: duplicate name %r", folder, name)
            continue
        out.models[name] = model
        log.info("model %s loaded from %s", name, folder)
    return out
