"""The store: schema, migrations, idempotent writes, database locks.

Public names: :class:`Store`, :func:`open_store`, :mod:`models <monitor.store.models>`; the locks are in
:mod:`monitor.store.locks`.
"""

from . import models as models
from .core import Store as Store
from .core import natural_key as natural_key
from .core import open_store as open_store
from .engine import is_busy as is_busy

__all__ = ["Store", "open_store", "natural_key", "models", "is_busy"]
