"""Read the outside world: validated pandas frames, rejects and provenance; never the database.

The collectors of each source layout are registered in :mod:`collectors.registry`: :func:`identify` tells a
file's kind from its first bytes, :func:`get` returns a kind's :class:`Collector` (its ``sniff`` test and its
``read`` or ``stream`` function).  They load on first use, so ``import collectors`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .exceptions import CollectorError as CollectorError
from .uscc import is_valid_uscc as is_valid_uscc
from .uscc import validate_uscc as validate_uscc

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .registry import COLLECTORS as COLLECTORS
    from .registry import Collector as Collector
    from .registry import get as get
    from .registry import identify as identify

__all__ = ["COLLECTORS", "Collector", "CollectorError", "get", "identify", "is_valid_uscc", "validate_uscc"]

_REGISTRY = ("COLLECTORS", "Collector", "get", "identify")


def __getattr__(name: str) -> Any:
    if name in _REGISTRY:
        value = getattr(importlib.import_module(".registry", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
