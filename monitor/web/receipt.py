"""The receipt as a PDF: the receipt page laid out by WeasyPrint (imported only when a PDF is asked for)."""

from __future__ import annotations

__all__ = ["html_to_pdf"]


def html_to_pdf(html: str) -> bytes:
    """A PDF of a self-contained HTML page (its CSS inline; no URL is fetched)."""
    from weasyprint import HTML

    def no_fetch(url: str, *args: object, **kwargs: object) -> dict:
        raise ValueError(f"the receipt fetches nothing ({url[:40]})")

    return HTML(string=html, url_fetcher=no_fetch).write_pdf()
