"""Write a demo build into a store, in one transaction, with provenance.

A store holds either demo data or real data, never both: :func:`load_demo`
refuses a store that has anything not brought in by ``imon demo``, so pointing
the demo at a production database cannot touch it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from ..exceptions import DemoError
from ..store import Store
from ..store import models as m
from ..store.ingest import add_source, empty_tables, has_enterprises, source_kinds, update_source
from .comparison import draw_comparison
from .generator import DemoData, DemoParams

__all__ = ["DEMO_KIND", "data_tables", "demo_status", "load_demo", "refuse_foreign", "TRUTH_PREFIX"]

log = logging.getLogger(__name__)

DEMO_KIND = "demo"
#: Series keys under which the generator's latent (true) cycle is stored.
TRUTH_PREFIX = "demo/truth/"

#: Tables a rebuild keeps: the code lists seeded by the migrations, the scheduler's lock (a scheduler may be
#: running on the store) and the silences people set.  Every other table of the schema holds data of (or derived
#: from) the previous build and is emptied.
_KEPT_TABLES = frozenset({
    "district", "industry", "key_sector", "industry_key_sector", "size_class", "question", "problem",
    "scheduler_lock", "alert_silence",
})


def data_tables() -> list[str]:
    """The names of the tables emptied before a rebuild, children before their parents (reverse foreign-key order).

    Derived from the schema rather than listed, so a table added later that references ``enterprise`` or
    ``ingest_source`` (collected electricity accounts, alert notices, ...) is emptied before its parent and cannot
    make the rebuild fail on a foreign key.
    """
    return [t.name for t in reversed(m.metadata.sorted_tables) if t.name not in _KEPT_TABLES]


def demo_status(store: Store) -> tuple[str, dict[str, object] | None]:
    """Say what the store holds.

    Returns
    -------
    (state, params)
        ``state`` is ``"empty"``, ``"demo"`` (``params`` = the build's
        parameters) or ``"foreign"`` (data that ``imon demo`` did not write).
    """
    kinds = source_kinds(store)
    if not kinds and not has_enterprises(store):
        return "empty", None
    demo = [note for kind, note in kinds if kind == DEMO_KIND]
    if len(demo) == 1:  # files collected from the demo's inbox belong to the demo store too
        return "demo", json.loads(demo[0] or "{}")
    return "foreign", None


def refuse_foreign(store: Store, state: str) -> None:
    """Raise :class:`DemoError` when ``state`` (from :func:`demo_status`) is ``"foreign"``."""
    if state == "foreign":
        raise DemoError(
            f"the store {store.url} holds data that `imon demo` did not write; the demo only builds into an "
            "empty store or its own: point data_dir or store.url (IMON_DATABASE_URL) at another database"
        )


def _truth_rows(data: DemoData) -> pd.DataFrame:
    vintage = (data.params.end + 1).start_time.to_pydatetime()  # a vintage is a timestamp (migration 0008)
    frames = []
    for code in data.cycle.columns:
        key = TRUTH_PREFIX + ("pmi/headline" if code == "headline" else f"pmi/{code}")
        frames.append(pd.DataFrame({
            "series_key": key, "period": [str(p) for p in data.cycle.index], "vintage": vintage,
            "raw": None, "sa": data.cycle[code].round(4).to_numpy(), "se": None, "n": None,
        }))
    out = pd.concat(frames, ignore_index=True)
    out["computed_at"] = vintage
    return out


def load_demo(store: Store, data: DemoData, *, until: str | None = None,
              progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Replace the store's demo data by ``data`` in one transaction.

    With ``until`` (a month ``YYYY-MM``), only the history before it is loaded:
    the current round then comes in as files (:mod:`monitor.demo.inbox`).

    Parameters
    ----------
    store
        An open store holding nothing or an earlier demo build.
    data
        The build from :func:`monitor.demo.generator.generate_demo`.
    progress
        Called with ``(table, rows)`` after each table is written.

    Returns
    -------
    dict
        Rows written per table.

    Raises
    ------
    DemoError
        The store holds data that the demo did not write.
    """
    refuse_foreign(store, demo_status(store)[0])
    try:
        counts = _load(store, data, until, progress)
    except SQLAlchemyError as exc:  # the transaction is rolled back: the previous build is intact
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise DemoError(f"the demo build could not be written into {store.url} ({type(exc).__name__}: {reason}); "
                        "nothing was changed. Run `imon db upgrade` and try again, or build into an empty store "
                        "(another data_dir)") from exc
    log.info("demo build loaded into %s: %s", store.url, counts)
    return counts


def _load(store: Store, data: DemoData, until: str | None,
          progress: Callable[[str, int], None] | None) -> dict[str, int]:
    counts: dict[str, int] = {}
    now = dt.datetime.now().replace(microsecond=0)
    params: DemoParams = data.params
    with store.begin() as conn:
        empty_tables(conn, data_tables())
        source_id = add_source(
            conn, kind=DEMO_KIND, path=params.command(), sha256=params.fingerprint(), received_at=now,
            rows_accepted=0, rows_rejected=0, status="loaded", note=json.dumps(params.as_dict(), sort_keys=True))

        def write(model: type[m.Base], frame: pd.DataFrame, *, with_source: bool = True) -> None:
            if with_source:
                frame = frame.assign(source_id=source_id)
            counts[model.__tablename__] = store.bulk_insert(model, frame, conn=conn)
            if progress:
                progress(model.__tablename__, counts[model.__tablename__])

        def before(frame: pd.DataFrame, column: str = "period") -> pd.DataFrame:
            if until is None:
                return frame
            if column == "day":
                return frame[frame["day"] < pd.Period(until, "M").start_time]
            monthly = frame[column].str.len() == 7
            return frame[~monthly | (frame[column] < until)]

        ent = data.enterprises.assign(panel_end=data.enterprises["panel_end"].astype(object).where(
            data.enterprises["panel_end"].notna(), None))
        write(m.Enterprise, ent)
        write(m.SurveyResponse, before(data.responses))
        write(m.SurveyResponseHistory, before(data.history))
        write(m.SurveyProblem, before(data.problems))
        write(m.EnterpriseMonth, before(data.monthly))
        write(m.ElectricityReading, before(data.electricity, "day"))
        write(m.OfficialStatistic, before(data.official))
        # synthetic province and country figures for the comparison columns (the publications say so); they
        # are the other economies' releases, so every month of the demo range has them
        comparison = draw_comparison(data.official, np.random.default_rng(
            np.random.SeedSequence(params.seed).spawn(10)[9]))
        counts["official_statistic"] += store.bulk_insert(m.OfficialStatistic, comparison.assign(source_id=source_id),
                                                          conn=conn)
        write(m.Target, data.targets)
        write(m.SeriesValue, _truth_rows(data), with_source=False)
        update_source(conn, source_id, rows_accepted=sum(counts.values()))
    return counts
