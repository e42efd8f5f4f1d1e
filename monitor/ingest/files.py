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

import hashlib
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import collectors
from collectors.base import Collected, file_sha256
from collectors.exceptions import CollectorError
from collectors.limits import DEFAULT_LIMITS, Limits, limits_for

from ..settings import Settings
from ..store import Store
from ..store import engine as store_engine
from ..store.engine import is_busy
from ..store.writelock import take_write_lock
from .archive import feed_archive
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


class _AlreadyCollected(Exception):
    """The same bytes were ingested by another run while this one waited for the store."""

    def __init__(self, earlier: tuple) -> None:
        super().__init__(str(earlier[1]))
        self.earlier = earlier


def _waiting() -> None:
    log.warning("the store is busy: another imon process is writing to it; waiting up to %d s",
                store_engine.BUSY_TIMEOUT_MS // 1000)


def _lock_and_check(conn: object, kind: str, sha: str, force: bool) -> None:
    """Take the write lock, then refuse bytes another run collected meanwhile (the loser of a race)."""
    take_write_lock(conn, [f"{kind}:{sha}"], on_wait=_waiting)  # type: ignore[arg-type]
    earlier = find_source(conn, kind, sha)  # type: ignore[arg-type]
    if earlier is not None and earlier[2] in ("loaded", "loading") and not force:
        raise _AlreadyCollected(earlier)


def _duplicate(path: Path, kind: str, earlier: tuple) -> FileOutcome:
    return FileOutcome(path, kind, "duplicate", message=f"already collected by another run ({earlier[1]}, "
                       f"{earlier[3]:%Y-%m-%d %H:%M}); 0 new rows", source_id=earlier[0])


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


def identify(path: Path) -> str:
    """The kind of a file, from its extension, sheets and header (:func:`collectors.identify`).

    Raises
    ------
    CollectorError
        An empty file or one of no known layout, with the layouts expected.
    """
    return collectors.identify(path)


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

        def unreadable(exc: OSError, folder: Path = p) -> None:
            where = Path(exc.filename) if exc.filename else folder
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
    reader = collectors.get(kind).read
    if reader is None:
        raise AssertionError(f"{kind} files are streamed, not read whole")
    return reader(path, limits=limits_for(kind, limits))


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
                dry_run: bool, progress: Callable[[str], None] | None, force: bool = False) -> FileOutcome:
    outcome = FileOutcome(path, kind, "checked" if dry_run else "loaded")
    try:
        # a feed also goes to the Parquet archive when one is configured: staged in the transaction, published
        # after its commit (monitor.ingest.archive)
        with feed_archive(store, settings, active=kind == "electricity" and not dry_run) as archived, \
                store.begin() as conn:
            _lock_and_check(conn, kind, sha, force)
            source_id = new_source(conn, kind, path, sha)
            if kind == "electricity":
                stream = collectors.get(kind).stream
                assert stream is not None
                chunks = stream(path, chunksize=settings["ingest.chunk_rows"],
                                limits=limits_for(kind, ingest_limits(settings)))
                report = (lambda n: progress(f"{path.name}: {n:,} rows")) if progress else None
                feed = ingest_electricity(conn, archived.watch(chunks), source_id, file_name=path.name,
                                          progress=report)
                archived.prepare(conn)
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
    except _AlreadyCollected as dup:
        return _duplicate(path, kind, dup.earlier)
    return outcome


def _ingest_survey_batch(store: Store, settings: Settings, batch: list[tuple[Path, str, Collected]], *,
                         dry_run: bool, force: bool = False) -> list[FileOutcome]:
    """Survey files in one transaction (one set of queries for the batch), each with its own provenance.

    The write lock is taken first; files whose bytes another run collected meanwhile are reported as such and
    left out, in the same transaction.
    """
    outcomes = [FileOutcome(path, "survey", "checked" if dry_run else "loaded") for path, _, _ in batch]
    try:
        with store.begin() as conn:
            take_write_lock(conn, [f"survey:{sha}" for _, sha, _ in batch], on_wait=_waiting)
            fresh = []
            for i, (path, sha, _col) in enumerate(batch):
                earlier = find_source(conn, "survey", sha)
                if earlier is not None and earlier[2] in ("loaded", "loading") and not force:
                    outcomes[i] = _duplicate(path, "survey", earlier)
                else:
                    fresh.append(i)
            files = [SurveyFile(batch[i][2], new_source(conn, "survey", batch[i][0], batch[i][1])) for i in fresh]
            ingest_survey(conn, files, deadline_day=settings["survey.deadline_day"],
                          close_days=settings["survey.close_days"])
            for f, outcome in zip(files, [outcomes[i] for i in fresh]):
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
                                        dry_run=dry_run, force=force)
        except Exception as exc:
            if is_busy(exc):
                raise
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
            outcome = _ingest_one(store, settings, path, kind, sha, collected, dry_run=dry_run, progress=progress,
                                  force=force)
        except CollectorError as exc:
            outcome = FileOutcome(path, kind, "failed", message=str(exc))
            if not dry_run:
                _record_failure(store, kind, path, sha, str(exc))
        except Exception as exc:
            if is_busy(exc):
                raise  # nothing of this file was written: the command says "busy, retry" (exit 75)
            log.exception("collect %s failed", path)
            outcome = FileOutcome(path, kind, "failed", message=_damaged(path, exc))
            if not dry_run:
                _record_failure(store, kind, path, sha, outcome.message)
        log.info("collect %s (%s): %s, %d read, %d new, %d rejected, %d warnings %s", path, kind, outcome.status,
                 outcome.rows_read, outcome.rows_new, outcome.rows_rejected, outcome.warnings, outcome.message)
        outcomes[slot] = outcome
    flush()
    return [o for o in outcomes if o is not None]
