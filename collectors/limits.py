"""Bounds on what one file may cost, and the guard that keeps every reader's failures inside :class:`CollectorError`.

A file from outside may be hostile or merely broken: an 876 KB workbook can hold 3 million blank rows, a zip entry
can expand a thousandfold, a bit flip can break the XML half-way.  Every reader therefore

- checks the size before it parses: the file's bytes for text, the sum of the uncompressed members for a workbook
  (the zip directory says it without inflating anything), and the members' CRCs (a flipped bit in a workbook is
  refused, not read as other values);
- streams sheets and stops at ``max_rows`` rows or ``max_columns`` columns;
- refuses with one line naming the limit and the setting that raises it;
- lets no other exception escape: :func:`guarded` turns anything unexpected into a :class:`CollectorError` that
  names the file (the library's callers, notebooks included, see one error type).
"""

from __future__ import annotations

import functools
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .exceptions import CollectorError

__all__ = ["Limits", "DEFAULT_LIMITS", "limits_for", "check_text_size", "check_workbook", "guarded",
           "guarded_iter", "damaged"]


@dataclass(frozen=True)
class Limits:
    """What one file of a kind may hold.

    Attributes
    ----------
    max_rows
        Rows of a sheet or lines of a text file (blank rows count: they cost the same to read).
    max_columns
        Columns of a row.
    max_bytes
        Bytes of a text file, or the uncompressed bytes of a workbook's members.
    setting
        The settings prefix that changes them (``ingest.survey`` -> ``ingest.survey_max_rows``...).
    """

    max_rows: int
    max_columns: int
    max_bytes: int
    setting: str = ""


#: Defaults per kind: generous for every real file seen (a survey workbook is ~10 KB with 40 rows, a month's survey export ~40,000 lines; an official
#: table a few hundred months; the feed ~1 GB of CSV a month for 1,200 enterprises), far below what hurts.
DEFAULT_LIMITS: dict[str, Limits] = {
    "survey": Limits(100_000, 200, 8 * 2**20, "ingest.survey"),
    "official": Limits(100_000, 2_000, 64 * 2**20, "ingest.official"),
    "electricity": Limits(200_000_000, 100, 16 * 2**30, "ingest.feed"),
}


def limits_for(kind: str, limits: dict[str, Limits] | None = None) -> Limits:
    """The limits of a file kind (the account map shares the feed's)."""
    table = limits or DEFAULT_LIMITS
    key = "electricity" if kind.startswith("electricity") else kind
    return table.get(key) or DEFAULT_LIMITS[key]


def _name(limits: Limits, what: str) -> str:
    return f"{limits.setting}_max_{what}" if limits.setting else f"max_{what}"


def refuse(path: Path, limits: Limits, what: str, found: str) -> CollectorError:
    """The one-line refusal for a file over a limit."""
    limit = {"rows": limits.max_rows, "columns": limits.max_columns, "bytes": limits.max_bytes}[what]
    return CollectorError(f"{Path(path).name}: refused, {found}, over the limit of {limit:,} {what} "
                          f"({_name(limits, what)}); nothing of it was read: check the file, or raise the setting "
                          "if it is genuine")


def check_text_size(path: Path, limits: Limits) -> int:
    """Size of a text file; refuse it when over ``max_bytes``."""
    size = Path(path).stat().st_size
    if size > limits.max_bytes:
        raise refuse(path, limits, "bytes", f"{size:,} bytes")
    return size


def check_workbook(path: Path, limits: Limits, *, crc: bool = True) -> None:
    """Refuse a workbook whose members would inflate past ``max_bytes`` or (``crc``) whose data fail their CRC.

    The uncompressed sizes come from the zip directory (no inflating); the CRC check then inflates each member
    once, in a stream, which the size check has bounded.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > limits.max_bytes:
                raise refuse(path, limits, "bytes", f"{total:,} bytes once uncompressed")
            for info in infos:
                if info.compress_size and info.file_size / max(info.compress_size, 1) > 2000 \
                        and info.file_size > 2**20:
                    raise CollectorError(f"{path.name}: refused, member {info.filename!r} would expand "
                                         f"{info.file_size / info.compress_size:,.0f} times (a zip bomb?); "
                                         "nothing of it was read")
            bad = zf.testzip() if crc else None
    except CollectorError:
        raise
    except Exception as exc:
        raise CollectorError(
            f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); "
            "the file may be truncated or damaged, or not a workbook: ask for it to be saved and sent again"
        ) from None
    if bad is not None:
        raise CollectorError(f"{path.name}: damaged, member {bad!r} fails its checksum (CRC); the file was changed "
                             "or cut in transit: ask for it to be sent again")


def damaged(path: Path, exc: BaseException) -> str:
    """The message for a file a reader could not make sense of."""
    detail = " ".join(str(exc).split())[:200]
    return (f"{Path(path).name}: cannot be read ({type(exc).__name__}{': ' + detail if detail else ''}); the file "
            "is damaged or not in the expected layout: ask for it to be saved and sent again")


F = TypeVar("F", bound=Callable[..., Any])


def guarded(func: F) -> F:
    """Let only :class:`CollectorError` (and MemoryError, KeyboardInterrupt) out of a reader whose first argument
    is the path."""

    @functools.wraps(func)
    def wrapper(path: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(path, *args, **kwargs)
        except (CollectorError, MemoryError):
            raise
        except Exception as exc:
            raise CollectorError(damaged(Path(path), exc)) from None

    return wrapper  # type: ignore[return-value]


def guarded_iter(func: F) -> F:
    """:func:`guarded` for a generator: errors raised while iterating are turned too."""

    @functools.wraps(func)
    def wrapper(path: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        try:
            yield from func(path, *args, **kwargs)
        except (CollectorError, MemoryError, GeneratorExit):
            raise
        except Exception as exc:
            raise CollectorError(damaged(Path(path), exc)) from None

    return wrapper  # type: ignore[return-value]
