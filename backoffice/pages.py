"""What the public, key-less URLs answer: HTML pages on one skeleton, and file downloads."""

from __future__ import annotations

import html
from collections.abc import Mapping

from aiohttp import web

from backoffice.schemas import StoredFile

_PAGE = """<!doctype html>
<html lang="it"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – {site}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto; padding: 0 1em">
{masthead}
{body}
</body></html>
"""
# What tops the body; {site} and {title} are filled in escaped.
_COMUNE_MASTHEAD = "<h1>{site}</h1>"
_PAGOPA_MASTHEAD = (
    '<p style="color: #0066cc; font-weight: bold">pagoPA · pagamento simulato</p>\n'
    "<h1>{title}</h1>"
)


def comune_page(
    comune: str,
    title: str,
    body: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A page of the comune (the desk's and the certificates' verification), its name on top.

    `title` and `comune` are plain text; `body` is HTML whose values the caller escaped.
    """
    return _page(_COMUNE_MASTHEAD, f"Comune di {comune}", title, body, status, headers)


def pagopa_page(title: str, body: str, status: int = 200) -> web.Response:
    """A page of the simulated pagoPA checkout: its banner, then `title` (plain text)."""
    return _page(_PAGOPA_MASTHEAD, "pagoPA", title, body, status, None)


def _page(
    masthead: str,
    site: str,
    title: str,
    body: str,
    status: int,
    headers: Mapping[str, str] | None,
) -> web.Response:
    names = {"site": html.escape(site), "title": html.escape(title)}
    text = _PAGE.format(masthead=masthead.format(**names), body=body, **names)
    return web.Response(
        text=text, content_type="text/html", status=status, headers=headers
    )


def file_response(stored: StoredFile) -> web.Response:
    """A stored file as a download the browser keeps to itself and never sniffs."""
    return web.Response(
        body=stored.content,
        content_type=stored.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{stored.filename}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
