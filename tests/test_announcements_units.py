"""The avvisi's pieces without I/O: a notice's words and buttons, the payloads, the composer's time."""

from __future__ import annotations

from datetime import UTC, datetime

from backend_client import FeedEvent
from bot import announcements
from bot.announcement_composer import parse_when
from bot.handlers import _PAYLOAD
from bot.notifications import notification
from sportello.clock import ROME, Clock

PAYLOAD = {
    "announcement_id": 7,
    "topic": "allerte",
    "topic_title": "Allerte di protezione civile",
    "emoji": "⚠️",
    "zones": ["Cerenova", "Campo di Mare"],
    "text": "Allerta gialla per temporali.",
    "attachment": None,
}


def test_a_notice_says_topic_zones_and_text_and_carries_the_mute_button() -> None:
    event = FeedEvent(
        id=1, type="announcement", citizen_id=None, payload=PAYLOAD, created_at=datetime.now(UTC)
    )
    notice = notification(event)
    assert notice is not None
    assert notice.text.startswith(
        "⚠️ Allerte di protezione civile · Cerenova, Campo di Mare\n\nAllerta gialla"
    )
    assert notice.buttons[0]["title"] == "🔕 Non avvisarmi più di questo"
    assert announcements._parse(notice.buttons[0]["payload"]) == ("mute", {"topic": "allerte"})


def test_every_avvisi_payload_is_a_button_payload_the_bot_accepts() -> None:
    for payload in (
        announcements.mute_button("rifiuti")["payload"],
        announcements._payload("topic", topic="eventi", on=True),
        announcements._payload("zone", zone="campo_di_mare"),
        announcements._payload("zones"),
        announcements.PREFIX,
    ):
        assert _PAYLOAD.match(payload) and announcements.handles(payload)
    assert not announcements.handles("/announcementsx")


def test_the_composer_reads_day_and_time_in_rome_and_refuses_the_past() -> None:
    clock = Clock(datetime(2026, 12, 4, 9, 0, tzinfo=UTC))
    at = parse_when("05/12 08:00", clock)
    assert at == datetime(2026, 12, 5, 8, 0, tzinfo=ROME)
    assert parse_when("5/1/2027 7.30", clock) == datetime(2027, 1, 5, 7, 30, tzinfo=ROME)
    assert parse_when("03/12 08:00", clock) is None
    assert parse_when("domani mattina", clock) is None
    assert parse_when("31/02 08:00", clock) is None
