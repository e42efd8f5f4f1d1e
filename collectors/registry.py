"""The collector registry: each source layout a collector reads, how to recognise it, how to read it.

A :class:`Collector` has a ``kind``, a ``sniff`` test on the first bytes of a file (:class:`FileHead`: extension,
sheet names, header row, first lines) and a reader: ``read(path, limits=...) -> Collected`` for files read whole,
or ``stream(path, chunksize=..., limits=...)`` for feeds read in chunks (limits: :mod:`collectors.limits`).  :func:`identify` asks the collectors of
:data:`COLLECTORS` in order; :func:`get` returns the collector of a kind.  A new source layout is a new module
here plus one entry in :data:`COLLECTORS` (before any layout its files could also match).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._xlsx import open_workbook, sheet_names
from .base import Collected, read_text_head
from .electricity import electricity_header, iter_electricity, read_account_map
from .exceptions import CollectorError
from .limits import Limits, guarded
from .official import looks_official, read_official_table
from .survey import is_survey_csv_header, read_survey_csv, read_survey_workbook

__all__ = ["COLLECTORS", "Collector", "FileHead", "get", "identify", "read_head"]

WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm"})


@dataclass(frozen=True)
class FileHead:
    """What the sniffers look at: the file's path, its sheet names (workbooks), its header row and first lines."""

    path: Path
    workbook: bool
    sheets: tuple[str, ...]
    header: tuple[str, ...]
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Collector:
    """One source layout: its kind, its sniffing test, and its reader (whole files) or streamer (feeds)."""

    kind: str
    description: str
    sniff: Callable[[FileHead], bool]
    read: Callable[..., Collected] | None = None
    stream: Callable[..., Iterator[Any]] | None = None


def read_head(path: Path) -> FileHead:
    """The first bytes of ``path`` as the sniffers see them.

    Raises
    ------
    CollectorError
        An empty file, or a workbook that cannot be opened.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise CollectorError(f"{path.name}: the file is empty (0 bytes); ask for it to be sent again")
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        names = tuple(sheet_names(path))
        if any(_is_survey_sheet(n) for n in names):
            return FileHead(path, True, names, (), ())
        wb = open_workbook(path)
        try:
            first = next(wb.worksheets[0].iter_rows(values_only=True, max_row=1), ())
            header = tuple("" if v is None else str(v) for v in first)
        finally:
            wb.close()
        return FileHead(path, True, names, header, (",".join(header),) if header else ())
    lines, _ = read_text_head(path, 3)
    if not lines:
        raise CollectorError(f"{path.name}: the file is empty")
    return FileHead(path, False, (), tuple(next(csv.reader([lines[0]]))), tuple(lines))


def _is_survey_sheet(name: str) -> bool:
    return name.startswith("问卷") or name.lower().startswith("questionnaire")


def _sniff_survey(head: FileHead) -> bool:
    if head.workbook:
        return any(_is_survey_sheet(n) for n in head.sheets)
    return is_survey_csv_header(list(head.header))


def _sniff_electricity(head: FileHead) -> bool:
    return electricity_header(list(head.header)) is not None


def _sniff_accounts(head: FileHead) -> bool:
    if head.workbook:
        return False
    lowered = [h.strip().lstrip("\ufeff").lower() for h in head.header]
    return any(h in ("uscc", "统一社会信用代码", "信用代码") for h in lowered) and any(
        h in ("account_no", "户号", "用户编号", "account") for h in lowered)


def _sniff_official(head: FileHead) -> bool:
    return bool(head.lines) and looks_official(list(head.lines))


def _read_survey(path: Path, *, limits: Limits | None = None) -> Collected:
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        return read_survey_workbook(path, limits=limits)
    return read_survey_csv(path, limits=limits)


#: The collectors, in the order :func:`identify` asks them.
COLLECTORS: tuple[Collector, ...] = (
    Collector("survey", "the survey workbook (a sheet '问卷 Questionnaire') or its CSV export "
              "(uscc,period,submitted_at,section,code,value)", _sniff_survey, read=_read_survey),
    Collector("electricity", "a utility feed (户号,日期,用电量 columns)", _sniff_electricity, stream=iter_electricity),
    Collector("electricity_accounts", "an account map (account_no,uscc)", _sniff_accounts, read=read_account_map),
    Collector("official", "an official table", _sniff_official, read=read_official_table),
)


def get(kind: str) -> Collector:
    """The collector of ``kind``.

    Raises
    ------
    KeyError
        No collector reads that kind.
    """
    for collector in COLLECTORS:
        if collector.kind == kind:
            return collector
    raise KeyError(f"no collector reads {kind!r}; the kinds are {', '.join(c.kind for c in COLLECTORS)}")


@guarded
def identify(path: Path) -> str:
    """The kind of a file, from its extension, sheets and header.

    Raises
    ------
    CollectorError
        An empty file or one of no known layout, with the layouts expected.
    """
    head = read_head(path)
    for collector in COLLECTORS:
        if collector.sniff(head):
            return collector.kind
    if head.workbook:
        raise CollectorError(
            f"{head.path.name}: a workbook with sheets {list(head.sheets)} is neither the survey workbook (a sheet "
            "'问卷 Questionnaire'), a utility export (户号/日期/用电量 columns) nor an official table; "
            "use the survey template or check that the right file was sent"
        )
    raise CollectorError(
        f"{head.path.name}: unknown layout (header {list(head.header)[:6]!r}); expected a survey export "
        "(uscc,period,submitted_at,section,code,value), a utility feed (户号,日期,用电量), an account map "
        "(account_no,uscc) or an official table"
    )
