"""The OpenAPI contract and the app's routes describe the same API."""

from __future__ import annotations

from pathlib import Path

import yaml

from backoffice.app import create_app
from sportello.settings import Settings

OPENAPI = Path(__file__).parents[2] / "backoffice" / "openapi.yaml"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _app_operations() -> set[tuple[str, str]]:
    settings = Settings(_env_file=None, database_url="sqlite+aiosqlite:///:memory:")  # type: ignore[call-arg]
    app = create_app(settings)
    operations = set()
    for route in app.router.routes():
        # aiohttp adds HEAD next to every GET on its own; the contract lists GET only.
        if route.method == "HEAD" or route.resource is None:
            continue
        # The console's HTML pages (/staff) are for people, not a contract: docs/console.md.
        if route.resource.canonical.startswith("/staff"):
            continue
        operations.add((route.method.lower(), route.resource.canonical))
    return operations


def _contract_operations() -> set[tuple[str, str]]:
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return {
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_every_route_of_the_app_is_in_the_openapi_contract_and_vice_versa() -> None:
    assert _app_operations() == _contract_operations()


def test_the_contract_is_openapi_3_1_with_the_api_key_scheme_and_error_body() -> None:
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))

    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    assert spec["paths"]["/health"]["get"]["security"] == []
    assert spec["components"]["schemas"]["Error"]["required"] == ["error"]
