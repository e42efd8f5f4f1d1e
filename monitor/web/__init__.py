"""The web platform: accounts and roles, the enterprises' survey portal and the staff's survey operations.

``create_app(settings)`` builds the ASGI application (``imon serve`` runs it with uvicorn); the library
functions behind the pages live in :mod:`.accounts`, :mod:`.questionnaire`, :mod:`.operations` and
:mod:`.feedback`, so the CLI, the tests and the benchmark call the same code.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def create_app(*args: Any, **kwargs: Any) -> Any:
    """See :func:`monitor.web.app.create_app` (imported on first use: the CLI does not pay for Starlette)."""
    from .app import create_app as _create

    return _create(*args, **kwargs)
