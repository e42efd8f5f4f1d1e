"""industry-monitor: the platform of a city's industry bureau.

Collect the monthly enterprise survey and operating data, compute the PMI and
the monitoring indicators, adjust, forecast, publish and warn.

The public API is small; everything else lives in modules named by their job.
Analysts start with :func:`open`::

    import monitor
    store = monitor.open()                 # the store of the config (imon.toml, IMON_DATABASE_URL)
    store.series("pmi/headline")           # raw, adjusted, standard error, n by month

A stage of the monthly cycle runs as on the command line (and is recorded in the job history)::

    report = monitor.run_stage(store.store, store.settings, "compute", pd.Period("2017-03", "M"))

Importing :mod:`monitor` is cheap: every public name is loaded on first use
(module-level ``__getattr__``), so pandas, SQLAlchemy, matplotlib, statsmodels and
X-13 are imported only by the calls that need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from . import plots as plots
    from .api import AnalystStore as AnalystStore
    from .api import SeriesNotFoundError as SeriesNotFoundError
    from .api import open as open
    from .exceptions import MonitorError as MonitorError
    from .pipeline import StageReport as StageReport
    from .pipeline import run_stage as run_stage
    from .settings import Settings as Settings
    from .settings import load_settings as load_settings
    from .store import Store as Store
    from .store import open_store as open_store

__all__ = ["AnalystStore", "MonitorError", "SeriesNotFoundError", "Settings", "StageReport", "Store", "load_settings",
           "open", "open_store", "plots", "run_stage"]
__version__ = "0.1.0.dev0"

#: Public name -> (module, attribute); ``None`` as attribute means the module itself.
_LAZY: dict[str, tuple[str, str | None]] = {
    "AnalystStore": (".api", "AnalystStore"),
    "SeriesNotFoundError": (".api", "SeriesNotFoundError"),
    "open": (".api", "open"),
    "plots": (".plots", None),
    "MonitorError": (".exceptions", "MonitorError"),
    "Settings": (".settings", "Settings"),
    "StageReport": (".pipeline", "StageReport"),
    "run_stage": (".pipeline", "run_stage"),
    "load_settings": (".settings", "load_settings"),
    "Store": (".store", "Store"),
    "open_store": (".store", "open_store"),
}


def __getattr__(name: str) -> Any:
    """Load a public name on first access (PEP 562), then cache it in the module."""
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'monitor' has no attribute {name!r}") from None
    module = importlib.import_module(module_name, __name__)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
