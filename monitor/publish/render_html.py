"""HTML of a :class:`~monitor.publish.document.Document`: one self-contained file (CSS inline, charts as
base64 PNG data URIs), rendered by a Jinja2 template with autoescaping.  The same HTML, with its print CSS,
is what WeasyPrint lays out as the PDF.

The output is deterministic: it depends on the document only (no clock, no random ids, attributes in a
fixed order).
"""

from __future__ import annotations

import functools

from .charts import png_data_uri
from .document import Document, Figure, Para, Section, Table

__all__ = ["render_html", "css_string"]


def css_string(value: object) -> object:
    """``value`` as the body of a double-quoted CSS string: quotes, backslashes, angle brackets, ampersands and
    control characters written as CSS escapes, so a setting or name cannot end the string or the ``<style>``."""
    from markupsafe import Markup

    out = []
    for ch in str(value):
        if ch in '"\\<>&\'' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup("".join(out))


@functools.lru_cache(maxsize=1)
def _environment():  # type: ignore[no-untyped-def]
    from jinja2 import Environment, PackageLoader, StrictUndefined

    # autoescape=True for every template whatever its file name (``select_autoescape(["html"])`` does not match
    # ``.html.j2``): text from the register or the store can never become markup.
    env = Environment(loader=PackageLoader("monitor.publish", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["data_uri"] = png_data_uri
    env.filters["css_string"] = css_string
    env.tests["para"] = lambda b: isinstance(b, Para)
    env.tests["table"] = lambda b: isinstance(b, Table)
    env.tests["figure"] = lambda b: isinstance(b, Figure)
    env.tests["section"] = lambda b: isinstance(b, Section)
    return env


def render_html(doc: Document, *, for_pdf: bool = False, font_css: str = "") -> str:
    """The publication as one HTML page.

    ``for_pdf`` adds the paged-media header/footer rules; ``font_css`` (``@font-face`` rules of a family
    ``imon-cjk``, see :mod:`.render_pdf`) puts that family first.
    """
    template = _environment().get_template("publication.html.j2")
    return template.render(doc=doc, for_pdf=for_pdf, font_css=font_css)
