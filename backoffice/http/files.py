"""A stored file as the answer to a capability URL: a download, never rendered in place."""

from __future__ import annotations

from aiohttp import web

from backoffice.schemas import StoredFile


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
