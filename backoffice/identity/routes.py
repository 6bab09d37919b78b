"""HTTP of identity: the portal mints link codes, a chat links with one, asks who it is, unlinks."""

from __future__ import annotations

from aiohttp import web

from backoffice.errors import InvalidRequest
from backoffice.http.request import channel_user, json_object, now, unit_of_work
from backoffice.identity import services

identity_routes = web.RouteTableDef()


@identity_routes.post("/v1/link-codes")
async def create_link_code(request: web.Request) -> web.Response:
    """Mint a one-time link code for a citizen (the portal's part, after SPID/CIE)."""
    body = await json_object(request)
    fiscal_code = body.get("fiscal_code")
    if not isinstance(fiscal_code, str) or not fiscal_code.strip():
        raise InvalidRequest("fiscal_code is required")
    code = await services.create_link_code(unit_of_work(request), fiscal_code, now(request))
    return web.json_response(code.to_json(), status=201)


@identity_routes.post("/v1/channel-links")
async def create_channel_link(request: web.Request) -> web.Response:
    """Link the calling chat account to the citizen a link code was minted for."""
    user = channel_user(request)
    body = await json_object(request)
    code = body.get("code")
    if not isinstance(code, str):
        raise InvalidRequest("code is required")
    citizen = await services.link_chat(unit_of_work(request), user, code, now(request))
    return web.json_response(citizen.to_json(), status=201)


@identity_routes.get("/v1/me")
async def get_me(request: web.Request) -> web.Response:
    """Who the calling chat account is linked to (name and masked codice fiscale)."""
    citizen = await services.who_is(unit_of_work(request), channel_user(request))
    return web.json_response(citizen.to_json())


@identity_routes.delete("/v1/channel-links/me")
async def delete_channel_link(request: web.Request) -> web.Response:
    """Unlink the calling chat account."""
    await services.unlink(unit_of_work(request), channel_user(request))
    return web.Response(status=204)
