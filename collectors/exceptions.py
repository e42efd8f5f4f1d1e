"""Exceptions of the :mod:`collectors` package.

Collectors never touch the database; they raise :class:`CollectorError` for a
source that cannot be read at all (wrong format, unreadable file) and report
row-level problems as rejects instead of raising.
"""

from __future__ import annotations

__all__ = ["CollectorError", "InvalidCodeError"]


class CollectorError(Exception):
    """A source cannot be read; the message names the source and the fix."""


class InvalidCodeError(CollectorError, ValueError):
    """An identifier (e.g. a unified social credit code) fails its check."""
