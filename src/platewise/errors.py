"""The one exception tree of platewise.

    PlatewiseError
    ├── InvalidImage        bad pixels: not an image, truncated, too large, wrong dtype/shape
    ├── InvalidInput        other bad user input (a pattern, a CSV, an option), always with a hint
    ├── ModelNotFound       no such model file / plug-in / registry name
    ├── ConfigError         a config file or a --key=value override that does not fit
    ├── ServerBusy          a queue is full: retry later (HTTP 503 / gRPC RESOURCE_EXHAUSTED)
    ├── StoreError          the reads database failed or went away
    └── MissingExtra        a command needs an optional extra, e.g. ``pip install 'platewise[train]'``

``InvalidImage``, ``InvalidInput`` and ``ConfigError`` are also ``ValueError`` so that
callers who catch ``ValueError`` for bad input keep working.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "InvalidImage",
    "InvalidInput",
    "MissingExtra",
    "ModelNotFound",
    "PlatewiseError",
    "ServerBusy",
    "StoreError",
]


class PlatewiseError(Exception):
    """Base of every error platewise raises on purpose."""


class InvalidImage(PlatewiseError, ValueError):
    """An image that cannot be used: not decodable, empty, too large, wrong dtype or channels."""


class InvalidInput(PlatewiseError, ValueError):
    """Bad user input other than pixels; the message says what to do."""


class ModelNotFound(PlatewiseError, LookupError):
    """A model (file, plug-in folder or registry name) that does not exist."""


class ConfigError(PlatewiseError, ValueError):
    """A config file or override that does not fit the config's fields and types."""


class ServerBusy(PlatewiseError):
    """A bounded queue is full; the caller should retry after ``retry_after`` seconds."""

    def __init__(self, message: str = "server busy, retry later", retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreError(PlatewiseError):
    """The reads store failed (database unreachable, bad URL, schema mismatch)."""


class MissingExtra(PlatewiseError, ImportError):
    """An optional dependency group is not installed."""

    def __init__(self, extra: str, what: str) -> None:
        super().__init__(f"{what} needs the [{extra}] extra: pip install 'platewise[{extra}]'")
        self.extra = extra
