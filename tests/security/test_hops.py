"""Attack the running stack the way the review did: every hop needs its credential, on loopback."""

from __future__ import annotations

import re
import subprocess

import httpx

from tests.stack import Stack, rasa_turn

FORGED_CALL = {
    "next_action": "action_tax_summary",
    "sender_id": "telegram:700001",
    "tracker": {"sender_id": "telegram:700001", "slots": {}, "latest_message": {}, "events": []},
    "domain": {},
    "version": "3.6.21",
}


def _listening(pid: int) -> list[str]:
    """The local addresses this process listens on (TCP), from `ss`."""
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    return [line.split()[3] for line in out.splitlines() if re.search(rf"pid={pid},", line)]


def test_the_action_server_refuses_a_call_without_rasas_token(stack: Stack) -> None:
    url = stack.env["ACTION_SERVER_URL"]

    missing = httpx.post(url, json=FORGED_CALL, timeout=10)
    wrong = httpx.post(url, json=FORGED_CALL, headers={"Authorization": "Bearer guessed"}, timeout=10)
    listing = httpx.get(url.replace("/webhook", "/actions"), timeout=10)

    assert missing.status_code == wrong.status_code == listing.status_code == 401
    assert "Paga" not in missing.text and "TARI" not in missing.text


def test_rasa_reaches_the_actions_with_the_token(stack: Stack) -> None:
    # action_tax_summary runs through the real action server: an unlinked chat is told to link.
    answers = rasa_turn(stack, "security-1", "/tax_check")
    texts = " ".join(str(answer.get("text", "")) for answer in answers)
    assert "collega" in texts.lower()


def test_rasa_serves_only_its_rest_channel(stack: Stack) -> None:
    base = stack.env["RASA_URL"]
    tracker = httpx.get(f"{base}/conversations/security-1/tracker", timeout=10)
    parse = httpx.post(f"{base}/model/parse", json={"text": "ciao"}, timeout=10)
    assert tracker.status_code in (403, 404) and parse.status_code in (403, 404)


def test_the_public_listener_serves_only_the_public_pages(stack: Stack) -> None:
    public = f"http://127.0.0.1:{stack.env['BACKOFFICE_PUBLIC_PORT']}"
    key = {"X-API-Key": stack.env["BACKOFFICE_API_KEY"]}

    assert httpx.get(f"{public}/health", timeout=10).status_code == 200
    assert httpx.get(f"{public}/v1/counter-services", headers=key, timeout=10).status_code == 404
    assert httpx.get(f"{public}/staff", timeout=10).status_code == 404
    # The same calls on the internal listener: the API answers, the console asks a login.
    internal = stack.env["BACKOFFICE_URL"]
    assert httpx.get(f"{internal}/v1/counter-services", headers=key, timeout=10).status_code == 200
    console = httpx.get(f"{internal}/staff", timeout=10)
    assert console.status_code == 303 and console.headers["Location"].startswith("/staff/login")
    # A verification page is public: an unknown code is its own page, not the missing route.
    verify = httpx.get(f"{public}/verify/NOPE-NOPE", timeout=10)
    assert verify.status_code == 404 and "not found" not in verify.text


def test_nothing_of_the_stack_listens_beyond_loopback(stack: Stack) -> None:
    for service in (stack.backoffice, stack.actions, stack.rasa):
        assert service.process is not None
        addresses = _listening(service.process.pid)
        assert addresses, f"{service.name} listens on nothing?"
        for address in addresses:
            assert address.startswith(("127.0.0.1:", "[::1]:")), f"{service.name} listens on {address}"


def test_the_back_office_refuses_oversized_and_malformed_bodies(stack: Stack) -> None:
    api = stack.env["BACKOFFICE_URL"]
    headers = {"X-API-Key": stack.env["BACKOFFICE_API_KEY"], "X-Channel-User": "telegram:999",
               "Content-Type": "application/json"}
    huge = httpx.post(f"{api}/v1/link-codes", content=b'{"fiscal_code": "' + b"A" * 2_000_000 + b'"}',
                      headers=headers, timeout=20)
    broken = httpx.post(f"{api}/v1/channel-links", content=b"{not json", headers=headers, timeout=10)
    assert huge.status_code == 413
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_request"
