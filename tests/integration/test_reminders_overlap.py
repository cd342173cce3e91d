"""Two reminder runs at once send each step once. The reminders function reserves no
concurrency (a new account has none to reserve), so EventBridge Scheduler's at-least-once
delivery can start a second run while the first is still going: the step's conditional
claim, not a concurrency of 1, is what keeps it to one reminder."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .test_reminders import DUE, World, _open_with_customer, world  # noqa: F401 - fixture

INVOICES = ("F-OVERLAP-1", "F-OVERLAP-2", "F-OVERLAP-3")


class SecondRunStartsMidway:
    """The ledger as the first run sees it: just before its first claim, a second run reads,
    claims and queues everything, as an overlapping invocation would."""

    def __init__(self, stack_world: World, day: Any) -> None:
        self._world = stack_world
        self._day = day
        self.second: list[Any] | None = None

    def claim_reminder(self, *args: Any, **kwargs: Any) -> bool:
        if self.second is None:
            self.second = self._world.run(self._day)
        return bool(self._world.ledger.claim_reminder(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._world.ledger, name)


def test_an_overlapping_run_sends_each_step_once(world: World) -> None:  # noqa: F811
    # Given three open invoices due in three days, their customers known
    for number in INVOICES:
        _open_with_customer(world, number)
    day = DUE - timedelta(days=3)
    # When a second run starts after the first has read the invoices, before it claims
    interleaved = SecondRunStartsMidway(world, day)
    first = world.run(day, book=interleaved)
    # Then each reminder is queued once, by whichever run claimed it first
    queued = sorted(job.change_id for job in world.queued())
    assert queued == [f"{number}#reminder#d-3" for number in INVOICES]
    assert interleaved.second is not None
    assert sorted(r.outcome for r in interleaved.second) == ["queued"] * len(INVOICES)
    assert [r.outcome for r in first] == ["already_sent"] * len(INVOICES)
