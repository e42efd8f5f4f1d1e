"""matplotlib's list of installed fonts, refreshed once when it predates a CJK font installed since.

matplotlib caches the system's fonts in ``<cachedir>/fontlist-*.json`` the first time it runs and reads that
file afterwards. A bureau that installs ``fonts-noto-cjk`` after a first run (as ``make demo`` does when the font
is missing, or after reading the publications' "no Chinese font" note) would otherwise keep publishing charts
without Chinese glyphs until somebody deletes that cache by hand.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

__all__ = ["installed_fonts"]

log = logging.getLogger(__name__)


def _has_cjk(entries: list[Any]) -> bool:
    return any("CJK" in entry.name or "Han Sans" in entry.name for entry in entries)


@functools.lru_cache(maxsize=1)
def _refreshed() -> bool:
    """Rebuild matplotlib's font list (and its cache file) if a CJK font file is installed that it does not know."""
    from pathlib import Path

    import matplotlib
    from matplotlib import font_manager

    if _has_cjk(font_manager.fontManager.ttflist):
        return False
    files = [f for f in font_manager.findSystemFonts() if "cjk" in Path(f).name.lower()
             or "hansans" in Path(f).name.lower().replace("-", "")]
    if not files:
        return False
    fresh = font_manager.FontManager()
    if not _has_cjk(fresh.ttflist):
        return False
    font_manager.fontManager = fresh
    try:
        cache = Path(matplotlib.get_cachedir()) / f"fontlist-v{font_manager.FontManager.__version__}.json"
        font_manager.json_dump(fresh, cache)
    except OSError as exc:  # a read-only cache folder: this process still sees the fonts
        log.info("could not rewrite matplotlib's font cache (%s)", exc)
    log.info("matplotlib's font list predated the installed CJK fonts (%s); rebuilt it", Path(files[0]).name)
    return True


def installed_fonts() -> list[Any]:
    """matplotlib's ``fontManager.ttflist``, rebuilt once per process if it misses an installed CJK font."""
    from matplotlib import font_manager

    _refreshed()
    return list(font_manager.fontManager.ttflist)
