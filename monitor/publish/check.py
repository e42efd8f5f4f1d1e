"""``imon publish check``: an automated audit (审核) of a built publication before it goes out.

The audit reads the publication's HTML file, which carries a machine-readable record of every number it
prints: each number cell and sentence names its source (``data-src``: ``series``, ``official``,
``target_odds``, ``forecast``, ...), series key, period, column, printed precision and, for a computed
series, the vintage it read (``data-vintage``).  The checks, each reported as one line:

``number``
    every number equals the value it claims, read again from the store at the recorded vintage;
``sum`` / ``share``
    parts marked ``data-sum-part="g"`` add up to the cell marked ``data-sum-total="g"`` (within the printed
    rounding), shares marked ``data-share-part`` to 100;
``bounds``
    diffusion indices, shares, rates and probabilities lie in [0, 100];
``wording``
    a sentence's change ("比上月上升0.3个百分点", "up 0.3 points", "与上月持平") has the direction and size of the
    stored change, and says "基本持平" / "not significant" exactly when the change is smaller than its standard
    error (``data-se-change``);
``low-n``
    every cell of fewer than ``compute.min_respondents`` respondents (``data-n``) is flagged;
``empty``
    no table column is empty ("—" throughout) and no section says "暂无数据" / "not available" or has nothing in it;
``chart``
    every figure's plotted values (``data-values``) equal the store's, and its caption names what it plots.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..exceptions import PublishError
from ..settings import Settings
from ..store import Store
from ..store.publications import official_values, series_values_at, stored_odds
from .phrasing import fmt, round_half_up

__all__ = ["Finding", "CheckReport", "audit_html", "check_publication", "CHECKS"]

#: The checks, in the order they are reported.
CHECKS = ("number", "sum", "share", "bounds", "wording", "low-n", "empty", "chart")

_EMPTY_WORDS = ("暂无数据", "not available")
_MISSING = ("—", "")


@dataclass(frozen=True)
class Finding:
    """One failed check: which check, where in the document, what is wrong."""

    check: str
    where: str
    message: str

    def line(self) -> str:
        return f"{self.check}: {self.where}: {self.message}"


@dataclass
class CheckReport:
    """What :func:`check_publication` found."""

    kind: str
    period: str
    lang: str
    publication_id: int
    file: Path
    findings: list[Finding] = field(default_factory=list)
    counted: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings


# ---------------------------------------------------------------------------------------------- parsing
@dataclass
class _Cell:
    attrs: dict[str, str]
    text: str
    css: str


@dataclass
class _Table:
    caption: str
    header: list[str]
    rows: list[list[_Cell]]
    section: str


@dataclass
class _Para:
    attrs: dict[str, str]
    text: str
    css: str
    section: str


@dataclass
class _Figure:
    attrs: dict[str, str]
    caption: str
    section: str


class _Reader(HTMLParser):
    """The publication's sections, paragraphs, tables and figures with their ``data-*`` attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[tuple[str, int]] = []  # (heading, number of blocks)
        self.paras: list[_Para] = []
        self.tables: list[_Table] = []
        self.figures: list[_Figure] = []
        self._text: list[str] | None = None
        self._tag = ""
        self._attrs: dict[str, str] = {}
        self._table: _Table | None = None
        self._row: list[_Cell] | None = None
        self._in_head = False
        self._figure: _Figure | None = None

    def _section(self) -> str:
        return self.sections[-1][0] if self.sections else ""

    def _count(self) -> None:
        if self.sections:
            h, n = self.sections[-1]
            self.sections[-1] = (h, n + 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("h2", "h3", "p", "td", "th", "caption", "figcaption"):
            self._text, self._tag, self._attrs = [], tag, a
        if tag == "table":
            self._table = _Table("", [], [], self._section())
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and not self._in_head:
            self._row = []
        elif tag == "figure":
            self._figure = _Figure({k[5:]: v for k, v in a.items() if k.startswith("data-")}, "", self._section())

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        text = "".join(self._text or []).strip()
        data = {k[5:]: v for k, v in self._attrs.items() if k.startswith("data-")}
        if tag in ("h2", "h3") and self._text is not None:
            self.sections.append((text, 0))
        elif tag == "p" and self._text is not None and self._table is None:
            css = self._attrs.get("class", "")
            if css not in ("meta", "status", "correction", "notice"):
                self.paras.append(_Para(data, text, css, self._section()))
                self._count()
        elif tag == "caption" and self._table is not None:
            self._table.caption = text
        elif tag == "th" and self._table is not None:
            self._table.header.append(text)
        elif tag == "td" and self._row is not None:
            self._row.append(_Cell(data, text, self._attrs.get("class", "")))
        elif tag == "thead":
            self._in_head = False
        elif tag == "tr" and self._row is not None and self._table is not None:
            self._table.rows.append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            self.tables.append(self._table)
            self._count()
            self._table = None
        elif tag == "figcaption" and self._figure is not None:
            self._figure.caption = text
        elif tag == "figure" and self._figure is not None:
            self.figures.append(self._figure)
            self._count()
            self._figure = None
        if tag in ("h2", "h3", "p", "td", "th", "caption", "figcaption"):
            self._text = None


# ---------------------------------------------------------------------------------------------- values
def _number(text: str) -> float | None:
    """The number a cell prints (``—`` and flags aside): ``50.6``, ``-1.63``, ``85*`` -> 85."""
    m = re.search(r"-?\d+(?:\.\d+)?", text.replace(",", ""))
    return None if m is None else float(m.group(0))


class _Store:
    """The store values the publication's records point to, read in a few queries."""

    def __init__(self, store: Store, cells: list[dict[str, str]]) -> None:
        self.store = store
        triples = [(a["key"], a["period"], a["vintage"]) for a in cells
                   if a.get("src") == "series" and a.get("key") and a.get("period") and a.get("vintage")]
        self.series = series_values_at(store, triples)
        officials = []
        for a in cells:
            if a.get("src") == "official" and "@" in a.get("key", "") and a.get("period"):
                s, r = a["key"].rsplit("@", 1)
                officials.append((s, r, a["period"]))
        self.official = official_values(store, officials)

    def value(self, a: dict[str, str]) -> float | None | bool:
        """The store's value for a record; False when the record cannot be checked against the store."""
        src, key, period = a.get("src"), a.get("key", ""), a.get("period", "")
        col = a.get("col", "best")
        if src == "series":
            if not a.get("vintage"):
                return False
            row = self.series.get((key, period, a["vintage"]))
            if row is None:
                return None
            if col == "best":
                v = row["sa"] if row["sa"] is not None and not _nan(row["sa"]) else row["raw"]
            else:
                v = row.get(col)
            return None if v is None or _nan(v) else float(v)
        if src == "official" and "@" in key:
            s, r = key.rsplit("@", 1)
            return self.official.get((s, r, period))
        if src == "target_odds" and "@" in key and a.get("origin"):
            ind, region = key.rsplit("@", 1)
            p = stored_odds(self.store, year=int(a.get("year") or period[:4]), indicator=ind, region=region,
                            origin=a["origin"])
            return None if p is None else p * 100
        return False


def _nan(v: Any) -> bool:
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return True


# ---------------------------------------------------------------------------------------------- checks
_BOUNDED = re.compile(r"^(pmi/|problems/|response_rate)")


def _where(t: _Table | _Para | _Figure, detail: str = "") -> str:
    name = t.caption if isinstance(t, (_Table, _Figure)) else (t.section or "text")
    return f"{name}{(' / ' + detail) if detail else ''}"


def _check_numbers(doc: _Reader, values: _Store, out: list[Finding], counted: dict[str, int]) -> None:
    for t in doc.tables:
        for row in t.rows:
            label = row[0].text if row else ""
            for j, c in enumerate(row):
                if "src" not in c.attrs or c.text in _MISSING:
                    continue
                expected = values.value(c.attrs)
                if expected is False:
                    continue
                counted["number"] = counted.get("number", 0) + 1
                digits = int(c.attrs.get("digits", "1"))
                scale = float(c.attrs.get("scale", "1"))
                head = t.header[j] if j < len(t.header) else str(j)
                printed = _number(c.text)
                if expected is None:
                    out.append(Finding("number", _where(t, f"{label} / {head}"),
                                       f"prints {c.text} but the store has no value for {c.attrs.get('key')} "
                                       f"{c.attrs.get('period')}"))
                elif printed is None or fmt(expected / scale, digits) != fmt(printed, digits):
                    out.append(Finding("number", _where(t, f"{label} / {head}"),
                                       f"prints {c.text}, the store has {fmt(expected / scale, digits)} "
                                       f"({c.attrs.get('key')} {c.attrs.get('period')})"))
    for p in doc.paras:
        keys = [k for k in (p.attrs.get("key"), *p.attrs.get("keys", "").split(",")) if k]
        if p.attrs.get("src") != "series" or not keys or not p.attrs.get("vintages") and not p.attrs.get("vintage"):
            continue
        vintages = (p.attrs.get("vintages") or p.attrs.get("vintage", "")).split(",")
        for key, vintage in zip(keys, vintages):
            expected = values.value({"src": "series", "key": key, "period": p.attrs.get("period", ""),
                                     "vintage": vintage, "col": p.attrs.get("col", "best")})
            if expected in (False, None):
                continue
            counted["number"] = counted.get("number", 0) + 1
            digits = int(p.attrs.get("digits", "1"))  # "下降3.1%" prints the size of a negative rate
            if fmt(expected, digits) not in p.text and fmt(abs(expected), digits) not in p.text:
                out.append(Finding("number", _where(p, key), f"the sentence does not print the stored value "
                                                             f"{fmt(expected)} of {key} {p.attrs.get('period')}"))


def _check_sums(doc: _Reader, out: list[Finding], counted: dict[str, int]) -> None:
    for t in doc.tables:
        for kind, target in (("sum", None), ("share", 100.0)):
            parts: dict[str, list[tuple[float, int]]] = {}
            totals: dict[str, tuple[float, int]] = {}
            for row in t.rows:
                for c in row:
                    v = _number(c.text) if c.text not in _MISSING else None
                    digits = int(c.attrs.get("digits", "1"))
                    g = c.attrs.get(f"{kind}-part")
                    if g and v is not None:
                        parts.setdefault(g, []).append((v, digits))
                    g = c.attrs.get(f"{kind}-total")
                    if g and v is not None:
                        totals[g] = (v, digits)
            for g, items in parts.items():
                total = target if target is not None else totals.get(g, (None, 1))[0]
                if total is None:
                    continue
                counted[kind] = counted.get(kind, 0) + 1
                digits = max([d for _, d in items] + [totals.get(g, (0, 1))[1]])
                tol = 0.5 * 10 ** -digits * (len(items) + 1) + 1e-9
                got = sum(v for v, _ in items)
                if abs(got - total) > tol:
                    out.append(Finding(kind, _where(t, g), f"the {len(items)} parts add up to {got:.{digits}f}, "
                                                           f"not {total:.{digits}f}"))


def _check_bounds(doc: _Reader, out: list[Finding], counted: dict[str, int]) -> None:
    for t in doc.tables:
        for row in t.rows:
            for c in row:
                key, col = c.attrs.get("key", ""), c.attrs.get("col", "best")
                bounded = (c.attrs.get("src") == "series" and _BOUNDED.match(key) and col in ("best", "raw", "sa")) \
                    or c.attrs.get("bounds") == "0,100" or c.attrs.get("src") == "target_odds" \
                    or c.attrs.get("share-part")
                v = _number(c.text) if c.text not in _MISSING else None
                if not bounded or v is None:
                    continue
                counted["bounds"] = counted.get("bounds", 0) + 1
                if not 0.0 <= v <= 100.0:
                    out.append(Finding("bounds", _where(t, row[0].text), f"{key or 'value'} prints {c.text}, "
                                                                        "outside 0-100"))


_CHANGE_ZH = re.compile(r"比上月(上升|下降)(\d+(?:\.\d+)?)个百分点|与上月(持平)")
_CHANGE_EN = re.compile(r"\b(up|down) (\d+(?:\.\d+)?) points? from the previous month|(unchanged) from the previous month")
_NOT_SIG = ("基本持平", "not significant")


def _check_wording(doc: _Reader, values: _Store, out: list[Finding], counted: dict[str, int]) -> None:
    for p in doc.paras:
        a = p.attrs
        if a.get("src") != "series" or not a.get("key") or not a.get("prev") or not a.get("vintage"):
            continue
        cur = values.value({"src": "series", "key": a["key"], "period": a.get("period", ""), "vintage": a["vintage"]})
        before = values.value({"src": "series", "key": a["key"], "period": a["prev"],
                               "vintage": a.get("prev-vintage", a["vintage"])})
        if cur in (None, False) or before in (None, False):
            continue
        m = (_CHANGE_ZH if re.search(r"[\u4e00-\u9fff]", p.text) else _CHANGE_EN).search(p.text)
        if m is None:
            continue
        counted["wording"] = counted.get("wording", 0) + 1
        change = round_half_up(round_half_up(cur) - round_half_up(before))  # type: ignore[arg-type]
        said_flat = m.group(3) is not None
        said = 0.0 if said_flat else float(m.group(2)) * (1 if m.group(1) in ("上升", "up") else -1)
        if said != change:
            out.append(Finding("wording", _where(p, a["key"]),
                               f"says a change of {said:+.1f}, the stored values give {change:+.1f} "
                               f"({fmt(cur)} against {fmt(before)})"))
        se = a.get("se-change")
        if se:
            insignificant = change != 0 and abs(change) < float(se)
            says = any(w in p.text for w in _NOT_SIG)
            if insignificant != says:
                out.append(Finding("wording", _where(p, a["key"]),
                                   f"a change of {change:+.1f} with standard error {float(se):.2f} must "
                                   f"{'' if insignificant else 'not '}be described as not significant"))


def _check_low_n(doc: _Reader, minimum: int, out: list[Finding], counted: dict[str, int]) -> None:
    for t in doc.tables:
        for row in t.rows:
            for c in row:
                n = c.attrs.get("n")
                if not n or c.text in _MISSING:
                    continue
                counted["low-n"] = counted.get("low-n", 0) + 1
                low = float(n) < minimum
                flagged = "lown" in c.css.split() and "*" in c.text
                if low and not flagged:
                    out.append(Finding("low-n", _where(t, row[0].text),
                                       f"{c.attrs.get('key', 'value')} rests on {n} respondents (< {minimum}) but "
                                       "is not flagged"))
                elif flagged and not low:
                    out.append(Finding("low-n", _where(t, row[0].text),
                                       f"{c.attrs.get('key', 'value')} is flagged but rests on {n} respondents"))


def _check_empty(doc: _Reader, out: list[Finding], counted: dict[str, int]) -> None:
    for heading, blocks in doc.sections:
        counted["empty"] = counted.get("empty", 0) + 1
        if blocks == 0:
            # a section heading followed directly by a sub-section is not empty
            subs = [h for h, _ in doc.sections]
            i = subs.index(heading)
            if i + 1 >= len(subs) or not re.match(r"^[（(]", subs[i + 1]):
                out.append(Finding("empty", heading, "the section is empty"))
    for p in doc.paras:
        if any(w in p.text for w in _EMPTY_WORDS):
            out.append(Finding("empty", _where(p), f"says {p.text[:60]!r}: a section without data"))
    for t in doc.tables:
        if not t.rows:
            out.append(Finding("empty", _where(t), "the table has no rows"))
            continue
        for j, head in enumerate(t.header):
            cells = [r[j].text for r in t.rows if j < len(r)]
            if cells and all(x in _MISSING for x in cells):
                out.append(Finding("empty", _where(t, head), "the column is empty"))


def _check_charts(doc: _Reader, values: _Store, out: list[Finding], counted: dict[str, int]) -> None:
    for f in doc.figures:
        a = f.attrs
        if not a.get("keys"):
            out.append(Finding("chart", _where(f), "the figure records no series it plots"))
            continue
        counted["chart"] = counted.get("chart", 0) + 1
        for label in json.loads(a.get("labels", "[]")):
            if label and label not in f.caption:
                out.append(Finding("chart", _where(f), f"the caption does not name what is plotted ({label})"))
        periods = json.loads(a.get("periods", "[]"))
        vintages = json.loads(a.get("vintages", "{}"))
        for key, series in zip(a["keys"].split(","), json.loads(a.get("values", "[]"))):
            if key not in vintages:
                continue
            for period, v in zip(periods, series):
                stored = values.value({"src": "series", "key": key, "period": period, "vintage": vintages[key].get(
                    period, "")})
                if isinstance(stored, bool):  # False: not checkable against the store
                    continue
                if v is None or stored is None:
                    differs = (v is None) != (stored is None)
                else:
                    differs = abs(float(v) - stored) > 1e-6
                if differs:
                    out.append(Finding("chart", _where(f, f"{key} {period}"),
                                       f"plots {v}, the store has {stored}"))


def audit_html(html: str, store: Store, *, min_respondents: int) -> tuple[list[Finding], dict[str, int]]:
    """Run every check of the module docstring on one publication's HTML; returns the findings and how many
    items each check looked at."""
    doc = _Reader()
    doc.feed(html)
    doc.close()
    cells = [c.attrs for t in doc.tables for r in t.rows for c in r]
    cells += [{"src": "series", "key": k, "period": p.attrs.get("period", ""), "vintage": v}
              for p in doc.paras for k, v in zip(
                  [k for k in (p.attrs.get("key"), *p.attrs.get("keys", "").split(",")) if k],
                  (p.attrs.get("vintages") or p.attrs.get("vintage", "")).split(","))]
    cells += [{"src": "series", "key": p.attrs.get("key", ""), "period": p.attrs.get("prev", ""),
               "vintage": p.attrs.get("prev-vintage", p.attrs.get("vintage", ""))} for p in doc.paras if p.attrs.get("prev")]
    for f in doc.figures:
        periods = json.loads(f.attrs.get("periods", "[]"))
        for key, by in json.loads(f.attrs.get("vintages", "{}")).items():
            cells += [{"src": "series", "key": key, "period": q, "vintage": by.get(q, "")} for q in periods]
    values = _Store(store, cells)
    out: list[Finding] = []
    counted: dict[str, int] = {}
    _check_numbers(doc, values, out, counted)
    _check_sums(doc, out, counted)
    _check_bounds(doc, out, counted)
    _check_wording(doc, values, out, counted)
    _check_low_n(doc, min_respondents, out, counted)
    _check_empty(doc, out, counted)
    _check_charts(doc, values, out, counted)
    order = {c: i for i, c in enumerate(CHECKS)}
    return sorted(out, key=lambda f: order.get(f.check, 99)), counted


def check_publication(store: Store, settings: Settings, kind: str, period: str, *, lang: str | None = None,
                      publication_id: int | None = None) -> CheckReport:
    """Audit the newest built edition (or draft) of ``kind`` ``period`` in ``lang`` (its HTML file).

    Raises
    ------
    PublishError
        When no such publication was built, or its HTML file is gone.
    """
    from ..store.publications import publication_editions
    from .release import check_kind, parse_period, period_text

    check_kind(kind)
    lang = lang or settings["language"]
    ptext = period_text(parse_period(kind, period))
    rows = publication_editions(store, kind=kind, period=ptext, lang=lang)
    if publication_id is not None:
        rows = [r for r in rows if r["id"] == publication_id]
    if not rows:
        raise PublishError(f"no {kind} {ptext} ({lang}) has been built; build it first with "
                           f"`imon publish {kind} {ptext} --lang {lang} --format html`")
    row = rows[-1]
    html_files = [Path(f) for f in json.loads(row["files"]) if str(f).endswith(".html")]
    if not html_files or not html_files[0].is_file():
        raise PublishError(f"{kind} {ptext} ({lang}, publication {row['id']}) has no HTML file on disk "
                           f"({', '.join(map(str, html_files)) or 'none written'}); the audit reads the HTML: "
                           f"build it with --format html")
    findings, counted = audit_html(html_files[0].read_text(encoding="utf-8"), store,
                                   min_respondents=int(settings["compute.min_respondents"]))
    return CheckReport(kind, ptext, lang, int(row["id"]), html_files[0], findings, counted)
