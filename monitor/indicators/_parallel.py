"""Month batches of the survey index engine over a local process pool.

Every month's estimates depend only on that month and the month before it (the change), so the months to
compute can be cut into contiguous batches, each computed by :func:`monitor.indicators.survey` on its own and
the tidy frames put back together in month order.  Each batch sums exactly the same numbers in the same order
as the whole run (sums over the firms of a month run in firm order, sums over atoms in atom order), so the result
is the single-process one to the last bit (``tests/test_indicators_parallel.py``).

The frames are handed to the workers without a copy where the platform forks (Linux): they are put in
:data:`_SHARED` before the pool starts and the forked workers read them from there; elsewhere they are pickled.
:func:`month_batches` and :func:`map_batches` are also the two halves a distributed engine needs: the batches are
plain ``(function, keyword arguments)`` pairs.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MIN_ROWS_PER_WORKER", "default_workers", "map_batches", "month_batches"]

#: Fewer answers than this per worker: one process (a pool's start-up would cost more than it saves).
MIN_ROWS_PER_WORKER = 1_000_000

#: Frames shared with forked workers (set just before the pool starts, cleared after).
_SHARED: dict[str, Any] = {}


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def month_batches(wanted: np.ndarray, workers: int, rows: int) -> list[np.ndarray]:
    """Cut the month ordinals ``wanted`` into up to ``workers`` contiguous batches of similar size.

    One batch (no pool) when ``workers`` is 1, when there is a single month, or when the ``rows`` answers are too
    few to pay for the processes (:data:`MIN_ROWS_PER_WORKER` per worker).
    """
    n = min(int(workers), len(wanted), max(1, rows // max(MIN_ROWS_PER_WORKER, 1)))
    if n <= 1:
        return [wanted]
    return [part for part in np.array_split(np.sort(wanted), n) if len(part)]


def _call(function: Callable[..., pd.DataFrame], kwargs: dict[str, Any]) -> pd.DataFrame:
    return function(**_SHARED, **kwargs)


def map_batches(function: Callable[..., pd.DataFrame], shared: dict[str, Any], batches: Sequence[dict[str, Any]],
                workers: int) -> list[pd.DataFrame]:
    """``function(**shared, **batch)`` for every batch, over ``workers`` processes; results in batch order.

    ``shared`` holds the large inputs (the same for every batch): inherited by forked workers without a copy,
    pickled where the platform cannot fork.
    """
    if len(batches) <= 1 or workers <= 1:
        return [function(**shared, **batch) for batch in batches]
    if "fork" in multiprocessing.get_all_start_methods():
        _SHARED.clear()
        _SHARED.update(shared)
        try:
            with ProcessPoolExecutor(max_workers=min(workers, len(batches)),
                                     mp_context=multiprocessing.get_context("fork")) as pool:
                return list(pool.map(_call, [function] * len(batches), batches))
        finally:
            _SHARED.clear()
    with ProcessPoolExecutor(max_workers=min(workers, len(batches))) as pool:
        futures = [pool.submit(function, **shared, **batch) for batch in batches]
        return [f.result() for f in futures]
