"""HTML to PDF with WeasyPrint: the one place the product calls it.

The documents name the Noto CJK fonts installed on the machine (``Noto Serif CJK SC``, ``Noto Sans CJK
SC``); WeasyPrint embeds the subset of each font a document uses, so the PDF reads the same on a machine
without them. Rendering one page takes about a tenth of a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from weasyprint import CSS, HTML  # type: ignore[import-untyped]  # WeasyPrint ships no type information
from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]


@dataclass(frozen=True)
class Rendered:
    data: bytes
    pages: int


def render(html: str, stylesheet: str | None = None) -> Rendered:
    """The PDF of a self-contained HTML document (its styles inline, or ``stylesheet``) and its page count:
    no URL is ever fetched, so nothing a document's text holds can make the server reach out (an unknown
    resource is left out)."""
    fetcher = URLFetcher(allowed_protocols=(), allow_redirects=False)
    document = HTML(string=html, url_fetcher=fetcher).render(
        stylesheets=[CSS(string=stylesheet)] if stylesheet else None)
    return Rendered(cast(bytes, document.write_pdf()), len(document.pages))


def html_to_pdf(html: str) -> bytes:
    return render(html).data
