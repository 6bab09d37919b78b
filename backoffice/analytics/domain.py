"""The cruscotto's figures, computed with no I/O from the facts the repository reads.

Days are Rome's (sportello.clock). A *conversation* is one sender writing on one day: a
citizen who writes on Monday and Tuesday makes two. Everything else is defined in
docs/analytics.md, next to the function that computes it here.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from backoffice.analytics.period import rome_day
from backoffice.analytics.schemas import (
    DayFigures,
    Figures,
    FormFunnel,
    FormStep,
    IntentCount,
    Period,
    Phrase,
    PracticeFacts,
    Ratings,
    Sources,
    TicketFacts,
    Totals,
    TrackerEvent,
    WaitingTime,
    rate,
)
from sportello.redact import redact_personal

TOP_INTENTS = 10
TOP_PHRASES = 20
PHRASE_LENGTH = 80
# A phrase is shown only once this many different senders wrote it: one citizen's words
# never reach the cruscotto on their own.
PHRASE_MIN_SENDERS = 2
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTION = "action_fallback"
HANDOFF_ACTION = "action_handoff"
HANDOFF_INTENT = "human_handoff"
REQUESTED_SLOT = "requested_slot"
LISTEN = "action_listen"

OpenAt = Callable[[datetime], bool]


# --- the conversation history ---------------------------------------------------------


def _by_sender(events: Iterable[TrackerEvent]) -> dict[str, list[TrackerEvent]]:
    """Each sender's events in the order Rasa wrote them (the repository reads them by id)."""
    grouped: dict[str, list[TrackerEvent]] = defaultdict(list)
    for event in events:
        grouped[event.sender_id].append(event)
    return grouped


@dataclass(slots=True)
class _Turn:
    """A citizen's message and what the assistant did before the next one."""

    message: TrackerEvent
    actions: list[str] = field(default_factory=list)

    @property
    def misunderstood(self) -> bool:
        return self.message.intent == FALLBACK_INTENT or FALLBACK_ACTION in self.actions


def _turns(events: Sequence[TrackerEvent]) -> list[_Turn]:
    turns: list[_Turn] = []
    for event in events:
        if event.type_name == "user":
            turns.append(_Turn(event))
        elif event.type_name == "action" and turns and event.action and event.action != LISTEN:
            turns[-1].actions.append(event.action)
    return turns


@dataclass(slots=True)
class _Conversation:
    first_at: datetime
    handed: bool = False


def conversations(events: Iterable[TrackerEvent]) -> dict[date, dict[str, _Conversation]]:
    """Day -> sender -> that day's conversation: when it began, whether it went to a person.

    Handed to a person: the assistant ran action_handoff that day (button or words).
    """
    days: dict[date, dict[str, _Conversation]] = defaultdict(dict)
    for sender, own in _by_sender(events).items():
        for event in own:
            day = rome_day(event.at)
            if event.type_name == "user":
                conversation = days[day].get(sender)
                if conversation is None:
                    days[day][sender] = _Conversation(event.at)
            elif event.type_name == "action" and event.action == HANDOFF_ACTION and sender in days[day]:
                days[day][sender].handed = True
    return days


def fallbacks(events: Iterable[TrackerEvent]) -> dict[date, tuple[int, int]]:
    """Day -> (citizen messages, messages not understood).

    Not understood: the NLU said nlu_fallback, or the assistant answered with action_fallback
    (the dialogue could not go on) before the citizen's next message.
    """
    counts: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for own in _by_sender(events).values():
        for turn in _turns(own):
            day = counts[rome_day(turn.message.at)]
            day[0] += 1
            day[1] += turn.misunderstood
    return {day: (messages, missed) for day, (messages, missed) in counts.items()}


_SPACES = re.compile(r"\s+")


def _phrase_key(text: str) -> str:
    return _SPACES.sub(" ", redact_personal(text)).strip().strip(".,;:!?").casefold()


def _truncate(text: str) -> str:
    return text if len(text) <= PHRASE_LENGTH else text[: PHRASE_LENGTH - 1].rstrip() + "…"


def misunderstood_phrases(events: Iterable[TrackerEvent], limit: int = TOP_PHRASES) -> list[Phrase]:
    """The typed messages most often not understood, written by at least two senders.

    Each is redacted (codice fiscale, phone, e-mail, IBAN, protocol and notice numbers),
    folded to lower case and cut to 80 characters; buttons (payloads "/…") are not phrases.
    """
    counts: Counter[str] = Counter()
    senders: dict[str, set[str]] = defaultdict(set)
    for sender, own in _by_sender(events).items():
        for turn in _turns(own):
            text = turn.message.text.strip()
            if not turn.misunderstood or not text or text.startswith("/"):
                continue
            key = _phrase_key(text)
            if key:
                counts[key] += 1
                senders[key].add(sender)
    shown = [
        Phrase(_truncate(key), count, len(senders[key]))
        for key, count in counts.items()
        if len(senders[key]) >= PHRASE_MIN_SENDERS
    ]
    shown.sort(key=lambda p: (-p.count, -p.senders, p.text))
    return shown[:limit]


def top_intents(events: Iterable[TrackerEvent], limit: int = TOP_INTENTS) -> list[IntentCount]:
    """The intents of the citizens' messages, most frequent first (nlu_fallback is not one)."""
    counts = Counter(
        event.intent
        for event in events
        if event.type_name == "user" and event.intent and event.intent != FALLBACK_INTENT
    )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [IntentCount(intent, count) for intent, count in ranked[:limit]]


@dataclass(slots=True)
class _Run:
    form: str
    steps: list[str] = field(default_factory=list)


def form_funnels(events: Iterable[TrackerEvent]) -> list[FormFunnel]:
    """Each form's runs: started, completed, and for each step how many reached it and left.

    A run starts when the form becomes the active loop and ends when the active loop is
    set to none: completed if the form itself did it (the last action run was the form),
    left otherwise (Annulla, Menu, a person, another form, a new session) or if the run is
    still open at the end of the period. A step is a value of requested_slot; a run left is
    counted at the last step it reached.
    """
    started: Counter[str] = Counter()
    completed: Counter[str] = Counter()
    reached: dict[str, Counter[str]] = defaultdict(Counter)
    dropped: dict[str, Counter[str]] = defaultdict(Counter)

    def leave(run: _Run) -> None:
        if run.steps:
            dropped[run.form][run.steps[-1]] += 1

    for own in _by_sender(events).values():
        run: _Run | None = None
        last_action: str | None = None
        for event in own:
            if event.type_name == "action":
                last_action = event.action
            elif event.type_name == "session_started" and run is not None:
                leave(run)
                run = None
            elif event.type_name == "active_loop":
                name = event.data.get("name")
                if name:
                    if run is not None and run.form == name:
                        continue
                    if run is not None:
                        leave(run)
                    run = _Run(str(name))
                    started[run.form] += 1
                elif run is not None:
                    if last_action == run.form:
                        completed[run.form] += 1
                    else:
                        leave(run)
                    run = None
            elif event.type_name == "slot" and run is not None and event.data.get("name") == REQUESTED_SLOT:
                step = event.data.get("value")
                if isinstance(step, str) and step and step not in run.steps:
                    run.steps.append(step)
                    reached[run.form][step] += 1
        if run is not None:
            leave(run)
    funnels = []
    for form in sorted(started):
        steps = sorted(reached[form].items(), key=lambda item: (-item[1], item[0]))
        funnels.append(
            FormFunnel(
                form,
                started[form],
                completed[form],
                tuple(FormStep(step, count, dropped[form][step]) for step, count in steps),
            )
        )
    return funnels


# --- handoff tickets ------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile (q in 0..1) of the values, None if there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _waits(tickets: Iterable[TicketFacts]) -> list[float]:
    return [
        max(0.0, (t.claimed_at - t.created_at).total_seconds()) for t in tickets if t.claimed_at is not None
    ]


def waiting_time(tickets: Sequence[TicketFacts]) -> WaitingTime:
    """From the ticket's opening to a person taking it, over the tickets taken; the ones
    nobody took are counted apart (their wait is not over)."""
    waits = _waits(tickets)
    return WaitingTime(
        claimed=len(waits),
        unclaimed=sum(1 for t in tickets if t.claimed_at is None),
        median_seconds=_seconds(statistics.median(waits) if waits else None),
        p90_seconds=_seconds(percentile(waits, 0.9)),
    )


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def ratings(tickets: Iterable[TicketFacts]) -> Ratings:
    """The ratings 1-5 the citizens gave after a chat with a person."""
    scores = [t.rating for t in tickets if t.rating is not None and 1 <= t.rating <= 5]
    average = round(statistics.fmean(scores), 2) if scores else None
    return Ratings(len(scores), average, dict(Counter(scores)))


# --- everything together --------------------------------------------------------------


def figures(
    span: Period,
    events: Sequence[TrackerEvent] | None,
    tickets: Sequence[TicketFacts] | None,
    practices: Sequence[PracticeFacts],
    open_at: OpenAt | None,
) -> Figures:
    """Every figure of the period; those of a store that could not be read (None) stay None.

    Out of hours needs the office hours (`open_at`, the URP desk's) as well as the history.
    """
    start, end = span.first, span.last
    if events is not None:
        events = [e for e in events if start <= rome_day(e.at) <= end]
    if tickets is not None:
        tickets = [t for t in tickets if start <= rome_day(t.created_at) <= end]
    practices = [p for p in practices if start <= rome_day(p.created_at) <= end]

    talks = conversations(events) if events is not None else None
    misses = fallbacks(events) if events is not None else None
    tickets_by_day: dict[date, list[TicketFacts]] = defaultdict(list)
    for ticket in tickets or ():
        tickets_by_day[rome_day(ticket.created_at)].append(ticket)
    practices_by_day: dict[date, list[PracticeFacts]] = defaultdict(list)
    for practice in practices:
        practices_by_day[rome_day(practice.created_at)].append(practice)

    days = []
    for day in span.days():
        row: dict[str, object] = {}
        if talks is not None and misses is not None:
            today = talks.get(day, {})
            handed = sum(1 for c in today.values() if c.handed)
            messages, missed = misses.get(day, (0, 0))
            row.update(
                conversations=len(today),
                handed_to_person=handed,
                solved_by_bot=len(today) - handed,
                user_messages=messages,
                fallbacks=missed,
            )
            if open_at is not None:
                row["out_of_hours"] = sum(1 for c in today.values() if not open_at(c.first_at))
        if tickets is not None:
            own = tickets_by_day.get(day, [])
            waits, scores = _waits(own), ratings(own)
            row.update(
                tickets=len(own),
                wait_median_seconds=_seconds(statistics.median(waits) if waits else None),
                wait_p90_seconds=_seconds(percentile(waits, 0.9)),
                ratings=scores.count,
                rating_average=scores.average,
            )
        filed = practices_by_day.get(day, [])
        chat = sum(1 for p in filed if p.via_chat)
        days.append(DayFigures(day, practices_chat=chat, practices_other=len(filed) - chat, **row))  # type: ignore[arg-type]

    return Figures(
        period=span,
        days=tuple(days),
        totals=_totals(days, events is not None, open_at is not None),
        top_intents=None if events is None else tuple(top_intents(events)),
        phrases=None if events is None else tuple(misunderstood_phrases(events)),
        forms=None if events is None else tuple(form_funnels(events)),
        waiting=None if tickets is None else waiting_time(tickets),
        ratings=None if tickets is None else ratings(tickets),
        sources=Sources(events is not None, tickets is not None, open_at is not None),
    )


def _sum(days: Sequence[DayFigures], name: str, known: bool) -> int | None:
    return sum(int(getattr(day, name) or 0) for day in days) if known else None


def _totals(days: Sequence[DayFigures], history: bool, hours: bool) -> Totals:
    talks = _sum(days, "conversations", history)
    handed = _sum(days, "handed_to_person", history)
    bot = _sum(days, "solved_by_bot", history)
    messages = _sum(days, "user_messages", history)
    missed = _sum(days, "fallbacks", history)
    chat = sum(day.practices_chat for day in days)
    other = sum(day.practices_other for day in days)
    return Totals(
        conversations=talks,
        handed_to_person=handed,
        solved_by_bot=bot,
        bot_share=rate(bot, talks),
        person_share=rate(handed, talks),
        user_messages=messages,
        fallbacks=missed,
        fallback_rate=rate(missed, messages),
        out_of_hours=_sum(days, "out_of_hours", history and hours),
        practices_chat=chat,
        practices_other=other,
        chat_share=rate(chat, chat + other),
    )
