"""Python-compatible regular expressions for plate search, time-boxed.

SQLite has no REGEXP of its own: :func:`sqlite_regexp` is registered on every connection and matches with the
``regex`` package (a superset of ``re``) under a per-query deadline, so a catastrophic pattern such as
``(A|AA)+B`` stops with a clear error instead of hanging the process. PostgreSQL uses its own ``~*``
operator (an automaton, no exponential backtracking) under ``statement_timeout``.

Patterns are matched with *search* semantics (unanchored, use ``^``/``$`` to anchor) and case-insensitively
against the normalized plate text (upper case, no separators).
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import regex

from platewise.errors import InvalidInput
from platewise.plates.alphabet import ALPHABET

__all__ = [
    "MAX_REGEX_LEN",
    "RegexTimeoutError",
    "compile_regex",
    "deadline",
    "literal_prefix",
    "required_runs",
    "sqlite_regexp",
]

MAX_REGEX_LEN = 256
"""Longest accepted regular expression, in characters."""

_MAX_SUBJECT_LEN = 64
_PLATE_CHARS = frozenset(ALPHABET)
_local = threading.local()


class RegexTimeoutError(Exception):
    """The REGEXP deadline of the current query passed."""


@lru_cache(maxsize=64)
def _compile(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)


def compile_regex(pattern: str) -> regex.Pattern[str]:
    """Validates and compiles a user regex.

    Raises:
        InvalidInput: empty, longer than :data:`MAX_REGEX_LEN`, not valid UTF-8, or not a valid regex.
    """
    if not pattern:
        raise InvalidInput("empty regular expression; give one, e.g. '^7AB.*3$'")
    if len(pattern) > MAX_REGEX_LEN:
        raise InvalidInput(f"regular expression of {len(pattern)} characters; the limit is {MAX_REGEX_LEN}")
    try:
        pattern.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("the regular expression is not valid UTF-8") from None
    if "\x00" in pattern:
        raise InvalidInput("the regular expression contains a NUL character")
    try:
        return _compile(pattern)
    except (regex.error, OverflowError, RecursionError) as e:
        raise InvalidInput(f"invalid regular expression {pattern!r}: {e}") from None


def literal_prefix(pattern: str) -> str:
    """Letters and digits every match must start with (upper case), so an index range can narrow the scan.

    Conservative: only ``^`` followed by plain letters/digits counts; a quantifier that may drop the last
    one (``? * {``) removes it, and any ``|`` in the pattern disables the prefix.

    >>> literal_prefix("^ab[0-9]{3}"), literal_prefix("^AB?C"), literal_prefix("^A|B"), literal_prefix("AB")
    ('AB', 'A', '', '')
    """
    if not pattern.startswith("^") or "|" in pattern:
        return ""
    run = []
    for c in pattern[1:]:
        if not (c.isascii() and c.isalnum()):
            break
        run.append(c.upper())
    rest = pattern[1 + len(run) :]
    if run and rest[:1] in ("?", "*", "{"):
        run.pop()
    return "".join(run)


def required_runs(pattern: str, min_len: int = 3) -> list[str]:
    """Runs of plate characters (upper case) that every match must contain, at least ``min_len`` long.

    Only plain literals at the top level of the pattern count (``'Q9Z$'`` -> ``['Q9Z']``,
    ``'^A.B12C'`` -> ``['B12C']``); anything else (classes, groups, repeats, alternation) breaks a run, so
    the answer is always a necessary condition, fed to the trigram index before the regex runs.
    """
    try:  # the parser behind re (private, but stable since 2.x; renamed in 3.11)
        sre_parse, sre_constants = importlib.import_module("re._parser"), importlib.import_module("re._constants")
    except ImportError:  # pragma: no cover - Python 3.10
        sre_parse, sre_constants = importlib.import_module("sre_parse"), importlib.import_module("sre_constants")
    try:
        items = list(sre_parse.parse(pattern))
    except Exception:  # the regex package accepts more than re: then no prefilter, never a wrong one
        return []
    runs: list[str] = []
    cur: list[str] = []
    for op, av in [*items, (None, None)]:
        ch = chr(av).upper() if op == sre_constants.LITERAL else ""
        if ch and ch in _PLATE_CHARS:
            cur.append(ch)
            continue
        if len(cur) >= min_len:
            runs.append("".join(cur))
        cur = []
    return runs


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Sets the REGEXP deadline for queries run by this thread inside the block."""
    previous = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + seconds
    _local.timed_out = False
    try:
        yield
    finally:
        _local.deadline = previous


def timed_out() -> bool:
    """True when the last query of this thread stopped on the REGEXP deadline."""
    return bool(getattr(_local, "timed_out", False))


def sqlite_regexp(pattern: str | None, value: str | None) -> bool:
    """SQLite's ``X REGEXP Y`` calls ``regexp(Y, X)``: ``pattern`` first, then the column value."""
    if pattern is None or value is None:
        return False
    if len(value) > _MAX_SUBJECT_LEN:
        value = value[:_MAX_SUBJECT_LEN]
    end = getattr(_local, "deadline", None)
    left = 1.0 if end is None else end - time.monotonic()
    if left <= 0:
        _local.timed_out = True
        raise RegexTimeoutError("regular expression deadline passed")
    try:
        return _compile(pattern).search(value, timeout=left) is not None
    except TimeoutError:
        _local.timed_out = True
        raise RegexTimeoutError("regular expression deadline passed") from None
