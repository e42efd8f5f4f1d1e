"""What both engines share: the item and batch helpers that run on a worker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

__all__ = ["Engine", "ItemError", "OnError", "Progress", "batches", "run_batch"]

T = TypeVar("T")

#: Called with an item and the exception it raised; returns the result that stands for it.
OnError = Callable[[Any, BaseException], Any]
#: Called with each result as it arrives (completion order).
Progress = Callable[[Any], None]


class ItemError(Exception):
    """An item's function raised and no ``on_error`` was given: the exception names the item."""


class Engine(Protocol):
    """What the stages need from an engine."""

    name: str

    @property
    def workers(self) -> int:
        """Worker processes the engine runs on."""
        ...

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], *, on_error: OnError | None = None,
            progress: Progress | None = None, batch: int | None = None) -> list[Any]:
        """``fn`` over ``items`` (results in item order); a failing item gets ``on_error(item, exc)``."""
        ...

    def close(self) -> None:
        """Release the workers (and a cluster the engine started)."""
        ...


def _fail(item: Any, exc: BaseException, on_error: OnError | None) -> Any:
    if on_error is None:
        raise ItemError(f"{type(exc).__name__}: {exc} (item {item!r:.200})") from exc
    return on_error(item, exc)


def run_batch(fn: Callable[[Any], Any], batch: Sequence[Any], on_error: OnError | None = None) -> list[Any]:
    """``fn`` over one batch in this process, each item isolated: what a worker runs for one task."""
    out = []
    for item in batch:
        try:
            out.append(fn(item))
        except Exception as exc:  # one item failing does not stop the batch
            out.append(_fail(item, exc, on_error))
    return out


def batches(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` cut into consecutive lists of at most ``size``."""
    size = max(1, int(size))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]
