"""Errors of the web portal (accounts, invitations, questionnaire); each states the rule and the fix."""

from __future__ import annotations

from ..exceptions import MonitorError

__all__ = ["PortalError", "AccountError", "LoginError", "InviteError", "SubmissionConflict", "RoundClosedError"]


class PortalError(MonitorError, ValueError):
    """Base class of the portal's errors."""


class AccountError(PortalError):
    """An account cannot be created, found or changed as asked (duplicate name, unknown role, ...)."""


class LoginError(PortalError):
    """Sign-in refused: wrong name or password, locked or disabled account, bad activation code.

    ``reason`` is a catalogue key (the page shows the user's language); ``until`` the end of a lock-out.
    """

    exit_code = 1

    def __init__(self, reason: str, message: str, until: object = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.until = until


class InviteError(PortalError):
    """Invitations cannot be made for that month or district."""


class RoundClosedError(PortalError):
    """The month's round is closed or its window is over: nothing is written."""

    exit_code = 1


class SubmissionConflict(PortalError):
    """Another window submitted the same questionnaire first: nothing of this one is written."""

    exit_code = 1
