"""The production topology for real: two of each process behind HAProxy, under supervisord,
on PostgreSQL and Redis, Telegram's updates pushed by webhook from the local Bot API server."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from localtelegram import BotApiDriver
from sportello.production import problems, render
from sportello.settings import Settings
from tests.chaos import run_chaos
from tests.production import Production, link_code, start_production
from tests.stack import wait_until
from tests.test_actions_through_rasa import MARIO
from tests.test_chat_e2e import answers

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
SECRET = "production-topology-webhook-secret"


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_replicas_refuse_what_they_cannot_share() -> None:
    lonely = problems(_settings(), replicas=2)
    assert any(line.startswith("WEBHOOK_URL") for line in lonely)
    assert any(line.startswith("DATABASE_URL deve essere PostgreSQL") for line in lonely)
    assert any(line.startswith("TRACKER_STORE_URL") for line in lonely)
    assert any(line.startswith("HANDOFF_DATABASE_URL") for line in lonely)
    assert any(line.startswith("REDIS_URL") for line in lonely)
    pg = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
    shared = _settings(
        webhook_url="https://bot.example.it/telegram", database_url=pg + "a",
        tracker_store_url=pg + "b", handoff_database_url=pg + "c", redis_url="redis://127.0.0.1:6379/0",
    )
    assert problems(shared, replicas=2) == []


def test_the_rendered_balancer_and_supervisor_files_are_valid(tmp_path: Path) -> None:
    settings = _settings(webhook_url="https://bot.example.it/telegram")
    render(settings, tmp_path, replicas=3, base_port=9100)
    checked = subprocess.run(
        ["haproxy", "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    conf = (tmp_path / "supervisord.conf").read_text()
    for kind in ("backoffice", "actions", "rasa", "bot"):
        assert all(f"[program:{kind}-{i}]" in conf for i in (1, 2, 3))
    assert "autorestart=true" in conf and "[program:haproxy]" in conf
    assert conf.count("TELEGRAM_MESSAGES_PER_SECOND=\"10\"") == 3, "Telegram's 30 a second shared by three bots"
    assert "SECRET" not in conf.upper().replace("WEBHOOK_SECRET", ""), "no secret is written to the files"
    from supervisor.options import ServerOptions

    options = ServerOptions()
    options.realize(["-c", str(tmp_path / "supervisord.conf")])
    assert len(options.process_group_configs) == 1 + 4 * 3


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    with start_production(tmp_path_factory.mktemp("production")) as running:
        yield running


def test_a_form_goes_on_when_a_rasa_replica_is_killed_and_supervisor_restarts_it(production: Production) -> None:
    with BotApiDriver(production.telegram.url) as driver:
        citizen = driver.user(910_001, first_name="Mario")
        citizen.send(f"/start {link_code(production, MARIO)}")
        assert "Fatto, Mario" in "\n".join(m.content for m in answers(citizen, 2, timeout=60))
        citizen.send("vorrei un certificato di residenza")
        assert "👤 Sono io" in answers(citizen, timeout=60)[-1].buttons

        dead = production.pid("rasa-1")
        os.kill(dead, signal.SIGKILL)
        citizen.press("👤 Sono io")
        assert "in bollo" in answers(citizen, timeout=60)[-1].buttons, "the other replica has the form"

        wait_until(lambda: production.pid("rasa-1") not in (0, dead), 60, "rasa-1 restarted")
        wait_until(lambda: production.up("rasa") == 2, 400, "rasa-1 back behind the balancer")


def test_one_persons_updates_go_to_one_bot_replica_and_a_dead_one_is_replaced(production: Production) -> None:
    def served() -> dict[str, int]:
        stats = production.stats()
        return {name: int(stats[f"bot/{name}"]["stot"]) for name in ("bot-1", "bot-2")}

    with BotApiDriver(production.telegram.url) as driver:
        people = [driver.user(920_000 + n, first_name="Anna") for n in range(6)]
        for person in people:
            before = served()
            for _ in range(3):
                person.send("orari dell'anagrafe")
            answers(person, 3, timeout=60)
            after = served()
            grew = {name for name in after if after[name] > before[name]}
            assert len(grew) == 1, f"one person, one replica: {before} -> {after}"
        assert all(count > 0 for count in served().values()), "the people are spread over both replicas"

        victim = production.pid("bot-1")
        os.kill(victim, signal.SIGKILL)
        for person in people:
            person.send("ciao")
            assert answers(person, timeout=60), "every person is answered while bot-1 is down"
        wait_until(lambda: production.pid("bot-1") not in (0, victim), 60, "bot-1 restarted")


def test_a_form_started_before_kill_9_of_its_bot_replica_goes_on_after_the_restart(production: Production) -> None:
    def served() -> dict[str, int]:
        stats = production.stats()
        return {name: int(stats[f"bot/{name}"]["stot"]) for name in ("bot-1", "bot-2")}

    with BotApiDriver(production.telegram.url) as driver:
        citizen = driver.user(940_001, first_name="Mario")
        citizen.send(f"/start {link_code(production, MARIO)}")
        answers(citizen, 2, timeout=60)
        before = served()
        citizen.send("vorrei un certificato di residenza")
        assert "👤 Sono io" in answers(citizen, timeout=60)[-1].buttons
        after = served()
        replica = max(after, key=lambda name: after[name] - before[name])

        # The replica that showed the form's buttons dies and comes back with nothing in memory;
        # the person's updates go to it again once it is up (hashing is by person).
        dead = production.pid(replica)
        os.kill(dead, signal.SIGKILL)
        wait_until(lambda: production.pid(replica) not in (0, dead), 60, f"{replica} restarted")
        wait_until(lambda: production.stats()[f"bot/{replica}"]["status"] == "UP", 120, f"{replica} back up")
        before = served()
        citizen.press("👤 Sono io")
        assert "in bollo" in answers(citizen, timeout=60)[-1].buttons, "the restarted replica knows the button"
        assert served()[replica] > before[replica], "answered by the replica that was killed"
        citizen.press("in bollo")
        assert "✅ Confermo e invio" in answers(citizen, timeout=60)[-1].buttons


def test_a_notice_is_told_once_with_two_bot_replicas(production: Production) -> None:
    api = httpx.Client(
        base_url=production.env["BACKOFFICE_URL"], headers={"X-API-Key": production.env["BACKOFFICE_API_KEY"]}, timeout=15
    )
    with BotApiDriver(production.telegram.url) as driver, api:
        citizen = driver.user(930_001, first_name="Mario")
        citizen.send(f"/start {link_code(production, MARIO)}")
        answers(citizen, 2, timeout=60)
        mine = api.get("/v1/practices", headers={"X-Channel-User": f"telegram:{citizen.user_id}"}).json()["practices"]
        open_one = next(p for p in mine if p["status"] in {"presentata", "in_istruttoria"})
        year, number = open_one["protocol_number"].split("/")
        target = "in_istruttoria" if open_one["status"] == "presentata" else "integrazione_richiesta"
        api.post(
            f"/v1/staff/practices/{year}/{number}/transitions", json={"to": target, "note": "Serve un documento"},
            headers={"X-Staff-User": "Ufficio anagrafe"},
        ).raise_for_status()
        told = answers(citizen, timeout=60)
        assert sum(open_one["protocol_number"] in m.content for m in told) == 1
        citizen.expect_silence(within=6)
        counts = api.get("/v1/deliveries").json()["counts"]
        assert counts["pending"] == 0 and counts["dead"] == 0


def test_each_bot_replica_says_it_is_ready_and_counts_its_work(production: Production) -> None:
    from tests.test_metrics import _value

    answered = sent = 0.0
    for replica in (1, 2):
        assert production.bot_health(replica, "/health").status_code == 200
        assert production.bot_health(replica, "/ready").status_code == 200, "Rasa answers behind the balancer"
        text = production.bot_health(replica, "/metrics").text
        answered += _value(text, "sportello_bot_turns_total", outcome="answered")
        sent += _value(text, "sportello_bot_deliveries_total", outcome="sent")
        assert "sportello_bot_turn_seconds_bucket" in text and "sportello_bot_queued_updates" in text
    assert answered >= 6, "the turns of the tests above (bot-1 counts only since its restart)"
    assert sent >= 1, "the notice told above"


def test_chaos_loses_no_notification_and_no_conversation(production: Production) -> None:
    # Last: it kills replicas and drops connections (the same scenario as `make chaos`).
    report = run_chaos(production)
    print(report.line())
    assert report.lost == 0, report.line()
    assert report.completed == report.conversations, report.line()
