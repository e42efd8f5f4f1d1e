"""Build, store and re-render publications: the library behind ``imon publish``.

:func:`publish` builds one publication from the latest data (a draft, a first final edition or a
correction), writes its files under ``<outputs>/publications/<kind>/<period>/`` and records it in the
``publication`` table with the inputs it read (:class:`~monitor.publish.sources.Inputs`).
:func:`rerender` builds a stored publication again from those recorded inputs: the HTML is byte-identical
however much data arrived since.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import PublicationFinalError, PublishError
from ..settings import Settings
from ..store import Store
from ..store.publications import publication_editions, publication_list, publication_record, record_publication
from ..timeshow import bureau_zone, show_time
from .charts import chart_font
from .common import BuildOptions
from .document import Document, Figure, Para, Table, walk
from .phrasing import as_lang
from .release import check_final_allowed, check_kind, now_in, parse_period, period_text, release_line, release_time
from .sources import Inputs

__all__ = ["PublicationResult", "publish", "rerender", "build_document", "FORMATS", "list_publications"]

FORMATS = ("html", "pdf", "docx")


@dataclass
class PublicationResult:
    """What :func:`publish` or :func:`rerender` did."""

    kind: str
    period: str
    lang: str
    version: int
    final: bool
    files: list[Path] = field(default_factory=list)
    checksum: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    publication_id: int | None = None
    matches: bool | None = None  # rerender: the HTML equals the stored file's checksum
    release_at: dt.datetime | None = None  # the release time printed (rerender: the one stored with the edition)

    @property
    def label(self) -> str:
        if not self.final:
            return "draft"
        return f"final edition {self.version}"


def _builder(kind: str) -> Callable[[Inputs, pd.Period, BuildOptions], Document]:
    if kind == "pmi":
        from .pmi import build_pmi
        return build_pmi
    if kind == "operations":
        from .operations import build_operations
        return build_operations
    if kind == "dispatch":
        from .dispatch import build_dispatch
        return build_dispatch
    from .annual import build_annual
    return build_annual


def _formats(value: str | Sequence[str]) -> list[str]:
    items = [f.strip().lower() for f in (value.split(",") if isinstance(value, str) else value) if f.strip()]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise PublishError(f"publication formats must be among {', '.join(FORMATS)}; got {', '.join(bad) or 'none'}"
                           " (publish.formats or --format)")
    return [f for f in FORMATS if f in items]


def build_document(store: Store, settings: Settings, kind: str, period: pd.Period, lang: str, *,
                   record: dict[str, Any] | None = None, final: bool = False, edition: int = 0, note: str = "",
                   allow_cjk: bool = True, when: dt.datetime | None = None) -> tuple[Document, Inputs]:
    """Build the :class:`Document` of a publication (no files, no store writes).

    ``record`` replays the inputs of an earlier build (see :class:`Inputs`); ``when`` is the release time
    to print (default: the configured one for ``period``; a re-render passes the stored one).
    """
    inputs = Inputs(store, record)
    zh = lang == "zh"
    when = when or release_time(period, settings)
    opts = BuildOptions(lang=as_lang(lang), font=chart_font(lang, allow_cjk=allow_cjk),
                        issuer=settings["publish.issuer_zh" if zh else "publish.issuer_en"],
                        city=settings["publish.city_zh" if zh else "publish.city_en"],
                        min_respondents=int(settings["compute.min_respondents"]),
                        release_line=release_line(when, lang, final=final))
    doc = _builder(kind)(inputs, period, opts)
    _stamp_vintages(doc, inputs)
    doc.status = "final" if final else "draft"
    doc.edition = edition
    if note:
        doc.correction_note = (f"更正说明（第{edition}版）：{note}。本版替代第{edition - 1}版。" if zh else
                               f"Correction (edition {edition}): {note}. This edition replaces edition "
                               f"{edition - 1}.")
    return doc, inputs


def _stamp_vintages(doc: Document, inputs: Inputs) -> None:
    """Add to every number read from a computed series the vintage it was read at (``data-vintage``), so the
    publication carries the record ``imon publish check`` compares with the store."""
    for b in walk([s for s in doc.sections]):
        if isinstance(b, Table):
            for row in b.rows:
                for c in row:
                    a = c.attrs
                    if a.get("src") == "series" and a.get("key") and a.get("period"):
                        a["vintage"] = inputs.vintage_of(a["key"], a["period"])
        elif isinstance(b, Para):
            a = b.attrs
            if a.get("src") != "series" or not a.get("period"):
                continue
            if a.get("key"):
                a["vintage"] = inputs.vintage_of(a["key"], a["period"])
                if a.get("prev"):
                    a["prev-vintage"] = inputs.vintage_of(a["key"], a["prev"])
            elif a.get("keys"):
                a["vintages"] = ",".join(inputs.vintage_of(k, a["period"]) for k in a["keys"].split(","))
        elif isinstance(b, Figure) and b.attrs.get("keys"):
            periods = json.loads(b.attrs.get("periods", "[]"))
            b.attrs["vintages"] = json.dumps({k: {p: inputs.vintage_of(k, p) for p in periods}
                                              for k in b.attrs["keys"].split(",")}, sort_keys=True)


def _write(path: Path, data: bytes, *, final: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if final and path.exists():
        raise PublicationFinalError(f"{path} exists and belongs to a final publication; it is never overwritten "
                                    "(a correction is a new edition: --correct \"note\")")
    tmp = path.with_name(path.name + ".tmp")
    if path.exists():
        os.chmod(path, 0o644)
    tmp.write_bytes(data)
    os.replace(tmp, path)
    if final:
        os.chmod(path, 0o444)


def _render(doc: Document, formats: list[str], when: dt.datetime,
            cache_dir: Path | None = None) -> tuple[dict[str, bytes], dict[str, float]]:
    from .render_html import render_html

    out: dict[str, bytes] = {}
    seconds: dict[str, float] = {}
    naive = when.replace(tzinfo=None)
    for f in formats:
        t0 = time.perf_counter()
        if f == "html":
            out[f] = render_html(doc).encode("utf-8")
        elif f == "pdf":
            from .render_pdf import render_pdf
            out[f] = render_pdf(doc, when=naive, cache_dir=cache_dir)
        else:
            from .render_docx import render_docx
            out[f] = render_docx(doc, when=naive)
        seconds[f] = time.perf_counter() - t0
    return out, seconds


def _font_cache(settings: Settings) -> Path:
    """Where the PDF renderer keeps the CJK faces it cut down (``<data_dir>/cache/fonts``)."""
    return settings.data_dir / "cache" / "fonts"


def publish(store: Store, settings: Settings, kind: str, period: str, *, lang: str | None = None,
            final: bool = False, correct: str | None = None, formats: str | Sequence[str] | None = None,
            now: dt.datetime | None = None, out_dir: Path | None = None, allow_cjk: bool = True) -> PublicationResult:
    """Build a publication from the latest data, write its files and record it.

    Parameters
    ----------
    kind
        ``pmi``, ``operations``, ``dispatch`` or ``annual``.
    period
        ``2026-10``, ``2026Q3`` or ``2025`` (the form the kind needs).
    lang
        ``zh`` or ``en`` (default: the ``language`` setting).
    final
        Make it the final first edition (refused before the release time or when already final).
    correct
        The note of a correction: the next final edition of a publication that is already final.
    formats
        Formats to write (default ``publish.formats``).
    now
        The current time (tests pin it); default the clock in ``publish.timezone``.

    Raises
    ------
    PublishError, PublicationFinalError, ReleaseTimeError, PeriodError
        With the rule broken and the fix.
    """
    t_start = time.perf_counter()
    check_kind(kind)
    lang = lang or settings["language"]
    if lang not in ("zh", "en"):
        raise PublishError(f"--lang must be zh or en; got {lang!r}")
    p = parse_period(kind, period)
    ptext = period_text(p)
    fmts = _formats(formats if formats is not None else settings["publish.formats"])
    now = now or now_in(settings)
    rows = publication_editions(store, kind=kind, period=ptext, lang=lang)
    finals = [r for r in rows if r["final"]]
    if correct is not None:
        if not correct.strip():
            raise PublishError("--correct needs a note saying what the correction changes, e.g. --correct "
                               "\"表3 白云区数据更正\"")
        if not finals:
            raise PublishError(f"{kind} {ptext} ({lang}) has no final edition to correct; make it final first "
                               f"with `imon publish {kind} {ptext} --final`")
        version, is_final = finals[-1]["version"] + 1, True
        check_final_allowed(kind, p, settings, now)
    elif final:
        if finals:
            last = finals[-1]
            raise PublicationFinalError(
                f"{kind} {ptext} ({lang}) is already final (edition {last['version']}, published "
                f"{show_time(last['published_at'], bureau_zone(settings), lang, naive='zone')}); "
                f"final publications never change: publish a correction with "
                f"`imon publish {kind} {ptext} --correct \"what changed\"`")
        check_final_allowed(kind, p, settings, now)
        version, is_final = 1, True
    else:
        if finals:
            raise PublicationFinalError(
                f"{kind} {ptext} ({lang}) is final (edition {finals[-1]['version']}); no more drafts are made for "
                f"it: correct it with `imon publish {kind} {ptext} --correct \"what changed\"`")
        version, is_final = 0, False
    t0 = time.perf_counter()
    doc, inputs = build_document(store, settings, kind, p, lang, final=is_final, edition=version,
                                 note=(correct or "").strip(), allow_cjk=allow_cjk)
    seconds = {"data": time.perf_counter() - t0}
    blobs, render_seconds = _render(doc, fmts, release_time(p, settings), _font_cache(settings))
    seconds.update(render_seconds)
    folder = (out_dir or settings.outputs_dir / "publications") / kind / ptext
    stem = f"{kind}_{ptext}_{lang}_" + (f"v{version}" if is_final else "draft")
    files = []
    for f, data in blobs.items():
        path = folder / f"{stem}.{f}"
        _write(path, data, final=is_final)
        files.append(path)
    html = blobs.get("html") or _render(doc, ["html"], release_time(p, settings))[0]["html"]
    checksum = hashlib.sha256(html).hexdigest()
    record = inputs.record()
    row = {"kind": kind, "period": ptext, "lang": lang, "version": version, "final": is_final,
           "files": json.dumps([str(f) for f in files], ensure_ascii=False), "checksum": checksum,
           "published_at": now.astimezone(release_time(p, settings).tzinfo).replace(tzinfo=None, microsecond=0),
           "release_at": release_time(p, settings).replace(tzinfo=None), "note": (correct or None),
           "inputs": json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
           "inputs_sha256": inputs.fingerprint()}
    # the vintages a final edition read never change (monitor.store.vintages)
    pub_id = record_publication(store, row, series=record["series"] if is_final else None)
    seconds["total"] = time.perf_counter() - t_start
    return PublicationResult(kind, ptext, lang, version, is_final, files, checksum, seconds, pub_id,
                             release_at=release_time(p, settings))


def rerender(store: Store, settings: Settings, publication_id: int, *, out_dir: Path | None = None,
             formats: str | Sequence[str] = ("html",), allow_cjk: bool = True) -> PublicationResult:
    """Build a stored publication again from the inputs it recorded (the vintages it used).

    The files go to ``out_dir`` (default ``<outputs>/publications/rerender``), never over the originals;
    :attr:`PublicationResult.matches` tells whether the HTML is byte-identical to the stored checksum.
    """
    row = publication_record(store, publication_id)
    if row is None:
        raise PublishError(f"no publication with id {publication_id}; `imon publish list` shows them")
    if not row["inputs"]:
        raise PublishError(f"publication {publication_id} recorded no inputs (made before migration 0006); "
                           "it cannot be re-rendered")
    p = parse_period(row["kind"], row["period"])
    fmts = _formats(formats)
    when = _stored_release(row, p, settings)
    doc, _ = build_document(store, settings, row["kind"], p, row["lang"], record=json.loads(row["inputs"]),
                            final=bool(row["final"]), edition=int(row["version"]), note=row["note"] or "",
                            allow_cjk=allow_cjk, when=when)
    blobs, seconds = _render(doc, fmts, when, _font_cache(settings))
    folder = out_dir or settings.outputs_dir / "publications" / "rerender"
    stem = f"{row['kind']}_{row['period']}_{row['lang']}_" + (f"v{row['version']}" if row["final"] else "draft")
    files = []
    for f, data in blobs.items():
        path = folder / f"{stem}.{f}"
        _write(path, data, final=False)
        files.append(path)
    html = blobs.get("html") or _render(doc, ["html"], when)[0]["html"]
    checksum = hashlib.sha256(html).hexdigest()
    return PublicationResult(row["kind"], row["period"], row["lang"], int(row["version"]), bool(row["final"]), files,
                             checksum, seconds, publication_id, matches=checksum == row["checksum"], release_at=when)


def _stored_release(row: Any, period: pd.Period, settings: Settings) -> dt.datetime:
    """The release time stored with a publication (in ``publish.timezone``), not today's configuration's; the
    configured one only for rows made before migration 0006 recorded it."""
    configured = release_time(period, settings)
    stored = row["release_at"]
    if stored is None:
        return configured
    if isinstance(stored, str):
        stored = dt.datetime.fromisoformat(stored)
    return stored.replace(tzinfo=configured.tzinfo)


def list_publications(store: Store) -> pd.DataFrame:
    """The publication table without the recorded inputs, newest first."""
    return publication_list(store)
