"""The end of the books: once an invoice's proofs are disposed of and its retention is over,
`quittance ledger retire` removes its ledger records with the caller's own credentials and
the staff API records it; an invoice with a proof still archived, still retained or changed
since it was listed stays whole.

A dev-stage stack (GOVERNANCE locks of one day, no legal years) stands in for the ten years:
the test removes proofs as `archive dispose` would once their lock ends, and moves the staff
API's clock two days on."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from quittance.archive.search import encode_cursor
from quittance.models.events import (
    EventType,
    Failure,
    FailureCategory,
    MethodKind,
    PaymentEvent,
    PaymentMethod,
)
from quittance.models.messages import PaymentEventMessage
from quittance.models.money import Money
from quittance_ops.desk import Desk
from quittance_ops.disposal import DisposalNotRecorded
from quittance_ops.retire_cli import RECORD_PATH, candidates, record_journal, retire_year

from .compliance_world import STAFF, InProcessApi, admin, pay, pump
from .conftest import REGION, MotoStack

PAID_2015 = datetime(2015, 3, 2, 9, 0, tzinfo=UTC)
# Receipts for the 2015 payments are issued today: today is the invoices' newest activity.
YEAR = datetime.now(UTC).year


def _desk(stack: MotoStack) -> Desk:
    return Desk(
        InProcessApi(stack),
        stack.resource("ArchiveBucket"),
        boto3.client("s3", region_name=REGION),
        stack.resource("LedgerTable"),
        boto3.client("dynamodb", region_name=REGION),
    )


def _two_days_on(stack: MotoStack) -> None:
    """The staff API judges as if two days had passed: the dev stage's retention is over."""
    module = sys.modules["quittance_fn_ArchiveApiFunction"]
    later = datetime.now(UTC) + timedelta(days=2)
    module.deps().desk.clock = lambda: later


def _dispose_proofs(stack: MotoStack, invoice: str) -> list[str]:
    """Remove every archived version of the invoice's proofs, as dispose does when the lock
    ends (here the dev stage's GOVERNANCE lock is bypassed in its stead)."""
    s3 = boto3.client("s3", region_name=REGION)
    bucket = stack.resource("ArchiveBucket")
    _, found = admin(stack, "GET", "/admin/receipts", query={"invoice": invoice})
    numbers = [i["receipt_number"] for i in found["items"]]
    for number in numbers:
        listed = s3.list_object_versions(Bucket=bucket, Prefix="receipts/").get("Versions", [])
        for version in listed:
            if f"/{number}." in version["Key"]:
                s3.delete_object(
                    Bucket=bucket,
                    Key=version["Key"],
                    VersionId=version["VersionId"],
                    BypassGovernanceRetention=True,
                )
    return numbers


def _items(stack: MotoStack, invoice: str) -> list[str]:
    found = boto3.client("dynamodb", region_name=REGION).query(
        TableName=stack.resource("LedgerTable"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"INV#{invoice}"}},
        ConsistentRead=True,
    )
    return sorted(i["sk"]["S"] for i in found["Items"])


def _fail(
    stack: MotoStack, invoice: str, payment: str, at: datetime = datetime(2015, 3, 5, tzinfo=UTC)
) -> None:
    """A failed payment on the invoice: a new event, no document."""
    event = PaymentEvent(
        event_id=f"evt-fail-{payment}",
        provider="stripe",
        type=EventType.PAYMENT_FAILED,
        occurred_at=at,
        payment_id=payment,
        invoice_number=invoice,
        amount=Money(amount_minor=500, currency="EUR"),
        method=PaymentMethod(kind=MethodKind.CARD, card_brand="visa", card_last4="4242"),
        failure=Failure(category=FailureCategory.DECLINED, provider_code="card_declined"),
    )
    boto3.client("sqs", region_name=REGION).send_message(
        QueueUrl=stack.resource("PaymentEventsQueue"),
        MessageBody=PaymentEventMessage(
            correlation_id=f"c-{payment}", received_at=event.occurred_at, event=event
        ).model_dump_json(),
    )
    pump(stack, "PaymentEventsQueue", "LedgerFunction")


REGISTRATION = {
    "customer_reference": "CLI-9", "currency": "EUR",
    "lines": [{"description": "Audit", "quantity": "1", "unit_price_minor": 9000,
               "vat_rate": "20"}],
    "issue_date": "2026-11-01", "due_date": "2026-12-01", "nature": "services",
}  # fmt: skip


@pytest.fixture
def books(dev_moto_stack: MotoStack) -> MotoStack:
    pay(dev_moto_stack, "F-2015-0001", "pi_gone", occurred_at=PAID_2015)
    pay(dev_moto_stack, "F-2015-0002", "pi_kept", occurred_at=PAID_2015)
    pay(dev_moto_stack, "F-2015-0003", "pi_held", occurred_at=PAID_2015)
    _dispose_proofs(dev_moto_stack, "F-2015-0001")
    number = admin(dev_moto_stack, "GET", "/admin/receipts", query={"invoice": "F-2015-0003"})[1][
        "items"
    ][0]["receipt_number"]
    status, _ = admin(
        dev_moto_stack, "PUT", f"/admin/receipts/{number}/legal-hold",
        body={"reason": "tax audit", "case": "TAX-2015"},
    )  # fmt: skip
    assert status == 200
    return dev_moto_stack


def test_an_invoice_whose_proofs_are_gone_waits_for_the_end_of_its_retention(
    books: MotoStack,
) -> None:
    retirable, kept, _ = candidates(_desk(books), YEAR)

    assert retirable == []
    reasons = {k["invoice"]: " ".join(k["reasons"]) for k in kept}
    assert "retained until" in reasons["F-2015-0001"]  # its receipt was issued today
    assert "archived version(s) still kept" in reasons["F-2015-0002"]


def test_retire_removes_exactly_the_invoices_past_retention_and_records_it(
    books: MotoStack, tmp_path: Path
) -> None:
    # Given two days on: F-2015-0001's proof is disposed of and its retention over;
    # F-2015-0002's proof is still archived; F-2015-0003's is under a legal hold
    _two_days_on(books)
    desk = _desk(books)
    receipt = admin(books, "GET", "/admin/receipts", query={"invoice": "F-2015-0001"})[1]["items"][
        0
    ]["receipt_number"]
    before = {n: _items(books, n) for n in ("F-2015-0002", "F-2015-0003")}

    # When staff retire the year
    retirable, kept, _ = candidates(desk, YEAR)
    result = retire_year(desk, YEAR, "end of retention", retirable, tmp_path / "r.json")

    # Then only the first invoice left the ledger, whole
    assert [r["invoice"] for r in result.retired] == ["F-2015-0001"]
    assert result.retired[0]["documents"] == [receipt] and result.refused == []
    assert _items(books, "F-2015-0001") == []
    assert {n: _items(books, n) for n in before} == before
    reasons = {k["invoice"]: " ".join(k["reasons"]) for k in kept}
    assert set(reasons) == {"F-2015-0002", "F-2015-0003"}
    assert all("archived version(s) still kept" in r for r in reasons.values())
    # the series counter stays: the numbering went on
    counter = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=books.resource("LedgerTable"),
        Key={"pk": {"S": f"SERIES#R#{receipt[2:6]}"}, "sk": {"S": "#COUNTER"}},
    )
    assert int(counter["Item"]["last"]["N"]) == 3

    # and the staff desk no longer finds it
    status, found = admin(books, "GET", "/admin/receipts", query={"invoice": "F-2015-0001"})
    assert status == 200 and found["items"] == []
    assert admin(books, "GET", f"/admin/receipts/{receipt}")[0] == 404

    # and the audit trail says who retired what, and when
    _, log = admin(books, "GET", "/admin/audit", query={"action": "ledger.retire"})
    (entry,) = log["items"]
    assert entry["actor"] == STAFF and entry["outcome"] == "ok"
    assert entry["details"]["retired"] == [
        {"invoice": "F-2015-0001", "documents": [receipt], "items": len(retirable[0]["sort_keys"])}
    ]

    # and a second run has nothing left to retire
    again, _, _ = candidates(desk, YEAR)
    assert again == []


def test_an_invoice_changed_since_it_was_listed_is_left_whole(
    books: MotoStack, tmp_path: Path
) -> None:
    _two_days_on(books)
    desk = _desk(books)
    retirable, _, _ = candidates(desk, YEAR)
    assert [v["invoice"] for v in retirable] == ["F-2015-0001"]

    # A late event lands on the invoice between the listing and the deletion
    _fail(books, "F-2015-0001", "pi_late")
    items = _items(books, "F-2015-0001")

    result = retire_year(desk, YEAR, "end of retention", retirable, tmp_path / "r.json")

    assert result.retired == [] and result.audit_seqs == []
    assert "changed since it was listed" in result.refused[0]
    assert _items(books, "F-2015-0001") == items


def test_a_retirement_record_for_an_invoice_still_in_the_ledger_is_refused(
    books: MotoStack,
) -> None:
    status, body = admin(
        books, "POST", "/admin/ledger/retirements",
        body={"reason": "wrong", "year": 2015,
              "invoices": [{"invoice": "F-2015-0002", "documents": [], "items": 3}]},
    )  # fmt: skip
    assert status == 422 and body["error"] == "still_in_ledger"
    assert _items(books, "F-2015-0002")


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({}, "year"),
        ({"year": "15"}, "year"),
        ({"year": "2015", "cursor": "2016-01-01"}, "cursor"),
        ({"year": "2015", "cursor": encode_cursor({"day": "2016-01-01"})}, "cursor"),
        ({"year": "2015", "since": "x"}, "unknown"),
        (
            {"year": "2015", "cursor": encode_cursor({"day": "2015-03-02", "after": {"x": 1}})},
            "cursor",
        ),
        (
            {
                "year": "2015",
                "cursor": encode_cursor(
                    {
                        "day": "2015-03-02",
                        "after": {
                            k: {"S": "ACT#2015-03-03" if k == "gsi2pk" else "#INVOICE"}
                            for k in ("pk", "sk", "gsi2pk", "gsi2sk")
                        },
                    }
                ),
            },
            "cursor",
        ),
    ],
)
def test_bad_retirable_queries_are_refused(
    dev_moto_stack: MotoStack, query: dict[str, Any], problem: str
) -> None:
    status, body = admin(dev_moto_stack, "GET", "/admin/ledger/retirable", query=query)
    assert status == 422 and problem in body["detail"]


class RecordRefused:
    """The staff API answering 503 to the retirement record, and as usual otherwise."""

    def __init__(self, api: InProcessApi) -> None:
        self.api = api

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if path == RECORD_PATH:
            return 503, {"message": "Service Unavailable"}
        return self.api.call(method, path, body)


def test_a_retirement_whose_record_fails_is_saved_and_recorded_later(
    books: MotoStack, tmp_path: Path
) -> None:
    _two_days_on(books)
    desk = _desk(books)
    failing = Desk(RecordRefused(InProcessApi(books)), desk.bucket, desk.s3, desk.ledger_table,
                   desk.dynamodb)  # fmt: skip
    retirable, _, _ = candidates(failing, YEAR)

    with pytest.raises(DisposalNotRecorded) as missed:
        retire_year(failing, YEAR, "end of retention", retirable, tmp_path / "r.json")

    # The invoice is gone, the trail has no record yet, and the journal on disk names it
    assert _items(books, "F-2015-0001") == [] and missed.value.saved == tmp_path / "r.json"
    assert admin(books, "GET", "/admin/audit", query={"action": "ledger.retire"})[1]["items"] == []
    saved = json.loads(missed.value.saved.read_text())
    assert [i["invoice"] for i in saved["invoices"]] == ["F-2015-0001"]

    seqs = record_journal(desk, missed.value.saved, keep=True)

    _, log = admin(books, "GET", "/admin/audit", query={"action": "ledger.retire"})
    (entry,) = log["items"]
    assert entry["details"]["retired"] == saved["invoices"] and len(seqs) == 1
    assert json.loads(missed.value.saved.read_text())["invoices"] == []  # nothing left to record


def test_a_retirement_record_naming_an_invoice_twice_is_refused(dev_moto_stack: MotoStack) -> None:
    twice = [{"invoice": "F-1", "documents": [], "items": 1}] * 2
    status, body = admin(
        dev_moto_stack, "POST", "/admin/ledger/retirements",
        body={"reason": "end of retention", "year": 2015, "invoices": twice},
    )  # fmt: skip
    assert status == 422 and "each invoice once" in json.dumps(body)
    _, log = admin(dev_moto_stack, "GET", "/admin/audit", query={"action": "ledger.retire"})
    assert [e["outcome"] for e in log["items"]] == ["refused_422"]


def test_a_busy_day_is_read_over_several_pages_each_invoice_once(books: MotoStack) -> None:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"year": str(YEAR), "limit": "1", **({"cursor": cursor} if cursor else {})}
        status, page = admin(books, "GET", "/admin/ledger/retirable", query=query)
        assert status == 200, page
        pages += 1
        seen += [v["invoice"] for v in page["retirable"] + page["kept"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    # the three invoices were all last touched today (their receipts were issued today): one
    # page each, then one for the rest of the year, unless today is its last day
    assert sorted(seen) == ["F-2015-0001", "F-2015-0002", "F-2015-0003"]
    today = datetime.now(UTC).date()
    rest_of_year = 1 if today < date(today.year, 12, 31) else 0
    assert len(seen) == 3 and pages == 3 + rest_of_year


def test_invoices_without_a_proof_leave_when_their_own_retention_ends(
    dev_moto_stack: MotoStack, tmp_path: Path
) -> None:
    # Given a card declined in 2015 on an invoice never paid since (events, no receipt)
    _fail(dev_moto_stack, "F-2015-0009", "pi_declined", at=datetime(2015, 6, 1, tzinfo=UTC))
    # and an invoice staff registered today that nobody has paid yet
    status, _ = admin(dev_moto_stack, "PUT", "/admin/invoices/F-NEW-1", body=REGISTRATION)
    assert status == 200
    desk = _desk(dev_moto_stack)

    # Then the 2015 invoice is found in 2015's books, its retention long over
    retirable, kept, _ = candidates(desk, 2015)
    assert [(v["invoice"], v["documents"]) for v in retirable] == [("F-2015-0009", [])]
    assert kept == []
    retire_year(desk, 2015, "end of retention", retirable, tmp_path / "r.json")
    assert _items(dev_moto_stack, "F-2015-0009") == []

    # and the registered invoice waits for its own retention, then goes too
    _, kept, _ = candidates(desk, YEAR)
    assert [k["invoice"] for k in kept] == ["F-NEW-1"]
    assert kept[0]["reasons"][0].startswith("retained until")
    _two_days_on(dev_moto_stack)
    retirable, _, _ = candidates(desk, YEAR)
    assert [v["invoice"] for v in retirable] == ["F-NEW-1"]


class ExpiresAfterOne:
    """Staff credentials that expire after one retirement transaction."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.transactions = 0

    def query(self, **kwargs: Any) -> Any:
        return self.client.query(**kwargs)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.transactions += 1
        if self.transactions > 1:
            raise RuntimeError("ExpiredToken: the session expired")
        return self.client.transact_write_items(**kwargs)


def test_a_run_stopped_midway_still_records_what_it_deleted(
    dev_moto_stack: MotoStack, tmp_path: Path
) -> None:
    # Given two declined-only invoices of 2015, both past retention
    for n in (1, 2):
        _fail(dev_moto_stack, f"F-2015-010{n}", f"pi_declined_{n}")
    desk = _desk(dev_moto_stack)
    retirable, _, _ = candidates(desk, 2015)
    assert len(retirable) == 2
    expiring = Desk(desk.api, desk.bucket, desk.s3, desk.ledger_table,
                    ExpiresAfterOne(desk.dynamodb))  # fmt: skip

    # When the session expires after the first deletion
    with pytest.raises(RuntimeError, match="ExpiredToken"):
        retire_year(expiring, 2015, "end of retention", retirable, tmp_path / "r.json")

    # Then the first invoice is gone and recorded, the second untouched, no journal left over
    first, second = (v["invoice"] for v in retirable)
    assert _items(dev_moto_stack, first) == [] and _items(dev_moto_stack, second) != []
    _, log = admin(dev_moto_stack, "GET", "/admin/audit", query={"action": "ledger.retire"})
    (entry,) = log["items"]
    assert [r["invoice"] for r in entry["details"]["retired"]] == [first]
    assert not (tmp_path / "r.json").exists()


def test_a_registration_never_moves_the_activity_day_back(dev_moto_stack: MotoStack) -> None:
    # A gateway whose clock runs ahead dated its event three days from now
    ahead = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    _fail(dev_moto_stack, "F-AHEAD-1", "pi_ahead", at=ahead)

    status, _ = admin(dev_moto_stack, "PUT", "/admin/invoices/F-AHEAD-1", body=REGISTRATION)

    assert status == 200
    invoice = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=dev_moto_stack.resource("LedgerTable"),
        Key={"pk": {"S": "INV#F-AHEAD-1"}, "sk": {"S": "#INVOICE"}},
    )["Item"]
    assert datetime.fromisoformat(invoice["activity_at"]["S"]) == ahead
    assert invoice["gsi2pk"]["S"] == f"ACT#{ahead.date().isoformat()}"
