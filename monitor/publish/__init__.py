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
from .charts import find_cjk_font
from .check import CHECKS, check_publication
from .common import KINDS, district_name, industry_name, question_name, sector_name, size_name
from .dispatch import INDICATOR_NAMES
from .pmi import PMI_TABLE_BREAKDOWNS, pmi_table
from .release import now_in, parse_period

__all__ = ["publish", "rerender", "build_document", "list_publications", "PublicationResult", "KINDS", "FORMATS",
           "pmi_table", "PMI_TABLE_BREAKDOWNS", "check_publication", "CHECKS", "parse_period", "now_in",
           "find_cjk_font", "INDICATOR_NAMES", "question_name", "district_name", "size_name", "sector_name",
           "industry_name"]
