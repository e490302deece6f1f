"""Python-compatible regular expressions for plate search, time-boxed.

SQLite has no REGEXP of its own: :func:`sqlite_regexp` is registered on every connection and matches with the
``regex`` package (a superset of ``re``) under a per-query deadline, so a catastrophic pattern such as
``(A|AA)+B`` stops with a clear error instead of hanging the process. PostgreSQL uses its own ``~*``
operator (an automaton, no exponential backtracking) under ``statement_timeout``.

Patterns are matched with *search* semantics (unanchored, use ``^``/``$`` to anchor) and case-insensitively
against the normalized plate text (upper case, no separators).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import regex

from platewise.errors import InvalidInput

__all__ = ["MAX_REGEX_LEN", "RegexTimeoutError", "compile_regex", "deadline", "literal_prefix", "sqlite_regexp"]

MAX_REGEX_LEN = 256
"""Longest accepted regular expression, in characters."""

_MAX_SUBJECT_LEN = 64
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
