"""The Dask engine: batches of items on the workers of a Dask cluster (``dask.address``) or of a local cluster
started on demand.

Each batch is one task (:func:`monitor.engine.run_batch` on the worker, so one item failing is isolated inside
its batch).  Tasks are submitted with ``retries``: a task whose worker is lost mid-run is given to another
worker by the scheduler (up to ``distributed.scheduler.allowed-failures`` times, then ``KilledWorker``, which
fails that batch's items through ``on_error``).  Results are gathered on the client, in item order; the
callers write them to the store from there, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from ..exceptions import ConfigError
from ..settings import Settings
from .base import OnError, Progress, _fail, batches, run_batch

__all__ = ["DaskEngine", "connect"]

log = logging.getLogger(__name__)


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:  # pragma: no cover - the extra is part of the test install
        raise ConfigError("compute.engine = dask needs Dask: pip install 'industry-monitor[dask]' "
                          "(dask[dataframe,distributed] and pyarrow), or set compute.engine = local") from None
    return distributed


def connect(address: str = "", *, workers: int = 2) -> tuple[Any, Any | None]:
    """A ``distributed.Client`` on ``address``, or on a new local cluster of ``workers`` processes (one thread
    each) when ``address`` is empty; returns ``(client, cluster or None)``."""
    distributed = _distributed()
    if address:
        try:
            return distributed.Client(address, timeout="30s"), None
        except OSError as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at dask.address = {address!r} ({exc}); start it "
                              "(dask scheduler, or the cluster's jobqueue / Kubernetes deployment) or leave "
                              "dask.address empty for a local cluster") from None
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    return distributed.Client(cluster), cluster


class DaskEngine:
    """Batches on a Dask cluster.

    Parameters
    ----------
    client
        A ``distributed.Client`` (the engine does not close a client it was given, unless ``own`` is true).
    batch
        Items per task.
    retries
        Extra attempts of a task that raised (on top of the scheduler's rescheduling of a lost worker's tasks).
    cluster
        A cluster the engine started and closes with itself.
    """

    name = "dask"

    def __init__(self, client: Any, *, batch: int = 8, retries: int = 2, cluster: Any | None = None,
                 own: bool = False) -> None:
        self.client = client
        self.batch = max(1, int(batch))
        self.retries = retries
        self._cluster = cluster
        self._own = own or cluster is not None

    @classmethod
    def from_settings(cls, settings: Settings) -> DaskEngine:
        """Connect to ``dask.address`` (or start a local cluster of ``dask.workers``), batches of ``dask.batch``."""
        client, cluster = connect(settings["dask.address"], workers=settings["dask.workers"])
        return cls(client, batch=settings["dask.batch"], cluster=cluster, own=True)

    @property
    def workers(self) -> int:
        """Workers the scheduler knows now."""
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], *, on_error: OnError | None = None,
            progress: Progress | None = None, batch: int | None = None) -> list[Any]:
        """``fn`` over ``items`` on the cluster; results in item order (module docstring)."""
        distributed = _distributed()
        items = list(items)
        if not items:
            return []
        parts = batches(items, batch or self.batch)
        futures = [self.client.submit(run_batch, fn, part, on_error, pure=False, retries=self.retries)
                   for part in parts]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[list[Any] | None] = [None] * len(parts)
        for future in distributed.as_completed(futures):
            i = index[future.key]
            try:
                got = future.result()
            except Exception as exc:  # KilledWorker after too many lost workers, a task that kept raising
                log.warning("dask batch %d of %d failed: %s", i + 1, len(parts), exc)
                got = [_fail(item, exc, on_error) for item in parts[i]]
            results[i] = got
            future.release()
            if progress:
                for result in got:
                    progress(result)
        return [r for part in results for r in (part or [])]

    def close(self) -> None:
        """Close the client and the local cluster this engine started."""
        if self._own:
            self.client.close()
            if self._cluster is not None:
                self._cluster.close()
