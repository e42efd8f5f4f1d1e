"""Publications: the monthly PMI release, the monthly industrial-operation report, the quarterly dispatch
report and the annual summary, in Chinese (default) or English, as HTML, PDF and DOCX.

Layout of the package (one job per module): :mod:`.phrasing` (sentences from numbers), :mod:`.charts`
(matplotlib figures), :mod:`.sources` (pinned reads of the store), :mod:`.pmi`, :mod:`.operations`,
:mod:`.dispatch`, :mod:`.annual` (one builder per publication, returning a :class:`.document.Document`),
:mod:`.render_html`, :mod:`.render_pdf`, :mod:`.render_docx` (formats), :mod:`.release` (release times,
drafts, editions) and :mod:`.build` (the API below).
"""

from __future__ import annotations

from .build import FORMATS, PublicationResult, build_document, list_publications, publish, rerender
from .common import KINDS

__all__ = ["publish", "rerender", "build_document", "list_publications", "PublicationResult", "KINDS", "FORMATS"]
