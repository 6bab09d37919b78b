"""The cruscotto: a known history in the three stores, and every figure equal to its count.

The back office's pratiche go into its database; Rasa's events into a tracker store laid out
as Rasa 3.6's SQLTrackerStore writes it (its SQLEvent table, one row per event with the
event's as_dict() in `data`); the handoff tickets through the bot's own HandoffStore. On
SQLite and, when it is reachable, on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import asyncpg
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from backoffice.analytics import charts, domain, export
from backoffice.analytics.schemas import FormFunnel, FormStep, TrackerEvent
from backoffice.app import AccessLogger, create_app
from backoffice.appointments.domain import ClosedDays, OfficeHours
from backoffice.db import create_sessionmaker, models
from bot.handoff_store import HandoffStore, TicketRow
from sportello.clock import ROME
from sportello.redact import redact_personal
from sportello.settings import Settings
from tests.backoffice.conftest import POSTGRES_ADMIN_URL
from tests.backoffice_http import API_KEY, AUTH, FILE_SECRET

Client = TestClient[Any, Any]
PERIOD = "from=2025-03-03&to=2025-03-05"  # Monday to Wednesday; Rome is UTC+1 then

# Rasa 3.6's SQLTrackerStore.SQLEvent, as rasa/core/tracker_store.py declares it.
RASA_EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

# Senders look like Telegram ids; none of them may show up in the open data.
S1, S2, S3, S4, S5 = "7770001", "7770002", "7770003", "7770004", "7770005"


def rome(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=ROME)


def user(text: str, intent: str) -> dict[str, Any]:
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": text, "message_id": None, "metadata": {}}
    return {"event": "user", "text": text, "parse_data": parse, "input_channel": "rest", "message_id": None, "metadata": {}}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name, "policy": None, "confidence": None, "action_text": None, "hide_rule_turn": False}


def loop(name: str | None) -> dict[str, Any]:
    return {"event": "active_loop", "name": name}


def slot(name: str, value: object) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def bot(text: str) -> dict[str, Any]:
    return {"event": "bot", "text": text, "data": {}, "metadata": {}}


def session() -> dict[str, Any]:
    return {"event": "session_started"}


def conversation(sender: str, start: datetime, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as SQLTrackerStore.save() writes them: intent from parse_data, action = data['name']."""
    rows = []
    for offset, event in enumerate(events):
        data = {**event, "timestamp": (start + timedelta(seconds=offset)).timestamp()}
        rows.append(
            {
                "sender_id": sender,
                "type_name": data["event"],
                "timestamp": data["timestamp"],
                "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
                "action_name": data.get("name"),
                "data": json.dumps(data),
            }
        )
    return rows


def history() -> list[dict[str, Any]]:
    return [
        # Monday 10:00, office open: a pratica from start to end, by buttons and words.
        *conversation(S1, rome(3, 10), [
            session(), action("action_session_start"), action("action_listen"),
            user("/practice_start", "practice_start"), action("practice_form"), loop("practice_form"),
            slot("requested_slot", "practice_type"), action("action_listen"),
            user("certificato", "inform"), action("practice_form"), slot("practice_type", "certificato"),
            slot("requested_slot", "practice_answer"), action("action_listen"),
            user("via roma 1", "inform"), action("practice_form"), slot("requested_slot", "practice_confirm"),
            action("action_listen"), user("/affirm", "affirm"), action("practice_form"),
            slot("requested_slot", None), loop(None), action("action_submit_practice"), bot("Fatto"),
            action("action_listen"),
        ]),
        # Monday 19:00, closed: misunderstood twice, then a person.
        *conversation(S2, rome(3, 19), [
            user("voglio il bonus monopattino", "nlu_fallback"), action("action_fallback"), action("action_listen"),
            user("Voglio il   bonus monopattino!", "nlu_fallback"), action("action_fallback"), action("action_listen"),
            user("/human_handoff", "human_handoff"), action("action_handoff"), loop(None), action("action_listen"),
        ]),
        # Tuesday 9:00, open: the same phrase from a second sender, a core fallback, a form left.
        *conversation(S3, rome(4, 9), [
            user("voglio il bonus monopattino", "nlu_fallback"), action("action_fallback"), action("action_listen"),
            user("chiamami al 333 1234567", "contacts"), action("action_fallback"), action("action_listen"),
            user("/practice_start", "practice_start"), action("practice_form"), loop("practice_form"),
            slot("requested_slot", "practice_type"), action("action_listen"),
            user("/cancel", "cancel"), action("action_deactivate_loop"), loop(None),
            slot("requested_slot", None), action("action_listen"),
        ]),
        # Tuesday 13:00, closed at lunch: a phone number, then a form still open at the end.
        *conversation(S4, rome(4, 13), [
            user("Chiamami al 340 7654321", "nlu_fallback"), action("action_fallback"), action("action_listen"),
            user("/status", "practice_status"), action("status_form"), loop("status_form"),
            slot("requested_slot", "protocol_number"), action("action_listen"),
        ]),
        # Wednesday 23:30 Rome (22:30 UTC), closed; and the same sender just outside the period.
        *conversation(S5, rome(5, 23, 30), [user("ciao", "greet"), action("utter_greet"), action("action_listen")]),
        *conversation(S5, rome(2, 23, 30), [user("buonasera", "greet"), action("utter_greet")]),
        *conversation(S5, rome(6, 0, 10), [user("voglio il bonus monopattino", "nlu_fallback"), action("action_fallback")]),
    ]


def naive_utc(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


TICKETS = [  # (opened, waited seconds or None, rating)
    (rome(3, 19, 5), 120, 5),
    (rome(4, 9, 0), 600, 3),
    (rome(4, 10, 0), 60, None),
    (rome(5, 11, 0), None, None),
    (rome(1, 11, 0), 30, 1),  # before the period
]


async def seed_tracker(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(RASA_EVENTS.metadata.create_all)
            await connection.execute(insert(RASA_EVENTS), history())
    finally:
        await engine.dispose()


async def seed_tickets(url: str) -> None:
    store = await HandoffStore.open(url)
    try:
        async with create_sessionmaker(store._engine)() as session, session.begin():
            for index, (opened, waited, rating) in enumerate(TICKETS):
                session.add(
                    TicketRow(
                        chat_id=7770001 + index,
                        topic="Tributi",
                        status="closed" if waited is not None else "waiting",
                        created_at=naive_utc(opened),
                        claimed_at=naive_utc(opened + timedelta(seconds=waited)) if waited is not None else None,
                        rating=rating,
                    )
                )
    finally:
        await store.close()


async def seed_practices(engine: AsyncEngine) -> None:
    async with create_sessionmaker(engine)() as session, session.begin():
        type_id = await session.scalar(select(models.PracticeType.id).limit(1))
        for at, by, status in [
            (rome(3, 11), "telegram:7770001", "presentata"),
            (rome(3, 16), None, "presentata"),
            (rome(4, 10), "telegram:7770003", "accolta"),
            (rome(4, 11), "telegram:7770004", "bozza"),  # a draft is not filed
            (rome(6, 9), None, "presentata"),  # after the period
        ]:
            session.add(
                models.Practice(type_id=type_id, submitted_by=by, status=status, data={}, created_at=at, updated_at=at)
            )


@pytest_asyncio.fixture
async def store_urls(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """The tracker store's and the handoff tickets' URLs, of the same kind as the back office's."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'rasa.db'}", f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}"
        return
    names = [f"sportello_{kind}_{secrets.token_hex(4)}" for kind in ("tracker", "handoff")]
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    host_part = POSTGRES_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    yield f"postgresql+asyncpg://{host_part}/{names[0]}", f"postgresql+asyncpg://{host_part}/{names[1]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def settings(database_url: str, tracker: str, handoff: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        tracker_store_url=tracker,
        handoff_database_url=handoff,
        backoffice_api_key=SecretStr(API_KEY),
        backoffice_file_secret=SecretStr(FILE_SECRET),
    )


async def serve(config: Settings) -> AsyncIterator[Client]:
    server = TestServer(create_app(config), host="127.0.0.1", access_log_class=AccessLogger)
    async with TestClient(server) as client:
        yield client


@pytest_asyncio.fixture
async def http(database_url: str, seeded_engine: AsyncEngine, store_urls: tuple[str, str]) -> AsyncIterator[Client]:
    """The back office with the known history in all three stores."""
    tracker, handoff = store_urls
    await seed_practices(seeded_engine)
    await seed_tracker(tracker)
    await seed_tickets(handoff)
    async for client in serve(settings(database_url, tracker, handoff)):
        yield client


@pytest_asyncio.fixture
async def http_without_stores(
    database_url: str, seeded_engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[Client]:
    """The back office whose tracker store file does not exist and whose ticket database is down."""
    await seed_practices(seeded_engine)
    config = settings(
        database_url, f"sqlite+aiosqlite:///{tmp_path / 'absent' / 'rasa.db'}", "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    )
    async for client in serve(config):
        yield client


async def get_json(http: Client, path: str) -> dict[str, Any]:
    response = await http.get(path, headers=AUTH)
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def test_every_figure_equals_the_known_history(http: Client) -> None:
    body = await get_json(http, f"/v1/staff/analytics?{PERIOD}")

    assert body["from"] == "2025-03-03" and body["to"] == "2025-03-05"
    assert body["sources"] == {"tracker_store": True, "handoff": True, "office_hours": True}
    days = {day["date"]: day for day in body["days"]}
    assert list(days) == ["2025-03-03", "2025-03-04", "2025-03-05"]
    assert days["2025-03-03"] == {
        "date": "2025-03-03", "conversations": 2, "handed_to_person": 1, "solved_by_bot": 1,
        "user_messages": 7, "fallbacks": 2, "out_of_hours": 1, "tickets": 1,
        "wait_median_seconds": 120.0, "wait_p90_seconds": 120.0, "ratings": 1, "rating_average": 5.0,
        "practices_chat": 1, "practices_other": 1,
    }
    assert days["2025-03-04"] == {
        "date": "2025-03-04", "conversations": 2, "handed_to_person": 0, "solved_by_bot": 2,
        "user_messages": 6, "fallbacks": 3, "out_of_hours": 1, "tickets": 2,
        "wait_median_seconds": 330.0, "wait_p90_seconds": 600.0, "ratings": 1, "rating_average": 3.0,
        "practices_chat": 1, "practices_other": 0,
    }
    assert days["2025-03-05"] == {
        "date": "2025-03-05", "conversations": 1, "handed_to_person": 0, "solved_by_bot": 1,
        "user_messages": 1, "fallbacks": 0, "out_of_hours": 1, "tickets": 1,
        "wait_median_seconds": None, "wait_p90_seconds": None, "ratings": 0, "rating_average": None,
        "practices_chat": 0, "practices_other": 0,
    }
    assert body["totals"] == {
        "conversations": 5, "handed_to_person": 1, "solved_by_bot": 4, "bot_share": 0.8, "person_share": 0.2,
        "user_messages": 14, "fallbacks": 5, "fallback_rate": 0.3571, "out_of_hours": 3,
        "practices_chat": 2, "practices_other": 1, "chat_share": 0.6667,
    }
    assert body["top_intents"] == [
        {"intent": "inform", "count": 2}, {"intent": "practice_start", "count": 2},
        {"intent": "affirm", "count": 1}, {"intent": "cancel", "count": 1}, {"intent": "contacts", "count": 1},
        {"intent": "greet", "count": 1}, {"intent": "human_handoff", "count": 1},
        {"intent": "practice_status", "count": 1},
    ]
    # The phone is masked, both spellings are one phrase, and nothing said by one sender only.
    assert body["misunderstood_phrases"] == [
        {"text": "voglio il bonus monopattino", "count": 3, "senders": 2},
        {"text": "chiamami al [telefono]", "count": 2, "senders": 2},
    ]
    assert body["forms"] == [
        {
            "form": "practice_form", "started": 2, "completed": 1, "completion_rate": 0.5,
            "steps": [
                {"step": "practice_type", "reached": 2, "dropped": 1, "drop_rate": 0.5},
                {"step": "practice_answer", "reached": 1, "dropped": 0, "drop_rate": 0.0},
                {"step": "practice_confirm", "reached": 1, "dropped": 0, "drop_rate": 0.0},
            ],
        },
        {
            "form": "status_form", "started": 1, "completed": 0, "completion_rate": 0.0,
            "steps": [{"step": "protocol_number", "reached": 1, "dropped": 1, "drop_rate": 1.0}],
        },
    ]
    assert body["waiting"] == {"claimed": 3, "unclaimed": 1, "median_seconds": 120.0, "p90_seconds": 600.0}
    assert body["ratings"] == {
        "count": 2, "average": 4.0, "by_score": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1},
    }


async def test_the_csv_has_one_row_per_day_per_figure_in_italian(http: Client) -> None:
    response = await http.get(f"/v1/staff/analytics/export.csv?{PERIOD}", headers=AUTH)
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert 'filename="cruscotto_2025-03-03_2025-03-05.csv"' in response.headers["Content-Disposition"]
    text = (await response.read()).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))

    assert rows[0] == ["Giorno", "Indicatore", "Valore"]
    per_day = [row for row in rows[1:] if row[0] in {"2025-03-03", "2025-03-04", "2025-03-05"}]
    assert len(per_day) == 3 * len(export.DAY_LABELS)
    cells = {(day, label): value for day, label, value in per_day}
    assert cells[("2025-03-04", "Messaggi non capiti")] == "3"
    assert cells[("2025-03-03", "Passate a una persona")] == "1"
    assert cells[("2025-03-04", "Attesa mediana (secondi)")] == "330"
    assert cells[("2025-03-05", "Valutazione media")] == ""
    assert cells[("2025-03-03", "Pratiche da altri canali")] == "1"
    assert ["2025-03-03/2025-03-05", "Modulo practice_form, passo practice_type: abbandoni", "1"] in rows
    assert "monopattino" not in text and "telefono" not in text


async def test_the_open_data_has_counts_and_rates_but_no_text_and_no_sender(http: Client) -> None:
    body = await get_json(http, f"/v1/opendata/analytics.json?{PERIOD}")
    dumped = json.dumps(body)

    assert body["totals"]["conversations"] == 5 and body["totals"]["fallback_rate"] == 0.3571
    assert "misunderstood_phrases" not in body
    for said in ("monopattino", "chiamami", "telefono", "certificato", "roma"):
        assert said not in dumped.lower()
    for sender in (S1, S2, S3, S4, S5):
        assert sender not in dumped


async def test_the_figures_need_the_service_key(http: Client) -> None:
    for path in ("/v1/staff/analytics", "/v1/staff/analytics/export.csv", "/v1/opendata/analytics.json"):
        assert (await http.get(path)).status == 401


async def test_a_period_upside_down_or_too_long_is_refused(http: Client) -> None:
    assert (await http.get("/v1/staff/analytics?from=2025-03-05&to=2025-03-03", headers=AUTH)).status == 400
    assert (await http.get("/v1/staff/analytics?from=2024-01-01&to=2025-03-03", headers=AUTH)).status == 400
    assert (await http.get("/v1/staff/analytics?from=marzo", headers=AUTH)).status == 400


async def test_stores_that_cannot_be_read_give_none_and_the_rest_is_computed(
    http_without_stores: Client, tmp_path: Path
) -> None:
    body = await get_json(http_without_stores, f"/v1/staff/analytics?{PERIOD}")

    assert body["sources"] == {"tracker_store": False, "handoff": False, "office_hours": True}
    assert body["totals"]["conversations"] is None and body["totals"]["fallback_rate"] is None
    assert body["totals"]["out_of_hours"] is None
    assert body["top_intents"] is None and body["misunderstood_phrases"] is None and body["forms"] is None
    assert body["waiting"] is None and body["ratings"] is None
    assert body["days"][0]["conversations"] is None and body["days"][0]["tickets"] is None
    assert body["totals"]["practices_chat"] == 2 and body["totals"]["practices_other"] == 1
    # Opened read-only: the absent store is not created empty.
    assert not (tmp_path / "absent" / "rasa.db").exists()
    csv_response = await http_without_stores.get(f"/v1/staff/analytics/export.csv?{PERIOD}", headers=AUTH)
    assert csv_response.status == 200
    assert (await http_without_stores.get(f"/v1/opendata/analytics.json?{PERIOD}", headers=AUTH)).status == 200


# --- pure parts -------------------------------------------------------------------------


def test_redaction_masks_what_points_at_a_person_or_a_payment() -> None:
    said = (
        "sono RSSMRA80A01H501U, mail mario.rossi@example.it, tel. +39 06 8963011, "
        "IBAN IT60 X054 2811 1010 0000 0123 456, avviso 3010 0000 0000 1234 56, pratica 2026/000123, "
        "codice K7P2-QX9M, il 12/05 alle 10"
    )
    assert redact_personal(said) == (
        "sono [codice fiscale], mail [email], tel. [telefono], IBAN [IBAN], avviso [codice avviso], "
        "pratica [protocollo], codice ****-****, il 12/05 alle 10"
    )


def test_office_hours_follow_the_counter_windows_and_the_closed_days() -> None:
    hours = OfficeHours(({"weekday": 0, "opens": "08:30", "closes": "12:30"},), 15, 1)
    closed = ClosedDays({"2025-03-10": "Chiusura straordinaria"})
    assert hours.open_at(rome(3, 8, 30), closed) and hours.open_at(rome(3, 12, 29), closed)
    assert not hours.open_at(rome(3, 12, 30), closed) and not hours.open_at(rome(4, 9), closed)
    assert not hours.open_at(rome(10, 9), closed)  # a Monday, closed that day
    assert not hours.open_at(datetime(2025, 4, 21, 9, tzinfo=ROME), closed)  # Pasquetta


def test_a_phrase_is_cut_to_80_characters() -> None:
    long = "non capisco " * 20
    events = [
        TrackerEvent(sender, "user", rome(3, 10), "nlu_fallback", None, {"text": long})
        for sender in ("a", "b")
    ]
    (phrase,) = domain.misunderstood_phrases(events)
    assert len(phrase.text) == 80 and phrase.text.endswith("…")


def test_percentiles_are_nearest_rank() -> None:
    assert domain.percentile([], 0.9) is None
    assert domain.percentile([5.0], 0.9) == 5.0
    assert domain.percentile([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert domain.percentile([float(n) for n in range(1, 12)], 0.9) == 10.0


def _svg(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(markup)


SVG = "{http://www.w3.org/2000/svg}"


def test_the_bar_chart_is_named_described_labelled_and_escaped() -> None:
    markup = charts.bar_chart("Conversazioni <al> giorno", [("3/3", 2.0), ("<script>", None), ("5/3", 1.0)])
    root = _svg(markup)

    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == "Conversazioni <al> giorno"
    assert desc is not None and desc.text == "3/3: 2; <script>: n.d.; 5/3: 1"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert len(root.findall(f"{SVG}rect")) == 2  # none for the figure not available
    texts = [t.text for t in root.findall(f"{SVG}text")]
    assert texts == ["2", "3/3", "n.d.", "<script>", "1", "5/3"]
    heights = [int(r.get("height", "0")) for r in root.findall(f"{SVG}rect")]
    assert heights[0] == 2 * heights[1]


def test_the_horizontal_bars_put_the_label_left_and_the_value_after() -> None:
    funnel = FormFunnel("practice_form", 2, 1, (FormStep("practice_type", 2, 4), FormStep("a&b", 1, 1)))
    root = _svg(charts.drop_off_chart(funnel))

    texts = [t.text for t in root.findall(f"{SVG}text")]
    assert texts == ["practice_type", "4", "a&b", "1"]
    widths = [int(r.get("width", "0")) for r in root.findall(f"{SVG}rect")]
    assert widths[0] == 4 * widths[1]
    assert "Abbandoni" in (root.find(f"{SVG}title").text or "")  # type: ignore[union-attr]
