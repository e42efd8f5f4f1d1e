"""industry-monitor: the platform of a city's industry bureau.

Collect the monthly enterprise survey and operating data, compute the PMI and
the monitoring indicators, adjust, forecast, publish and warn.

The public API is small; everything else lives in modules named by their job.
"""

from .exceptions import MonitorError as MonitorError
from .settings import Settings as Settings
from .settings import load_settings as load_settings
from .store import Store as Store
from .store import open_store as open_store

__all__ = ["MonitorError", "Settings", "Store", "load_settings", "open_store"]
__version__ = "0.1.0.dev0"
