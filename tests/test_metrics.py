"""Every process tells Prometheus counts and timings on its loopback listener, nothing personal."""

from __future__ import annotations

import re

import httpx

from tests.security.test_hops import FORGED_CALL
from tests.stack import Stack, mint_link_code, rasa_turn
from tests.test_actions_through_rasa import MARIO


def _value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` of a Prometheus exposition, 0 when absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{re.escape(name)}{{{re.escape(wanted)}}} (\S+)$" if labels else rf"^{re.escape(name)} (\S+)$"
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def test_the_action_server_counts_the_actions_it_ran_and_the_calls_it_refused(stack: Stack) -> None:
    metrics = stack.env["ACTION_SERVER_URL"].replace("/webhook", "/metrics")
    before = httpx.get(metrics, timeout=10).text
    rasa_turn(stack, "metrics-1", "/tax_check")
    httpx.post(stack.env["ACTION_SERVER_URL"], json=FORGED_CALL, timeout=10)
    after = httpx.get(metrics, timeout=10).text

    ran = ("sportello_action_calls_total", {"action": "action_tax_summary", "status": "200"})
    assert _value(after, ran[0], **ran[1]) == _value(before, ran[0], **ran[1]) + 1
    refused = ("sportello_action_calls_total", {"action": "-", "status": "401"})
    assert _value(after, refused[0], **refused[1]) >= 1, "a refused call is counted, under no name it chose"
    assert "sportello_action_call_seconds_bucket" in after


def test_the_back_office_counts_requests_by_route_and_tells_the_outbox(stack: Stack) -> None:
    code = mint_link_code(stack, MARIO)
    metrics = httpx.get(stack.env["BACKOFFICE_URL"] + "/metrics", timeout=10)
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert _value(text, "sportello_backoffice_requests_total", method="POST", route="/v1/link-codes", status="201") >= 1
    assert re.search(r'^sportello_deliveries\{status="dead"\} \d', text, re.M)
    assert MARIO not in text and code not in text
    public = f"http://127.0.0.1:{stack.env['BACKOFFICE_PUBLIC_PORT']}/metrics"
    assert httpx.get(public, timeout=10).status_code == 404, "not on the public listener"
