"""DOCX of a publication, with python-docx: offices edit and forward Word documents.

The same :class:`~monitor.publish.document.Document` as the HTML: headings, paragraphs, tables (with
lamp colours as cell shading), the charts as the same PNG images.  East-Asian text gets a CJK font name
(``w:eastAsia``) so Word picks a Chinese face.  Core properties (dates, author, revision) and the zip entries'
dates are pinned to the publication's release time, so the file depends on the document only.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from collectors.cells import neutralise

from ..exceptions import PublishError
from .document import Document, Figure, Para, Section, Table

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Text Word can hold: characters XML 1.0 forbids (a NUL, an escape in a name from outside) become U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(text))

__all__ = ["render_docx"]

_LAMP_FILL = {"lamp-blue": "5B8BD0", "lamp-light_blue": "AED3F2", "lamp-green": "7DC87D", "lamp-yellow": "F5D76E",
              "lamp-red": "E06666"}
_CJK = "Noto Serif CJK SC"
_CJK_SANS = "Noto Sans CJK SC"


def _east_asian(run, name: str) -> None:  # type: ignore[no-untyped-def]
    from docx.oxml.ns import qn

    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)


def _shade(cell, fill: str) -> None:  # type: ignore[no-untyped-def]
    from docx.oxml.ns import qn

    tcpr = cell._element.get_or_add_tcPr()
    shd = tcpr.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): fill})
    tcpr.append(shd)


def render_docx(doc: Document, *, when: dt.datetime | None = None) -> bytes:
    """The publication as DOCX bytes.

    Raises
    ------
    PublishError
        When python-docx is not installed.
    """
    try:
        import docx
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm, Pt, RGBColor
    except ImportError as exc:
        raise PublishError(f"DOCX output needs python-docx ({exc}); install it with `pip install -e .`") from None
    d = docx.Document()
    stamp = when or dt.datetime(2000, 1, 1)
    props = d.core_properties
    props.title, props.author, props.last_modified_by = _xml_text(doc.title), _xml_text(doc.issuer), \
        _xml_text(doc.issuer)
    props.created = props.modified = stamp
    props.revision = max(1, doc.edition)
    props.comments = ""
    sec = d.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    sec.left_margin = sec.right_margin = Cm(2.0)
    sec.top_margin = sec.bottom_margin = Cm(2.0)
    normal = d.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(10.5)
    zh = doc.lang == "zh"

    def para(text: str, *, size: float | None = None, bold: bool = False, align=None, colour=None,  # type: ignore[no-untyped-def]
             indent: bool = False, style: str | None = None, font: str = _CJK):
        p = d.add_paragraph(style=style)
        run = p.add_run(_xml_text(text))
        _east_asian(run, font)
        if size:
            run.font.size = Pt(size)
        run.bold = bold or None
        if colour:
            run.font.color.rgb = RGBColor.from_string(colour)
        if align is not None:
            p.alignment = align
        if indent and zh:
            p.paragraph_format.first_line_indent = Pt(21)
        return p

    para(doc.title, size=16, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, font=_CJK_SANS)
    para(doc.issuer, size=10, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(doc.release_line, size=10, align=WD_ALIGN_PARAGRAPH.CENTER)
    if doc.label:
        para(doc.label, bold=True, colour="BB0000", align=WD_ALIGN_PARAGRAPH.CENTER)
    if doc.correction_note:
        para(doc.correction_note, colour="BB0000")
    for n in doc.notices:
        para(n, size=9, colour="8A5A00")

    def table(t: Table) -> None:
        para(t.caption, bold=True, size=10, align=WD_ALIGN_PARAGRAPH.CENTER, font=_CJK_SANS)
        tb = d.add_table(rows=1, cols=len(t.header))
        tb.style = "Table Grid"
        tb.alignment = WD_TABLE_ALIGNMENT.CENTER
        # cells are reached row by row: Table.cell(i, j) rebuilds the grid on every call (quadratic)
        for h, cell in zip(t.header, tb.rows[0].cells):
            run = cell.paragraphs[0].add_run(_xml_text(h))
            run.bold = True
            run.font.size = Pt(8.5)
            _east_asian(run, _CJK_SANS)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            _shade(cell, "EEF1F5")
        for row in t.rows:
            for c, cell in zip(row, tb.add_row().cells):
                text = c.text if c.css == "num" else neutralise(_xml_text(c.text), numeric_start_ok=True)
                run = cell.paragraphs[0].add_run(text)  # data, never a formula once pasted into a spreadsheet
                run.font.size = Pt(8.5)
                _east_asian(run, _CJK_SANS)
                if c.css == "num":
                    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
                elif c.css in _LAMP_FILL:
                    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
                    _shade(cell, _LAMP_FILL[c.css])
        if t.note:
            para(t.note, size=8.5)

    def block(b: object, level: int) -> None:
        if isinstance(b, Para):
            if b.kind == "note":
                para(b.text, size=9)
            elif b.kind == "item":
                para("• " + b.text)
            else:
                para(b.text, indent=True)
        elif isinstance(b, Table):
            table(b)
        elif isinstance(b, Figure):
            d.add_picture(io.BytesIO(b.png), width=Cm(16.5))
            d.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            para(b.caption, bold=True, size=10, align=WD_ALIGN_PARAGRAPH.CENTER, font=_CJK_SANS)
        elif isinstance(b, Section):
            h = d.add_heading(level=min(level, 3))
            run = h.add_run(_xml_text(b.heading))
            _east_asian(run, _CJK_SANS)
            run.font.color.rgb = RGBColor(0x11, 0x11, 0x11)
            for c in b.blocks:
                block(c, level + 1)

    for s in doc.sections:
        block(s, 1)
    buf = io.BytesIO()
    d.save(buf)
    return _pin_zip(buf.getvalue(), stamp)


def _pin_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """The same DOCX with every zip entry dated ``stamp`` (python-docx stamps them with the clock), so the
    same document gives the same bytes."""
    import zipfile

    date_time = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            pinned = zipfile.ZipInfo(info.filename, date_time=date_time)
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = info.external_attr
            dst.writestr(pinned, src.read(info.filename))
    return out.getvalue()
