"""Times and durations as people type them: ISO 8601, ``1h``, ``2d``, ``yesterday``. Everything is UTC."""

from __future__ import annotations

import datetime as dt
import re

from platewise.errors import InvalidInput

__all__ = ["parse_duration", "parse_time"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION_RE = re.compile(r"^(?:\d{1,9}(?:\.\d{1,6})?[smhdw])+$")
_PART_RE = re.compile(r"(\d{1,9}(?:\.\d{1,6})?)([smhdw])")
_MAX_DURATION = dt.timedelta(days=365 * 200)


def parse_duration(value: str) -> dt.timedelta:
    """``30s``, ``15m``, ``1h``, ``2d``, ``1w`` or combinations such as ``1h30m``.

    Raises:
        InvalidInput: anything else, zero, or more than 200 years.
    """
    v = value.strip().lower().replace(" ", "")
    if len(v) > 64 or not _DURATION_RE.match(v):
        raise InvalidInput(f"cannot read duration {value[:64]!r}; use e.g. 30s, 15m, 1h, 2d, 1w or 1h30m")
    seconds = sum(float(n) * _UNITS[u] for n, u in _PART_RE.findall(v))
    out = dt.timedelta(seconds=seconds)
    if out <= dt.timedelta(0) or out > _MAX_DURATION:
        raise InvalidInput(f"duration {value!r} must be positive and at most 200 years")
    return out


def parse_time(value: str | dt.datetime, *, now: dt.datetime | None = None) -> dt.datetime:
    """An aware UTC datetime from an ISO time, a relative time or a name.

    Accepted: ``2026-11-21``, ``2026-11-21T10:00``, ``2026-11-21 10:00:00+02:00``, ``...Z`` (a time without
    an offset is UTC); ``1h``, ``2d``, ``1h30m`` (that long before now, also ``-1h`` or ``1h ago``); ``now``,
    ``today`` (00:00 UTC today), ``yesterday`` (00:00 UTC yesterday).

    Raises:
        InvalidInput: anything else.
    """
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise InvalidInput("naive datetime: give an aware datetime, e.g. datetime.now(timezone.utc)")
        return value.astimezone(dt.timezone.utc)
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput(f"cannot read time {str(value)[:64]!r}")
    v = value.strip().lower()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    named = {"now": now, "today": midnight, "yesterday": midnight - dt.timedelta(days=1)}
    if v in named:
        return named[v]
    rel = v.removeprefix("-").removesuffix("ago").strip().replace(" ", "")
    if rel and _DURATION_RE.match(rel):
        return now - parse_duration(rel)
    try:
        t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"cannot read time {value!r}; use ISO 8601 (2026-11-21T10:00Z), a duration ago (1h, 2d) "
            "or now/today/yesterday"
        ) from None
    return t.replace(tzinfo=dt.timezone.utc) if t.tzinfo is None else t.astimezone(dt.timezone.utc)
