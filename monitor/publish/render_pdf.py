"""PDF of a publication: its HTML (with paged-media CSS) laid out by WeasyPrint.

Fonts.  WeasyPrint subsets every font it embeds keeping the glyph ids, which for the 65,000-glyph CFF
fonts of ``fonts-noto-cjk`` takes about 20 s per face.  So the CJK face (Noto Sans CJK SC, regular and
bold) is first cut down with fontTools to the characters this document uses (about 1 s per face) and
handed to WeasyPrint as ``@font-face`` data (family ``imon-cjk``); without those files the system fonts
are used as they are (slower).

WeasyPrint is pure Python over Pango (Debian ``libpango-1.0-0``, ``libpangoft2-1.0-0``; ``make`` and
``.ci/run`` install them when missing) and finds the CJK fonts through fontconfig.  It is imported only
here, when a PDF is asked for.  The PDF's metadata dates are pinned to the publication's release time, so
re-rendering gives the same file.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import logging
import re

from ..exceptions import PublishError
from .document import Document
from .render_html import render_html

__all__ = ["render_pdf", "cjk_font_files"]


@functools.lru_cache(maxsize=1)
def cjk_font_files() -> dict[int, tuple[str, int]]:
    """``{weight: (file, index in the collection)}`` of Noto Sans CJK SC (400 and 700), as installed."""
    from fontTools.ttLib import TTCollection
    from matplotlib import font_manager

    found: dict[int, tuple[str, int]] = {}
    for entry in font_manager.fontManager.ttflist:
        if entry.name == "Noto Sans CJK SC" and entry.weight in (400, 700, "normal", "bold"):
            weight = 700 if entry.weight in (700, "bold") else 400
            if weight in found:
                continue
            index = 0
            if entry.fname.lower().endswith(".ttc"):
                names = [f["name"].getDebugName(1) for f in TTCollection(entry.fname, lazy=True).fonts]
                index = next((i for i, n in enumerate(names) if n == "Noto Sans CJK SC"), 0)
            found[weight] = (entry.fname, index)
    return found


def _font_css(html: str) -> str:
    """``@font-face`` rules with Noto Sans CJK SC cut down to the characters of ``html``; "" without it."""
    files = cjk_font_files()
    if not files:
        return ""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    text = re.sub(r"data:[^\"]*", "", html)
    chars = "".join(sorted(set(text) | {chr(c) for c in range(32, 127)} | set("0123456789/ ")))
    rules = []
    for weight, (path, index) in sorted(files.items()):
        font = TTFont(path, fontNumber=index, lazy=True)
        options = subset.Options()
        options.layout_features = []
        options.notdef_outline = True
        options.name_IDs = ["*"]
        options.hinting = False
        options.desubroutinize = True
        sub = subset.Subsetter(options)
        sub.populate(text=chars)
        sub.subset(font)
        buf = io.BytesIO()
        font.save(buf)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        rules.append(f'@font-face {{ font-family: "imon-cjk"; font-weight: {weight}; '
                     f'src: url(data:font/otf;base64,{data}) format("opentype"); }}')
    return "\n".join(rules)


def render_pdf(doc: Document, *, when: dt.datetime | None = None) -> bytes:
    """The publication as PDF bytes.

    Raises
    ------
    PublishError
        When WeasyPrint or its Pango libraries are missing (the message names the packages to install).
    """
    try:
        import weasyprint
    except (ImportError, OSError) as exc:
        raise PublishError(f"PDF output needs WeasyPrint and the Pango libraries ({exc}); install them with "
                           "`pip install -e .` and `apt-get install libpango-1.0-0 libpangoft2-1.0-0`, "
                           "or publish --format html,docx") from None
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    html = render_html(doc, for_pdf=True)
    css = _font_css(html)
    if css:
        html = render_html(doc, for_pdf=True, font_css=css)
    stamp = (when or dt.datetime(2000, 1, 1)).strftime("%Y-%m-%dT%H:%M:%S+08:00")
    document = weasyprint.HTML(string=html).render()
    document.metadata.title = doc.title
    document.metadata.authors = [doc.issuer]
    document.metadata.created = stamp
    document.metadata.modified = stamp
    document.metadata.generator = "industry-monitor"
    # the embedded CJK faces are already cut to this document's characters: embed them as they are
    return document.write_pdf(full_fonts=bool(css))
