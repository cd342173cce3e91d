"""The audit trail against the real Audit table (moto): appends chain, concurrent writers never
fork the chain, and verify names the first altered or removed entry."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from quittance.audit.trail import PersonalDataRefused
from quittance.aws.audit_table import AuditTrail
from quittance.aws.items import to_item

from .conftest import REGION, MotoStack

ACTOR = "arn:aws:iam::123456789012:user/auditor"


def _trail(moto_stack: MotoStack) -> AuditTrail:
    return AuditTrail(
        moto_stack.resource("AuditTable"), boto3.client("dynamodb", region_name=REGION)
    )


def test_entries_chain_and_verify_passes(moto_stack: MotoStack) -> None:
    trail = _trail(moto_stack)
    first = trail.record(ACTOR, "receipt.show", "R-2026-000001", "ok", "req-1")
    second = trail.record(
        ACTOR, "receipt.verify", "R-2026-000001", "failed", "req-2", {"checks": ["sha256"]}
    )
    assert (first.seq, second.seq) == (1, 2)
    assert second.prev_hash == first.hash
    report = trail.verify()
    assert report.ok and report.checked == 2


def test_a_writer_that_read_a_stale_head_retries_after_the_winner(
    moto_stack: MotoStack,
) -> None:
    # moto's conditional writes are not atomic across threads (two threads can both pass
    # attribute_not_exists), so the race is forced here in one thread instead: writer B reads
    # the chain's head, writer A appends, then B tries to append after the head it read.
    a, b = _trail(moto_stack), _trail(moto_stack)
    a.record(ACTOR, "receipt.show", "R-2026-000001", "ok", "req-0")
    stale = b._last()
    winner = a.record(ACTOR, "receipt.show", "R-2026-000002", "ok", "req-a")
    reads = iter([stale])
    fresh = b._last
    b._last = lambda: next(reads, None) or fresh()  # type: ignore[method-assign]

    late = b.record(ACTOR, "receipt.verify", "R-2026-000003", "ok", "req-b")

    # Then B's conditional put on the taken number failed, and B appended after the winner.
    assert (winner.seq, late.seq) == (2, 3)
    entries = list(a.entries())
    assert [e.seq for e in entries] == [1, 2, 3]
    assert [e.request_id for e in entries] == ["req-0", "req-a", "req-b"]
    assert entries[2].prev_hash == entries[1].hash
    assert a.verify().ok


def _alter(moto_stack: MotoStack, seq: int, **changes: Any) -> None:
    client = boto3.client("dynamodb", region_name=REGION)
    key = to_item({"pk": "CHAIN#admin", "sk": f"E#{seq:012d}"})
    item = client.get_item(TableName=moto_stack.resource("AuditTable"), Key=key)["Item"]
    item.update(to_item(changes))
    client.put_item(TableName=moto_stack.resource("AuditTable"), Item=item)


def test_verify_names_an_altered_entry(moto_stack: MotoStack) -> None:
    trail = _trail(moto_stack)
    for i in range(4):
        trail.record(ACTOR, "receipt.show", "R-2026-000001", "ok", f"req-{i}")
    _alter(moto_stack, 3, outcome="denied")
    report = trail.verify()
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "altered" in report.problem


def test_verify_names_a_removed_entry(moto_stack: MotoStack) -> None:
    trail = _trail(moto_stack)
    for i in range(4):
        trail.record(ACTOR, "receipt.show", "R-2026-000001", "ok", f"req-{i}")
    boto3.client("dynamodb", region_name=REGION).delete_item(
        TableName=moto_stack.resource("AuditTable"),
        Key=to_item({"pk": "CHAIN#admin", "sk": f"E#{2:012d}"}),
    )
    report = trail.verify()
    assert (report.ok, report.first_bad_seq) == (False, 2)
    assert "missing" in report.problem


def test_verify_names_the_newest_entries_when_they_are_removed(moto_stack: MotoStack) -> None:
    trail = _trail(moto_stack)
    for i in range(4):
        trail.record(ACTOR, "receipt.show", "R-2026-000001", "ok", f"req-{i}")
    client = boto3.client("dynamodb", region_name=REGION)
    for seq in (3, 4):
        client.delete_item(
            TableName=moto_stack.resource("AuditTable"),
            Key=to_item({"pk": "CHAIN#admin", "sk": f"E#{seq:012d}"}),
        )
    report = trail.verify()
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert "entries 3 to 4 are missing" in report.problem
    # A later entry does not paper over the gap: it follows the head, after entry 4.
    later = trail.record(ACTOR, "receipt.show", "R-2026-000001", "ok", "req-5")
    assert later.seq == 5
    report = trail.verify()
    assert (report.ok, report.first_bad_seq) == (False, 3)
    assert "missing" in report.problem


def test_personal_data_is_refused_and_nothing_written(moto_stack: MotoStack) -> None:
    trail = _trail(moto_stack)
    with pytest.raises(PersonalDataRefused):
        trail.record(ACTOR, "receipt.resend", "R-2026-000001", "ok", "req", {"email": "a@b.fr"})
    with pytest.raises(PersonalDataRefused):
        trail.record(ACTOR, "receipt.resend", "R-2026-000001", "ok", "req", {"x": "jane@ex.com"})
    assert list(trail.entries()) == []


def test_search_by_target_actor_and_action(moto_stack: MotoStack) -> None:
    trail = _trail(moto_stack)
    trail.record(ACTOR, "receipt.show", "R-2026-000001", "ok", "a")
    trail.record(
        "arn:aws:iam::123456789012:user/other", "receipt.verify", "R-2026-000001", "ok", "b"
    )
    trail.record(ACTOR, "receipt.verify", "R-2026-000002", "ok", "c")
    by_target, _ = trail.search(target="R-2026-000001")
    assert {e.request_id for e in by_target} == {"a", "b"}
    by_actor, _ = trail.search(actor=ACTOR, action="receipt.verify")
    assert [e.request_id for e in by_actor] == ["c"]
    everything, _ = trail.search(action="receipt.verify")
    assert {e.request_id for e in everything} == {"b", "c"}
