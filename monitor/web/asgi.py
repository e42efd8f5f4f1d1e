"""The ASGI entry point for servers started outside ``imon serve`` (uvicorn or gunicorn workers):
``uvicorn --factory monitor.web.asgi:app_factory``.  Settings come from ``IMON_CONFIG`` and the environment,
read when a worker starts (never at import)."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["app_factory"]


def app_factory() -> Any:
    """Build the portal on the configured store."""
    from ..settings import load_settings
    from .app import create_app

    return create_app(load_settings(os.environ.get("IMON_CONFIG") or None))
