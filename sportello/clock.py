"""The one clock of every process: what time it is, in UTC and in Rome, and a frozen one for tests.

Code that needs the time asks a `Clock` (`clock()` or `clock.now()` for an aware UTC datetime,
`clock.today()` for the day in Rome) instead of `datetime.now`, so a test can freeze or move it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# Where the comune is: dates and hours a citizen reads are Rome's.
ROME = ZoneInfo("Europe/Rome")


def local(value: datetime) -> datetime:
    """An aware datetime in Rome's time; a naive one is taken as already Rome's."""
    if value.tzinfo is None:
        return value.replace(tzinfo=ROME)
    return value.astimezone(ROME)


class Clock:
    """The wall clock, or, once frozen, a fixed instant that only `advance` moves."""

    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._frozen: datetime | None = None
        if frozen_at is not None:
            self.freeze(frozen_at)

    def __call__(self) -> datetime:
        return self.now()

    def now(self) -> datetime:
        """Now, timezone-aware, in UTC."""
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC)

    def local_now(self) -> datetime:
        """Now in Rome."""
        return self.now().astimezone(ROME)

    def today(self) -> date:
        """Today's date in Rome."""
        return self.local_now().date()

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def freeze(self, at: datetime) -> None:
        """Stop the clock at `at` (aware; a naive one is taken as UTC)."""
        self._frozen = (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        """Move a frozen clock on by `delta`."""
        if self._frozen is None:
            raise RuntimeError("only a frozen clock can be moved")
        self._frozen += delta

    def unfreeze(self) -> None:
        self._frozen = None


# The clock of a process that has no application object to carry one (the actions server,
# the bot's handlers, the back office's command line and column defaults); a test freezes it.
PROCESS_CLOCK = Clock()
