"""``imon collect``: files in, validated, idempotent, atomic per file, traceable.

Each file is identified (survey workbook or CSV export, utility feed, account
map, official table), read by its collector, checked against the store, and
written in one transaction together with its provenance row and its rejects.
Survey returns, which arrive by the hundred, are written up to
``_SURVEY_BATCH`` files per transaction: each keeps its own provenance, rejects
and counts, and a failure rolls the whole batch back, so every file is still in
whole or not at all.
A file whose bytes were already ingested (under any name) is skipped.  A file
that cannot be read at all is recorded as ``failed`` and nothing of it is
written.  ``dry_run`` runs every check and rolls back.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from collectors.base import Collected, file_sha256, read_text_head
from collectors.electricity import electricity_header, iter_electricity, read_account_map
from collectors.exceptions import CollectorError
from collectors.limits import DEFAULT_LIMITS, Limits, guarded, limits_for
from collectors.official import looks_official, read_official_table
from collectors.survey import is_survey_csv_header, read_survey_csv, read_survey_workbook

from ..settings import Settings
from ..store import Store
from .common import FileOutcome, find_source, finish_source, new_source, write_issues
from .electricity import ingest_electricity
from .reference import ingest_accounts, ingest_official
from .survey import SurveyFile, ingest_survey

__all__ = ["identify", "expand_paths", "check_paths", "collect_paths", "KINDS"]

log = logging.getLogger(__name__)

#: Kinds in the order a batch is processed (the account map before the feed that needs it).
KINDS = ("electricity_accounts", "official", "survey", "electricity")
_EXTENSIONS = {".xlsx", ".xlsm", ".csv", ".txt"}
#: Survey files written per transaction (each keeps its own provenance and counts).
_SURVEY_BATCH = 250


class _Rollback(Exception):
    """Raised inside a dry run's transaction to undo it."""


def ingest_limits(settings: Settings) -> dict[str, Limits]:
    """The per-kind file limits of the settings (``ingest.<kind>_max_rows|columns|bytes``)."""
    out = {}
    for kind, prefix in (("survey", "ingest.survey"), ("official", "ingest.official"), ("electricity", "ingest.feed")):
        try:
            out[kind] = Limits(settings[f"{prefix}_max_rows"], settings[f"{prefix}_max_columns"],
                               settings[f"{prefix}_max_bytes"], prefix)
        except KeyError:
            out[kind] = DEFAULT_LIMITS[kind]
    return out


@guarded
def identify(path: Path) -> str:
    """The kind of a file, from its extension, sheets and header.

    Raises
    ------
    CollectorError
        An empty file or one of no known layout, with the layouts expected.
    """
    if path.stat().st_size == 0:
        raise CollectorError(f"{path.name}: the file is empty (0 bytes); ask for it to be sent again")
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        from collectors._xlsx import open_workbook, sheet_names

        names = sheet_names(path)
        if any(n.startswith("问卷") or n.lower().startswith("questionnaire") for n in names):
            return "survey"
        wb = open_workbook(path)
        try:
            first = next(wb.worksheets[0].iter_rows(values_only=True, max_row=1), ())
            header = ["" if v is None else str(v) for v in first]
        finally:
            wb.close()
        if electricity_header(header):
            return "electricity"
        if header and looks_official([",".join(header)]):
            return "official"
        raise CollectorError(
            f"{path.name}: a workbook with sheets {names} is neither the survey workbook (a sheet "
            "'问卷 Questionnaire'), a utility export (户号/日期/用电量 columns) nor an official table; "
            "use the survey template or check that the right file was sent"
        )
    lines, _ = read_text_head(path, 3)
    if not lines:
        raise CollectorError(f"{path.name}: the file is empty")
    header = next(csv.reader([lines[0]]))
    if is_survey_csv_header(header):
        return "survey"
    if electricity_header(header):
        return "electricity"
    lowered = [h.strip().lstrip("\ufeff").lower() for h in header]
    if any(h in ("uscc", "统一社会信用代码", "信用代码") for h in lowered) and any(
            h in ("account_no", "户号", "用户编号", "account") for h in lowered):
        return "electricity_accounts"
    if looks_official(lines):
        return "official"
    raise CollectorError(
        f"{path.name}: unknown layout (header {header[:6]!r}); expected a survey export "
        "(uscc,period,submitted_at,section,code,value), a utility feed (户号,日期,用电量), an account map "
        "(account_no,uscc) or an official table"
    )


def check_paths(paths: Iterable[Path]) -> None:
    """Refuse, before anything is read, a named path that does not exist, a folder that cannot be listed, or a
    named file that is not a regular file (a FIFO, a device such as ``/dev/zero``: reading them never ends).

    Raises
    ------
    CollectorError
        The first such path, with the fix.
    """
    for p in paths:
        p = Path(p).absolute()
        try:
            mode = p.stat().st_mode
        except FileNotFoundError:
            raise CollectorError(f"{p}: no such file or folder; check the path") from None
        except OSError as exc:
            raise CollectorError(f"{p}: cannot be read ({exc.strerror}); check the path and its permissions") from None
        if stat.S_ISDIR(mode):
            if not os.access(p, os.R_OK | os.X_OK):
                raise CollectorError(f"{p}: the folder cannot be read (permission denied); give the user running "
                                     "imon read access to it")
        elif not stat.S_ISREG(mode):
            raise CollectorError(f"{p}: not a regular file (a pipe, device or socket); collect files and folders only")


def _expand(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Data files of ``paths`` and the problems met on the way (unreadable subfolders, special files)."""
    out: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for p in paths:
        p = Path(p).absolute()
        check_paths([p])
        if not p.is_dir():
            out.append(p)
            continue

        def unreadable(exc: OSError) -> None:
            where = Path(exc.filename) if exc.filename else p
            problems.append((where, f"{where}: the folder cannot be read ({exc.strerror}); its files were not "
                                    "collected: give the user running imon read access and collect it again"))

        found = []
        for folder, dirs, names in os.walk(p, onerror=unreadable):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in names:
                f = Path(folder) / name
                if f.suffix.lower() not in _EXTENSIONS or name.startswith((".", "~$")):
                    continue
                try:
                    regular = stat.S_ISREG(f.stat().st_mode)
                except OSError as exc:
                    problems.append((f, f"{f.name}: cannot be read ({exc.strerror})"))
                    continue
                if regular:
                    found.append(f)
                else:
                    problems.append((f, f"{f.name}: not a regular file (a pipe, device or socket); not collected"))
        out += sorted(found)
    return out, problems


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the data files inside folders named (recursively; hidden and ``~$`` lock files skipped).

    Raises
    ------
    CollectorError
        A path that does not exist, a folder that cannot be listed, a named path that is not a regular file.
    """
    return _expand(paths)[0]


def _read(kind: str, path: Path, limits: dict[str, Limits] | None = None) -> Collected:
    lim = limits_for(kind, limits)
    if kind == "survey":
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            return read_survey_workbook(path, limits=lim)
        return read_survey_csv(path, limits=lim)
    if kind == "official":
        return read_official_table(path, limits=lim)
    if kind == "electricity_accounts":
        return read_account_map(path, limits=lim)
    raise AssertionError(kind)


def _safe_read(item: tuple[Path, str, dict[str, Limits] | None]) -> Collected | CollectorError:
    """Read one file in a worker process; a CollectorError is returned, not raised."""
    path, kind, limits = item
    try:
        return _read(kind, path, limits)
    except CollectorError as exc:
        return exc
    except Exception as exc:
        return CollectorError(_damaged(path, exc))


def _damaged(path: Path, exc: Exception) -> str:
    return (f"{path.name}: cannot be read ({type(exc).__name__}: {str(exc)[:200]}); the file is damaged or not "
            "in the expected layout: ask for it to be saved and sent again")


def _read_ahead(items: list[tuple[Path, str]], processes: int,
                limits: dict[str, Limits] | None = None) -> Iterator[Collected | CollectorError | None]:
    """Collected files in order, read by a process pool when there are many (electricity is streamed later)."""
    readable = [(p, k, limits) for p, k in items if k != "electricity"]
    if processes > 1 and len(readable) > 40:
        with ProcessPoolExecutor(processes) as pool:
            done = pool.map(_safe_read, readable, chunksize=16)
            for _, kind in items:
                yield None if kind == "electricity" else next(done)
    else:
        for path, kind in items:
            yield None if kind == "electricity" else _safe_read((path, kind, limits))


def _ingest_one(store: Store, settings: Settings, path: Path, kind: str, sha: str, collected: Collected | None, *,
                dry_run: bool, progress: Callable[[str], None] | None) -> FileOutcome:
    outcome = FileOutcome(path, kind, "checked" if dry_run else "loaded")
    try:
        with store.begin() as conn:
            source_id = new_source(conn, kind, path, sha)
            if kind == "electricity":
                chunks = iter_electricity(path, chunksize=settings["ingest.chunk_rows"],
                                          limits=limits_for(kind, ingest_limits(settings)))
                report = (lambda n: progress(f"{path.name}: {n:,} rows")) if progress else None
                feed = ingest_electricity(conn, chunks, source_id, file_name=path.name, progress=report)
                read, changed, issues, errors = feed.read, feed.changed, feed.issues, feed.rejected
            else:
                assert collected is not None
                issues = list(collected.issues)
                read = sum(len(t) for t in collected.tables.values()) + collected.rejected_rows
                if kind == "official":
                    changed, more = ingest_official(conn, collected, source_id)
                else:
                    changed, more = ingest_accounts(conn, collected, source_id)
                issues += more
                errors = sum(i.rows for i in issues if i.severity == "error")
            write_issues(conn, source_id, issues)
            finish_source(conn, source_id, accepted=read - errors, rejected=errors)
            outcome.rows_read, outcome.rows_new, outcome.rows_rejected = read, changed, errors
            outcome.warnings, outcome.issues, outcome.source_id = (sum(1 for i in issues if i.severity == "warning"),
                                                                   issues, source_id)
            if not dry_run and changed == 0:
                outcome.status = "rejected" if errors else "unchanged"
            if dry_run:
                raise _Rollback
    except _Rollback:
        outcome.source_id = None
    return outcome


def _ingest_survey_batch(store: Store, settings: Settings, batch: list[tuple[Path, str, Collected]], *,
                         dry_run: bool) -> list[FileOutcome]:
    """Survey files in one transaction (one set of queries for the batch), each with its own provenance."""
    outcomes = [FileOutcome(path, "survey", "checked" if dry_run else "loaded") for path, _, _ in batch]
    try:
        with store.begin() as conn:
            files = [SurveyFile(col, new_source(conn, "survey", path, sha)) for path, sha, col in batch]
            ingest_survey(conn, files, deadline_day=settings["survey.deadline_day"],
                          close_days=settings["survey.close_days"])
            for f, outcome in zip(files, outcomes):
                issues = list(f.collected.issues) + f.issues
                errors = sum(i.rows for i in issues if i.severity == "error")
                read = sum(len(t) for t in f.collected.tables.values()) + f.collected.rejected_rows
                write_issues(conn, f.source_id, issues)
                finish_source(conn, f.source_id, accepted=read - errors, rejected=errors)
                outcome.rows_read, outcome.rows_new, outcome.rows_rejected = read, f.changed, errors
                outcome.warnings, outcome.issues = sum(1 for i in issues if i.severity == "warning"), issues
                outcome.source_id = None if dry_run else f.source_id
                if not dry_run and f.changed == 0:
                    outcome.status = "rejected" if errors else "unchanged"
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return outcomes


def _unreadable_sha(path: Path) -> str:
    """A stand-in digest for a file or folder whose bytes cannot be read (recorded, never matched by content)."""
    return hashlib.sha256(b"unreadable:" + os.fsencode(path)).hexdigest()


def _record_failure(store: Store, kind: str | None, path: Path, sha: str, message: str) -> None:
    with store.begin() as conn:
        source_id = new_source(conn, kind or "unknown", path, sha, note=message)
        finish_source(conn, source_id, accepted=0, rejected=0, status="failed", note=message)


def collect_paths(store: Store, settings: Settings, paths: Iterable[Path], *, dry_run: bool = False,
                  force: bool = False, progress: Callable[[str], None] | None = None,
                  processes: int = 2) -> list[FileOutcome]:
    """Ingest files and folders; one outcome per file, in processing order.

    Parameters
    ----------
    store, settings
        Where to write and the survey rules.
    paths
        Files and folders.
    dry_run
        Validate everything, write nothing.
    force
        Process files even when the same bytes were ingested before (e.g. after
        registering enterprises that were unknown the first time).
    progress
        Called with short progress messages (large files report rows read).
    processes
        Worker processes that read workbooks ahead of the (sequential) writes.

    Raises
    ------
    CollectorError
        A path that does not exist (before anything is read).
    """
    files, problems = _expand(paths)
    planned: list[tuple[Path, str | None, str, str | None]] = []
    for path, message in problems:
        planned.append((path, None, _unreadable_sha(path), message))
    for path in files:
        try:
            sha = file_sha256(path)
        except OSError as exc:
            planned.append((path, None, _unreadable_sha(path), f"{path.name}: cannot be read ({exc.strerror})"))
            continue
        try:
            planned.append((path, identify(path), sha, None))
        except CollectorError as exc:
            planned.append((path, None, sha, str(exc)))
        except Exception as exc:
            planned.append((path, None, sha, _damaged(path, exc)))
    planned.sort(key=lambda p: (KINDS.index(p[1]) if p[1] in KINDS else -1, str(p[0])))
    outcomes: list[FileOutcome | None] = []
    todo: list[tuple[int, Path, str, str]] = []
    seen: dict[tuple[str, str], Path] = {}
    for path, kind, sha, error in planned:
        if error is not None or kind is None:
            outcomes.append(FileOutcome(path, kind, "failed", message=error or "unknown file"))
            if not dry_run and sha:
                _record_failure(store, kind, path, sha, error or "unknown file")
            continue
        with store.engine.connect() as conn:
            earlier = find_source(conn, kind, sha)
        twin = seen.get((kind, sha))
        if (earlier and earlier[2] in ("loaded", "loading") or twin) and not force:
            where = str(twin) if twin else earlier[1] if earlier else ""
            same = str(path) == where
            outcomes.append(FileOutcome(path, kind, "duplicate", message=(
                "already ingested" if same else f"same content as {where}") + (
                f" on {earlier[3]:%Y-%m-%d %H:%M}" if earlier and not twin else "") + "; 0 new rows",
                source_id=earlier[0] if earlier else None))
            continue
        seen[(kind, sha)] = path
        todo.append((len(outcomes), path, kind, sha))
        outcomes.append(None)
    reads = _read_ahead([(path, kind) for _, path, kind, _ in todo], processes, ingest_limits(settings))
    batch: list[tuple[int, Path, str, Collected]] = []

    def flush() -> None:
        if not batch:
            return
        try:
            done = _ingest_survey_batch(store, settings, [(p, sha, col) for _, p, sha, col in batch],
                                        dry_run=dry_run)
        except Exception as exc:
            log.exception("survey batch of %d files failed", len(batch))
            done = [FileOutcome(p, "survey", "failed", message=f"{p.name}: not ingested, the batch it was written "
                                f"with failed ({type(exc).__name__}: {str(exc)[:200]}); nothing of it was written")
                    for _, p, _, _ in batch]
            if not dry_run:
                for (_, p, sha, _), outcome in zip(batch, done):
                    _record_failure(store, "survey", p, sha, outcome.message)
        for (slot, *_), outcome in zip(batch, done):
            log.info("collect %s (survey): %s, %d read, %d new, %d rejected, %d warnings", outcome.path,
                     outcome.status, outcome.rows_read, outcome.rows_new, outcome.rows_rejected, outcome.warnings)
            outcomes[slot] = outcome
        batch.clear()

    for (slot, path, kind, sha), collected in zip(todo, reads):
        if progress:
            progress(f"{path.name} ({kind})")
        if kind == "survey" and isinstance(collected, Collected):
            batch.append((slot, path, sha, collected))
            if len(batch) >= _SURVEY_BATCH:
                flush()
            continue
        flush()
        try:
            if isinstance(collected, CollectorError):
                raise collected
            outcome = _ingest_one(store, settings, path, kind, sha, collected, dry_run=dry_run, progress=progress)
        except CollectorError as exc:
            outcome = FileOutcome(path, kind, "failed", message=str(exc))
            if not dry_run:
                _record_failure(store, kind, path, sha, str(exc))
        except Exception as exc:
            log.exception("collect %s failed", path)
            outcome = FileOutcome(path, kind, "failed", message=_damaged(path, exc))
            if not dry_run:
                _record_failure(store, kind, path, sha, outcome.message)
        log.info("collect %s (%s): %s, %d read, %d new, %d rejected, %d warnings %s", path, kind, outcome.status,
                 outcome.rows_read, outcome.rows_new, outcome.rows_rejected, outcome.warnings, outcome.message)
        outcomes[slot] = outcome
    flush()
    return [o for o in outcomes if o is not None]
