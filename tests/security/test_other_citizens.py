"""Someone else's ids in every endpoint: a linked chat sees and touches only its own citizen's data."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import httpx

from tests.stack import Stack, backoffice_api, mint_link_code

MARIO, GIULIA = "RSSMRA50C12C552D", "BNCGLI85L64C552A"
_chats = itertools.count(880_001)


def _linked(stack: Stack, fiscal_code: str) -> httpx.Client:
    user = f"telegram:{next(_chats)}"
    code = mint_link_code(stack, fiscal_code)
    api = backoffice_api(stack, user)
    api.post("/v1/channel-links", json={"code": code}).raise_for_status()
    return api


def test_a_chat_cannot_reach_another_citizens_pratiche_taxes_notices_or_bookings(stack: Stack) -> None:
    mario, giulia = _linked(stack, MARIO), _linked(stack, GIULIA)
    # Giulia's own things, as her chat sees them.
    position = next(t for t in giulia.get("/v1/taxes").json()["taxes"] if t["payable"])
    notice = giulia.post(f"/v1/taxes/{position['id']}/notice").json()
    slot = giulia.get(
        "/v1/counter-services/anagrafe/nearest",
        params={"at": (datetime.now() + timedelta(days=3)).date().isoformat()},
    ).json()["slots"][0]
    booking = giulia.post("/v1/appointments", json={"service": "anagrafe", "starts_at": slot["starts_at"]})
    assert booking.status_code == 201
    code = booking.json()["code"]

    attempts = {
        "pratica": mario.get("/v1/practices/2026/000120"),
        "notice of her position": mario.post(f"/v1/taxes/{position['id']}/notice"),
        "her notice": mario.get(f"/v1/notices/{notice['notice_number']}"),
        "her booking": mario.get(f"/v1/appointments/{code}"),
        "moving her booking": mario.post(f"/v1/appointments/{code}/move", json={"starts_at": slot["starts_at"]}),
        "cancelling her booking": mario.delete(f"/v1/appointments/{code}"),
    }
    for what, response in attempts.items():
        assert response.status_code in (403, 404), f"{what}: {response.status_code}"
        assert GIULIA not in response.text and "Bianchi" not in response.text, what
    # And nothing moved: her booking is still there, at its time.
    assert giulia.get(f"/v1/appointments/{code}").json()["starts_at"] == slot["starts_at"]
    assert all(p["id"] != position["id"] for p in mario.get("/v1/taxes").json()["taxes"])
