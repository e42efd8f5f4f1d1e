"""The document model every publication is built into, and every format is rendered from.

A publication builder (``pmi.py``, ``operations.py``, ...) reads the store through
:class:`~monitor.publish.sources.Inputs` and returns a :class:`Document`: sections of paragraphs, tables and
figures whose text is final.  The HTML, PDF and DOCX renderers only lay it out, so the three formats always
carry the same words and numbers.

Numbers keep where they came from: a table :class:`Cell` and a :class:`Para` may carry ``attrs`` (series
key, period, source) that the HTML writes as ``data-*`` attributes, so a test can check every printed
number against the store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Union

from .phrasing import fmt

__all__ = ["Cell", "Table", "Para", "Figure", "Section", "Document", "num_cell", "text_cell", "Block", "walk",
           "chart_attrs", "flag_low_n"]


@dataclass
class Cell:
    """A table cell: its text and, for a number, where it came from."""

    text: str
    attrs: dict[str, str] = field(default_factory=dict)
    css: str = ""


def num_cell(value: float | None, *, src: str, key: str = "", period: str = "", digits: int = 1, col: str = "best",
             css: str = "") -> Cell:
    """A number cell (``—`` when missing) with its provenance."""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    attrs = {"src": src, "key": key, "period": period, "col": col, "digits": str(digits)}
    return Cell("—" if missing else fmt(value, digits), {k: v for k, v in attrs.items() if v}, css or "num")


def flag_low_n(cell: Cell, n: float | None, minimum: int, mark: str = "*") -> Cell:
    """Record the respondents behind a number cell (``data-n``) and flag it (``*``, class ``lown``) when they are
    fewer than ``minimum``."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return cell
    cell.attrs["n"] = str(int(n))
    if int(n) < minimum and cell.text != "—":
        cell.text += mark
        cell.css = (cell.css + " lown").strip()
    return cell


def chart_attrs(keys: list[str], periods: list[str], values: list[list[float]], labels: list[str]) -> dict[str, str]:
    """The record of what a figure plots: series keys, months, values (None for gaps) and the words its caption
    must contain; ``build_document`` adds the vintages read."""
    import json

    clean = [[None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 6) for v in vs]
             for vs in values]
    return {"keys": ",".join(keys), "periods": json.dumps(periods), "values": json.dumps(clean),
            "labels": json.dumps(labels, ensure_ascii=False)}


def text_cell(text: str, css: str = "") -> Cell:
    """A text cell."""
    return Cell(text, {}, css)


@dataclass
class Table:
    """A numbered table: caption, header row, body rows, optional note below."""

    caption: str
    header: list[str]
    rows: list[list[Cell]]
    note: str = ""
    widths: list[int] | None = None


@dataclass
class Para:
    """A paragraph; ``kind`` is ``p``, ``lead`` (bold lead-in), ``note`` (small print) or ``item`` (bullet)."""

    text: str
    kind: str = "p"
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Figure:
    """A chart as PNG bytes, with its caption."""

    caption: str
    png: bytes
    alt: str = ""
    attrs: dict[str, str] = field(default_factory=dict)  # what it plots (keys, periods, values, labels)


Block = Union[Para, Table, Figure, "Section"]


@dataclass
class Section:
    """A numbered section ("一、…") holding blocks and sub-sections."""

    heading: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Section:
        self.blocks.extend(blocks)
        return self


@dataclass
class Document:
    """A whole publication, ready to lay out."""

    kind: str
    period: str
    lang: str
    title: str
    issuer: str
    release_line: str
    sections: list[Section]
    status: str = "draft"  # draft | final
    edition: int = 0
    correction_note: str = ""
    notices: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """"草稿" / "第2版" style status label."""
        zh = self.lang == "zh"
        if self.status != "final":
            return "草稿（未发布）" if zh else "DRAFT (not released)"
        if self.edition > 1:
            return f"第{self.edition}版（更正）" if zh else f"Edition {self.edition} (corrected)"
        return ""


def walk(blocks: list[Block]):  # type: ignore[no-untyped-def]
    """Every paragraph, table and figure in ``blocks``, depth first."""
    for b in blocks:
        if isinstance(b, Section):
            yield from walk(b.blocks)
        else:
            yield b
