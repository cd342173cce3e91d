"""The one source of "now".

Handlers take a :class:`Clock` from their composition root (``deps()`` wires the
:class:`SystemClock`); everything below them is handed either the clock or the moment it
read. Nothing under ``quittance`` calls ``datetime.now`` itself, so a test, a replay or a
benchmark can pin time for a whole function and the suite passes on any date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""


class SystemClock:
    """The machine's clock (Lambda's is kept in sync by AWS)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that says what it is told: for tests, replays of a given day, benchmarks."""

    at: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("a clock tells timezone-aware time")
        self.at = self.at.astimezone(UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> datetime:
        self.at += by
        return self.at
