"""Route templates: what logs and metrics name a request by, never its raw path."""

from __future__ import annotations

from aiohttp.web_request import BaseRequest


def route_name(request: BaseRequest) -> str:
    """The matched route's template (e.g. /v1/counter-services/{code}), never the raw path.

    Raw paths and query strings may carry a codice fiscale or a name in later endpoints;
    templates never do, so they are what logs see.
    """
    match_info = getattr(request, "match_info", None)
    resource = match_info.route.resource if match_info is not None else None
    return resource.canonical if resource is not None else "<unmatched>"
