"""Where the heavy work runs: this machine's process pool or a Dask cluster, behind one interface.

An :class:`Engine` maps a function over items, in batches, with per-item failure isolation: an item whose
function raises (or whose worker dies beyond recovery) gets ``on_error(item, exc)`` in its place and the
others go on.  Results come back in the order of the items.  Nothing is written by an engine: the stages
gather the results and write them to the store from the calling process, so a task that is run again (a
worker lost mid-run and its tasks retried elsewhere) can never write twice.

* :class:`~monitor.engine.local.LocalEngine` -- a :class:`concurrent.futures.ProcessPoolExecutor` of
  ``workers`` processes (in this process for one worker or one item), as the adjust and forecast stages have
  always run;
* :class:`~monitor.engine.dask.DaskEngine` -- the workers of a Dask cluster (``dask.address``, or a local
  cluster started on demand and closed with the engine), batches of ``dask.batch`` items per task.

:func:`open_engine` picks one from ``compute.engine``; the stage API (:mod:`monitor.pipeline`) opens it for the
stages that use it (adjust, forecast, compute's electricity) and the rest of the code does not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..settings import Settings
from .base import Engine, ItemError, OnError, Progress, batches, run_batch

__all__ = ["Engine", "ItemError", "OnError", "Progress", "batches", "open_engine", "run_batch"]


@contextmanager
def open_engine(settings: Settings, *, workers: int | None = None) -> Iterator[Engine]:
    """The engine of ``compute.engine`` for one run, closed afterwards.

    Parameters
    ----------
    settings
        ``compute.engine``; for ``dask`` also ``dask.address``, ``dask.workers``, ``dask.batch``.
    workers
        Processes of the local engine (the stage's own setting, e.g. ``adjust.processes``); default
        ``dask.workers``.  A Dask engine uses the cluster's workers.
    """
    engine: Engine
    if settings["compute.engine"] == "dask":
        from .dask import DaskEngine

        engine = DaskEngine.from_settings(settings)
    else:
        from .local import LocalEngine

        engine = LocalEngine(settings["dask.workers"] if workers is None else workers)
    try:
        yield engine
    finally:
        engine.close()
