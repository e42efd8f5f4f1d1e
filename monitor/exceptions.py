"""Exceptions and warnings of the :mod:`monitor` package.

Policy (after statsmodels' ``sm_exceptions``): a custom exception exists only
where a built-in does not describe the problem, and each one also inherits the
built-in a caller would naturally catch.  Every message states the rule that was
broken, echoes the offending input and names the fix.  The command line turns
:class:`MonitorError` into one line on stderr and an exit status
(:attr:`MonitorError.exit_code`).

All warnings of the package derive from :class:`MonitorWarning`, so a caller can
filter them in one go with ``warnings.simplefilter("ignore", MonitorWarning)``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "MonitorError",
    "ConfigError",
    "StoreError",
    "StoreUnreachableError",
    "StoreRevisionError",
    "StoreBusyError",
    "InputPathError",
    "LockBusy",
    "PeriodError",
    "DemoError",
    "PublishError",
    "PublicationFinalError",
    "ReleaseTimeError",
    "SchedulerLockedError",
    "MonitorWarning",
]


class MonitorError(Exception):
    """Base class of every error raised on purpose by :mod:`monitor`.

    Attributes
    ----------
    exit_code : int
        Exit status the command line uses for this error: 2 for usage and
        configuration errors (the default), 1 for work that ran but failed.
    """

    exit_code: int = 2


class ConfigError(MonitorError, ValueError):
    """A configuration file, environment variable or option is invalid."""


class StoreError(MonitorError, RuntimeError):
    """The store cannot be opened, migrated or written."""


class StoreUnreachableError(StoreError, ConnectionError):
    """The database named by ``store.url`` cannot be reached."""


class StoreRevisionError(StoreError):
    """The store's schema revision is not the one this code expects."""


class StoreBusyError(StoreError):
    """Another process holds the store's write lock longer than this one would wait; try again later.

    Exit status 75 (``EX_TEMPFAIL``): the command did nothing and can simply be run again.
    """

    exit_code = 75


class InputPathError(MonitorError, FileNotFoundError):
    """A file or folder named on the command line does not exist, cannot be read, or is not a regular file."""


class LockBusy(StoreError):
    """A database lock (:mod:`monitor.store.locks`) is held by another live owner.

    Attributes
    ----------
    name : str
        The lock's name.
    holder : dict
        The holder's ``scheduler_lock`` row (``owner``, ``acquired_at``, ``heartbeat_at``, ``expires_at``).
    """

    exit_code = 1

    def __init__(self, message: str, *, name: str = "", holder: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.holder: dict[str, Any] = dict(holder or {})


class PeriodError(MonitorError, ValueError):
    """A period (month, quarter, year) is malformed or outside the data."""


class DemoError(MonitorError, ValueError):
    """The demo generator was asked for something it cannot build."""


class PublishError(MonitorError, ValueError):
    """A publication cannot be built as asked (unknown kind, no data for the period, missing library)."""


class PublicationFinalError(PublishError):
    """A final publication cannot be changed: a correction is a new edition (``--correct "note"``)."""


class ReleaseTimeError(PublishError):
    """A publication was made final before its configured release time."""


class SchedulerLockedError(LockBusy):
    """Another scheduler already runs on the store (only one may; see :mod:`monitor.scheduling`)."""


class MonitorWarning(UserWarning):
    """Base class of every warning issued by :mod:`monitor`."""
