"""The reminder cadence: which step an invoice is at on a given day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from quittance.reminders import Cadence, step_name

DUE = date(2026, 12, 10)


def _steps(cadence: Cadence, first: int, last: int) -> dict[int, str | None]:
    return {d: cadence.step_on(DUE, DUE + timedelta(days=d)) for d in range(first, last + 1)}


def test_default_cadence_is_3_days_before_then_1_7_and_15_after() -> None:
    steps = _steps(Cadence(), -10, 30)
    assert {d: s for d, s in steps.items() if s} == {
        **dict.fromkeys(range(-3, 1), "d-3"),
        **dict.fromkeys(range(1, 7), "d+1"),
        **dict.fromkeys(range(7, 15), "d+7"),
        **dict.fromkeys(range(15, 22), "d+15"),
    }


def test_the_first_day_of_each_step_is_its_offset() -> None:
    steps = _steps(Cadence(), -10, 30)
    firsts = [d for d in range(-9, 31) if steps[d] and steps[d] != steps[d - 1]]
    assert firsts == [-3, 1, 7, 15]


def test_a_configured_cadence_is_followed() -> None:
    cadence = Cadence(offsets=(0, 30), catch_up_days=2)
    steps = {d: s for d, s in _steps(cadence, -5, 40).items() if s}
    assert steps == {
        **dict.fromkeys(range(0, 30), "d+0"),
        30: "d+30",
        31: "d+30",
    }


def test_the_query_window_covers_exactly_the_due_dates_at_some_step() -> None:
    cadence = Cadence()
    today = date(2026, 11, 23)
    first, last = cadence.due_dates_for(today)
    at_a_step = {
        today - timedelta(days=d)
        for d in range(-60, 60)
        if cadence.step_on(today - timedelta(days=d), today)
    }
    assert (min(at_a_step), max(at_a_step)) == (first, last)


@pytest.mark.parametrize(
    ("offsets", "catch_up"),
    [((), 7), ((1, -3), 7), ((1, 1), 7), ((1,), 0)],
    ids=["empty", "unsorted", "duplicate", "no-catch-up"],
)
def test_bad_cadences_are_refused(offsets: tuple[int, ...], catch_up: int) -> None:
    with pytest.raises(ValueError):
        Cadence(offsets=offsets, catch_up_days=catch_up)


def test_step_names_carry_their_sign() -> None:
    assert [step_name(o) for o in (-3, 0, 1, 15)] == ["d-3", "d+0", "d+1", "d+15"]
