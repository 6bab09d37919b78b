"""Understand when a citizen wants an appointment, in Italian as people type it.

`parse_when("martedì prossimo alle 10", now)` gives the day, the time if one was said and
the part of the day ("mattina", "pomeriggio") if one was said. dateparser reads the dates
it reads well ("3 dicembre", "15/12", "domani"); what it gets wrong or does not know is
handled here first: "dopodomani", "martedì prossimo", "domani mattina", "alle 11" (which
dateparser takes for the 11th of the month), "alle 3" (15:00: nobody books at 3 at night).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

import dateparser

from sportello.clock import PROCESS_CLOCK, ROME


def rome_today() -> dt.date:
    """Today at the comune, whatever the server's own timezone: "oggi" and "domani" are Rome's."""
    return PROCESS_CLOCK.today()

PartOfDay = Literal["mattina", "pomeriggio"]
# Where the parts of the day begin and end, in local time; counters never open at night.
PARTS_OF_DAY: dict[PartOfDay, tuple[dt.time, dt.time]] = {
    "mattina": (dt.time(0, 0), dt.time(13, 0)),
    "pomeriggio": (dt.time(13, 0), dt.time(23, 59)),
}
# The time to aim at when only a part of the day was said.
_PART_TARGET: dict[PartOfDay, dt.time] = {
    "mattina": dt.time(9, 0),
    "pomeriggio": dt.time(15, 0),
}
# "alle 3" is 15:00: hours up to this one without "di mattina" are the afternoon's.
_LAST_AMBIGUOUS_HOUR = 7


@dataclass(frozen=True, slots=True)
class Wanted:
    """A wanted day, with the time or the part of the day when the citizen said one."""

    date: dt.date
    time: dt.time | None = None
    part_of_day: PartOfDay | None = None

    def target(self) -> dt.datetime | dt.date:
        """What to ask the nearest free slots for: the time, the part of day's, or the day."""
        moment = self.time or (
            _PART_TARGET[self.part_of_day] if self.part_of_day else None
        )
        if moment is None:
            return self.date
        return dt.datetime.combine(self.date, moment, ROME)


_WEEKDAYS = {
    "lunedi": 0,
    "martedi": 1,
    "mercoledi": 2,
    "giovedi": 3,
    "venerdi": 4,
    "sabato": 5,
    "domenica": 6,
}
_NUMBERS = {
    "un": 1,
    "uno": 1,
    "una": 1,
    "due": 2,
    "tre": 3,
    "quattro": 4,
    "cinque": 5,
    "sei": 6,
    "sette": 7,
    "otto": 8,
    "nove": 9,
    "dieci": 10,
    "undici": 11,
    "dodici": 12,
    "tredici": 13,
    "quattordici": 14,
    "quindici": 15,
    "sedici": 16,
    "diciassette": 17,
    "diciotto": 18,
}
_MONTHS = (
    "gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|"
    "novembre|dicembre|gen|feb|mar|apr|mag|giu|lug|ago|set|sett|ott|nov|dic"
)
_NUMBER = r"\d{1,2}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True))

_MORNING = re.compile(
    r"\b(?:(?:di|in|nella|della|la|alla)\s+)?(?:mattina|mattino|mattinata)\b"
)
_AFTERNOON = re.compile(
    r"\b(?:(?:di|nel|del|il|al)\s+)?(?:(?:primo|tardo)\s+)?pomeriggio\b"
)
_EVENING = re.compile(r"\b(?:(?:di|la|della|in)\s+)?sera(?:ta)?\b")
_THIS_MORNING = re.compile(r"\b(?:stamattina|stamani|stamane|questa\s+mattina)\b")
_THIS_AFTERNOON = re.compile(r"\bquesto\s+pomeriggio\b")
_TONIGHT = re.compile(r"\b(?:stasera|questa\s+sera)\b")
_NOON = re.compile(r"\b(?:a\s+)?mezzogiorno\b")
_TIME = re.compile(
    r"\b(?:(?:alle|all'|verso\s+le|verso|per\s+le|dalle|entro\s+le|le)\s*(?:ore\s*)?|ore\s*|h\s*)"
    rf"(?P<hour>{_NUMBER})(?![/\-\d])"
    r"(?:\s*[:.,]\s*(?P<minute>\d{2})\b)?"
    r"(?:\s+e\s+(?P<plus>mezza|mezzo|un\s+quarto|quarto|tre\s+quarti|\d{1,2}))?"
    r"(?:\s+meno\s+(?P<minus>un\s+quarto|quarto|\d{1,2}))?"
)
_CLOCK = re.compile(r"\b(?P<hour>\d{1,2}):(?P<minute>\d{2})\b")
# 9.30 is a time; 15.12 is a date (the 15th of December).
_DOTTED_CLOCK = re.compile(
    r"(?<![\d.])\b(?P<hour>\d{1,2})\.(?P<minute>1[3-9]|[2-5]\d)\b(?!\.)"
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_DATE = re.compile(
    r"\b(\d{1,2})\s*[/\-.]\s*(\d{1,2})(?:\s*[/\-.]\s*(\d{4}|\d{2}))?\b"
)
_NAMED_DATE = re.compile(
    rf"\b(\d{{1,2}}|primo|1°|1º)\s*(?:di\s+)?({_MONTHS})\b\.?(?:\s+(\d{{4}}))?"
)
_DAY_AFTER_TOMORROW = re.compile(r"\bdopo\s*domani\b")
_TOMORROW = re.compile(r"\bdomani\b")
_TODAY = re.compile(r"\boggi\b")
_IN_DAYS = re.compile(
    rf"\b(?:tra|fra)\s+(?P<count>{_NUMBER})\s+(?P<unit>giorni|giorno|settimane|settimana)\b"
)
_NEXT_WEEK = re.compile(r"\b(?:(?:la\s+)?prossima\s+settimana|settimana\s+prossima)\b")
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b")
_DAY_NUMBER = re.compile(r"\b(?:il|giorno|per\s+il|del)?\s*(\d{1,2})\b")
_THE_DAY_NUMBER = re.compile(r"\b(?:il|giorno)\s+(\d{1,2})\b")


def _plain(text: str) -> str:
    """Lower case, without accents, apostrophes unified, punctuation turned to spaces."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("`", "'")
    # A comma between digits is a time (9,30); any other punctuation only separates words.
    text = re.sub(r"(?<=\d),(?=\d)", ":", text)
    text = re.sub(r"[^\w\s/:.°º'\-]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word]


def _minutes(word: str) -> int:
    word = re.sub(r"\s+", " ", word)
    return {
        "mezza": 30,
        "mezzo": 30,
        "un quarto": 15,
        "quarto": 15,
        "tre quarti": 45,
    }.get(word) or int(word)


class _Reading:
    """What has been understood so far; each understood piece is cut out of the text."""

    def __init__(self, text: str, now: dt.datetime) -> None:
        self.text = f" {text} "
        self.now = now
        self.today = now.date()
        self.day: dt.date | None = None
        self.time: dt.time | None = None
        self.part: PartOfDay | None = None
        self.morning_said = False

    def cut(self, match: re.Match[str]) -> None:
        self.text = self.text[: match.start()] + " " + self.text[match.end() :]

    def find(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        match = pattern.search(self.text)
        if match is not None:
            self.cut(match)
        return match

    # -- parts of the day and times --

    def read_parts_of_day(self) -> None:
        if self.find(_THIS_MORNING):
            self.day, self.part = self.today, "mattina"
        if self.find(_THIS_AFTERNOON) or self.find(_TONIGHT):
            self.day, self.part = self.today, "pomeriggio"
        if self.find(_MORNING):
            self.part = "mattina"
        # Counters close before the evening: "sera" asks for the latest, the afternoon.
        if self.find(_AFTERNOON) or self.find(_EVENING):
            self.part = "pomeriggio"
        self.morning_said = self.part == "mattina"

    def read_time(self) -> None:
        if self.find(_NOON):
            self.time = dt.time(12, 0)
            return
        for pattern in (_TIME, _CLOCK, _DOTTED_CLOCK):
            match = pattern.search(self.text)
            if match is None:
                continue
            hour = _number(match.group("hour"))
            minute = int(match.group("minute") or 0)
            groups = match.groupdict()
            if groups.get("plus"):
                minute += _minutes(groups["plus"])
            if groups.get("minus"):
                hour, minute = hour - 1, minute + 60 - _minutes(groups["minus"])
            hour, minute = hour + minute // 60, minute % 60
            if self.part == "pomeriggio" and hour < 12:
                hour += 12
            elif 1 <= hour <= _LAST_AMBIGUOUS_HOUR and not self.morning_said:
                hour += 12
            if 0 <= hour <= 23:
                self.cut(match)
                self.time = dt.time(hour, minute)
            return

    # -- days --

    def read_explicit_date(self) -> None:
        """A date with its month: 2026-12-15, 15/12, 15.12.2026, 15 dicembre, primo dicembre."""
        match = self.find(_ISO_DATE)
        if match is not None:
            self.day = _valid_date(*(int(part) for part in match.groups()))
            return
        match = self.find(_NUMERIC_DATE)
        if match is not None:
            day, month, year = match.groups()
            self.day = self._dateparser(f"{day}/{month}" + (f"/{year}" if year else ""), year)
            return
        match = self.find(_NAMED_DATE)
        if match is not None:
            day, month, year = match.groups()
            day = "1" if not day[0].isdigit() or day[-1] in "°º" else day
            self.day = self._dateparser(f"{day} {month}" + (f" {year}" if year else ""), year)

    def _dateparser(self, text: str, year: str | None) -> dt.date | None:
        parsed = dateparser.parse(
            text,
            languages=["it"],
            settings={
                "DATE_ORDER": "DMY",
                "PREFER_DATES_FROM": "future",
                "RELATIVE_BASE": self.now.replace(tzinfo=None),
                "REQUIRE_PARTS": ["day", "month"],
            },
        )
        if parsed is None:
            return None
        found = parsed.date()
        if year is None and found.replace(year=self.today.year) == self.today:
            return self.today  # "preferring the future", dateparser skips today to next year
        return found

    def read_relative_day(self) -> None:
        """dopodomani, domani, oggi, tra tre giorni, martedì (prossimo), la prossima settimana."""
        next_week = self.find(_NEXT_WEEK) is not None
        weekday = self.find(_WEEKDAY)
        if self.day is not None:
            return  # an explicit date wins; the weekday said with it adds nothing
        if self.find(_DAY_AFTER_TOMORROW):
            self.day = self.today + dt.timedelta(days=2)
        elif self.find(_TOMORROW):
            self.day = self.today + dt.timedelta(days=1)
        elif self.find(_TODAY):
            self.day = self.today
        elif (match := self.find(_IN_DAYS)) is not None:
            count = _number(match.group("count"))
            unit = 7 if match.group("unit").startswith("settiman") else 1
            self.day = self.today + dt.timedelta(days=count * unit)
        if weekday is not None:
            number = self._day_of_month()
            if number is not None:
                self.day = number  # "venerdì 27": the number says which Friday
            elif self.day is None:
                self.day = self._weekday(_WEEKDAYS[weekday.group(1)], next_week)
        elif next_week and self.day is None:
            self.day = self._weekday(0, True)
        elif self.day is None and _THE_DAY_NUMBER.search(self.text):
            self.day = self._day_of_month()  # "il 27": the next 27th
        self.text = re.sub(r"\bprossim[oa]\b", " ", self.text)

    def _weekday(self, weekday: int, next_week: bool) -> dt.date:
        if next_week:
            monday = self.today + dt.timedelta(days=7 - self.today.weekday())
            return monday + dt.timedelta(days=weekday)
        # The next one after today: "giovedì" said on a Thursday is next week's.
        ahead = (weekday - self.today.weekday() - 1) % 7 + 1
        return self.today + dt.timedelta(days=ahead)

    def _day_of_month(self) -> dt.date | None:
        match = _DAY_NUMBER.search(self.text)
        if match is None or not 1 <= int(match.group(1)) <= 31:
            return None
        self.cut(match)
        number = int(match.group(1))
        year, month = self.today.year, self.today.month
        for _ in range(13):
            found = _valid_date(year, month, number)
            if found is not None and found >= self.today:
                return found
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return None

    def wanted(self) -> Wanted | None:
        day = self.day
        if day is None and (self.time is not None or self.part is not None):
            # "alle 11", "pomeriggio": today if that is still ahead, else tomorrow.
            until = self.time or PARTS_OF_DAY[self.part or "mattina"][1]
            day = self.today if until > self.now.time() else self.today + dt.timedelta(days=1)
        if day is None:
            return None
        return Wanted(date=day, time=self.time, part_of_day=self.part)


def _valid_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_when(text: str, now: dt.datetime) -> Wanted | None:
    """The day (and time, or part of the day) a citizen asked for; None if none was said.

    `now` is the moment of the question; without a timezone it is taken as Rome's.
    """
    local = now.astimezone(ROME) if now.tzinfo is not None else now.replace(tzinfo=ROME)
    plain = _plain(text)
    if not plain:
        return None
    reading = _Reading(plain, local)
    reading.read_parts_of_day()
    reading.read_time()
    reading.read_explicit_date()
    reading.read_relative_day()
    return reading.wanted()


def said_day(text: str, today: dt.date) -> dt.date | None:
    """The day a question names ("oggi", "domani", "sabato", "il 5 dicembre"), or None.

    Unlike `parse_when`, a time alone ("a che ora apre?", "alle 10") names no day.
    """
    plain = _plain(text)
    if not plain:
        return None
    reading = _Reading(plain, dt.datetime.combine(today, dt.time(0, 0), ROME))
    reading.read_parts_of_day()
    reading.read_time()
    reading.read_explicit_date()
    reading.read_relative_day()
    return reading.day
