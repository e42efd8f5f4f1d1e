"""The local engine: a process pool on this machine (or this process for one worker)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any

from .base import OnError, Progress, _fail, batches, run_batch

__all__ = ["LocalEngine"]


class LocalEngine:
    """``workers`` processes of a :class:`~concurrent.futures.ProcessPoolExecutor`, started per :meth:`map`.

    A worker process that dies (``BrokenProcessPool``) fails the items it held and the queued ones through
    ``on_error``, as the adjust stage always did; the items already done are kept.
    """

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        self._workers = max(1, int(workers))

    @property
    def workers(self) -> int:
        """The pool's processes."""
        return self._workers

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], *, on_error: OnError | None = None,
            progress: Progress | None = None, batch: int | None = None) -> list[Any]:
        """``fn`` over ``items`` in the pool; results in item order (module docstring of :mod:`monitor.engine`)."""
        items = list(items)
        if self.workers <= 1 or len(items) <= 1:
            out = []
            for item in items:
                (result,) = run_batch(fn, [item], on_error)
                out.append(result)
                if progress:
                    progress(result)
            return out
        size = batch or max(1, len(items) // (8 * self.workers))
        parts = batches(items, size)
        results: list[list[Any] | None] = [None] * len(parts)
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            futures: dict[Future[list[Any]], int] = {pool.submit(run_batch, fn, part, on_error): i
                                                     for i, part in enumerate(parts)}
            for future in as_completed(futures):
                i = futures[future]
                try:
                    got = future.result()
                except Exception as exc:  # a dead worker, an unpicklable item: this batch's items only
                    got = [_fail(item, exc, on_error) for item in parts[i]]
                results[i] = got
                if progress:
                    for result in got:
                        progress(result)
        return [r for part in results for r in (part or [])]

    def close(self) -> None:
        """Nothing to release: each :meth:`map` has its own pool."""
