"""PDF of a publication: its HTML (with paged-media CSS) laid out by WeasyPrint.

Fonts.  WeasyPrint subsets every font it embeds.  With HarfBuzz's subsetter (Debian ``libharfbuzz-subset0``,
which ``make`` installs) that takes milliseconds, and the installed faces are used as they are (Noto Serif CJK
SC for the text, Noto Sans CJK SC for headings and tables, as in the HTML).  Without it WeasyPrint falls back
to fontTools, which for the 65,000-glyph CFF fonts of ``fonts-noto-cjk`` takes about 20 s per face; so then
Noto Sans CJK SC (regular and bold) is first cut down with fontTools to the characters this document uses
(1-2 s per face, kept in ``cache_dir`` so the same document costs nothing the next time) and handed to
WeasyPrint as ``@font-face`` data (family ``imon-cjk``).

WeasyPrint is pure Python over Pango (Debian ``libpango-1.0-0``, ``libpangoft2-1.0-0``; ``make`` and
``.ci/run`` install them when missing) and finds the CJK fonts through fontconfig.  It is imported only
here, when a PDF is asked for.  The PDF's metadata dates are pinned to the publication's release time, so
re-rendering gives the same file.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import io
import logging
import os
import re
from pathlib import Path

from ..exceptions import PublishError
from .document import Document
from .render_html import render_html

__all__ = ["render_pdf", "cjk_font_files", "fast_subsetting", "own_assets_fetcher"]


def own_assets_fetcher():  # type: ignore[no-untyped-def]
    """The URL fetcher of every PDF: only the platform's own assets, which the HTML carries inline as ``data:``
    URIs (charts, fonts).  ``file://`` (a server file such as ``/etc/hostname``), ``http(s)://`` and every other
    scheme are refused, so a name in the register holding a link or an image cannot pull anything into the PDF
    or make the server call out; WeasyPrint logs the refusal and leaves the resource out."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


@functools.lru_cache(maxsize=1)
def fast_subsetting() -> bool:
    """True when WeasyPrint subsets fonts with HarfBuzz (Debian ``libharfbuzz-subset0``): then the installed
    CJK fonts are used as they are, found by fontconfig, and cut to the glyphs used in milliseconds."""
    try:
        from weasyprint.text.ffi import harfbuzz, harfbuzz_subset
    except (ImportError, OSError):
        return False
    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


@functools.lru_cache(maxsize=1)
def cjk_font_files() -> dict[int, tuple[str, int]]:
    """``{weight: (file, index in the collection)}`` of Noto Sans CJK SC (400 and 700), as installed."""
    from fontTools.ttLib import TTCollection

    from ..fonts import installed_fonts

    found: dict[int, tuple[str, int]] = {}
    for entry in installed_fonts():
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


#: Tables dropped before subsetting: layout and vertical metrics are not used for horizontal CJK text, and
#: reading GSUB alone costs about 0.4 s per face.
_DROP_TABLES = ["GSUB", "GPOS", "GDEF", "BASE", "JSTF", "VORG", "vhea", "vmtx", "DSIG"]
#: Bump when the subsetting options change (part of the cache key).
_SUBSET_VERSION = "2"


def _subset_face(path: str, index: int, chars: str, cache_dir: Path | None) -> bytes:
    """Noto Sans CJK SC face ``(path, index)`` cut down to ``chars``; cached in ``cache_dir`` by the font file,
    the characters and the options, so building the same publication again costs nothing here."""
    stat = os.stat(path)
    key = hashlib.sha256(f"{_SUBSET_VERSION}|{path}|{stat.st_size}|{stat.st_mtime_ns}|{index}|{chars}"
                         .encode()).hexdigest()[:24]
    cached = cache_dir / f"cjk-{key}.otf" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        return cached.read_bytes()
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, lazy=True)
    options = subset.Options()
    options.layout_features = []
    options.drop_tables = list(options.drop_tables) + _DROP_TABLES
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.hinting = False
    options.desubroutinize = True
    sub = subset.Subsetter(options)
    sub.populate(text=chars)
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    data = buf.getvalue()
    if cached is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, cached)
            _prune(cache_dir)  # type: ignore[arg-type]
        except OSError:
            pass  # a cache that cannot be written only costs time
    return data


def _prune(cache_dir: Path, keep: int = 200) -> None:
    files = sorted(cache_dir.glob("cjk-*.otf"), key=lambda f: f.stat().st_mtime, reverse=True)
    for f in files[keep:]:
        f.unlink(missing_ok=True)


def _font_css(html: str, cache_dir: Path | None = None) -> str:
    """``@font-face`` rules with Noto Sans CJK SC cut down to the characters of ``html``; "" without it."""
    files = cjk_font_files()
    if not files:
        return ""
    text = re.sub(r"data:[^\"]*", "", html)
    chars = "".join(sorted(set(text) | {chr(c) for c in range(32, 127)} | set("0123456789/ ")))
    rules = []
    for weight, (path, index) in sorted(files.items()):
        data = base64.b64encode(_subset_face(path, index, chars, cache_dir)).decode("ascii")
        rules.append(f'@font-face {{ font-family: "imon-cjk"; font-weight: {weight}; '
                     f'src: url(data:font/otf;base64,{data}) format("opentype"); }}')
    return "\n".join(rules)


def render_pdf(doc: Document, *, when: dt.datetime | None = None, cache_dir: Path | None = None) -> bytes:
    """The publication as PDF bytes (``cache_dir``: where the cut-down CJK faces are kept between runs).

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
    css = "" if fast_subsetting() else _font_css(html, cache_dir)
    if css:
        html = render_html(doc, for_pdf=True, font_css=css)
    stamp = (when.isoformat(timespec="seconds") if when is not None and when.tzinfo is not None else
             (when or dt.datetime(2000, 1, 1)).strftime("%Y-%m-%dT%H:%M:%S+08:00"))  # its true offset when known
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=own_assets_fetcher()).render()
    document.metadata.title = doc.title
    document.metadata.authors = [doc.issuer]
    document.metadata.created = stamp
    document.metadata.modified = stamp
    document.metadata.generator = "industry-monitor"
    # the embedded CJK faces are already cut to this document's characters: embed them as they are
    return document.write_pdf(full_fonts=bool(css))
