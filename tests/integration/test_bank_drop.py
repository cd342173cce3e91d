"""A statement a bank sync drops under inbox/ is imported by bank_import (the S3 event as S3
sends it to the queue); a re-drop changes nothing, a hostile file imports nothing."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from quittance.aws.bank_entries import BankEntries
from quittance.aws.bank_imports import ImportStatusTable
from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.state import InvoiceStatus
from quittance_ops.camt_samples import Transfer, statement_xml

from .conftest import MotoStack
from .pipeline import deliver
from .test_bank_statement_import import register

# The handlers register their Lambda context with the publisher's idempotency: without it an
# event whose publication Lambda cut short would look in progress until the record expires.
pytestmark = pytest.mark.filterwarnings("error:Couldn't determine the remaining time left")


def drop(stack: MotoStack, key: str, data: bytes) -> None:
    """What a bank sync does: write the file; S3 tells the queue (the bucket's notification
    configuration from the template, which moto honours)."""
    stack.client("s3").put_object(Bucket=stack.resource("BankStatementsBucket"), Key=key, Body=data)


def test_a_dropped_statement_is_imported_once(moto_stack: MotoStack) -> None:
    register(moto_stack, "F-DROP-1", 10000, "cus_drop_1", "Camille Martin")
    statement = statement_xml(
        [
            Transfer(reference="S1", amount=Decimal("120.00"), unstructured=("F-DROP-1",)),
            Transfer(reference="S2", amount=Decimal("9.00"), payer="Inconnu"),
        ]
    )
    drop(moto_stack, "inbox/2026-12-03.xml", statement)
    drop(moto_stack, "inbox/2026-12-03-again.xml", statement)
    drop(moto_stack, "inbox/hostile.xml", b'<!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>')
    drop(moto_stack, "archive/2026-11.xml", statement)  # outside the drop prefix: not imported
    # S3's test event when the notification was configured, then one per file under inbox/.
    assert deliver(moto_stack, "BankStatementsQueue", "BankImportFunction") == 4
    assert moto_stack.queue_messages("BankStatementsQueue") == []
    assert moto_stack.queue_messages("BankStatementsDLQ") == []
    assert deliver(moto_stack, "PaymentEventsQueue", "LedgerFunction") == 1

    dynamodb, table = moto_stack.client("dynamodb"), moto_stack.resource("LedgerTable")
    summary = LedgerTable(table, dynamodb).get_invoice("F-DROP-1")
    assert summary is not None and summary.status is InvoiceStatus.PAID
    waiting = BankEntries(table, dynamodb).waiting()
    assert [(r.entry.reference, r.statement) for r in waiting] == [("S2", "STMT-2026-12-03")]

    statuses = ImportStatusTable(table, dynamodb)
    first, again = statuses.get("inbox/2026-12-03.xml"), statuses.get("inbox/2026-12-03-again.xml")
    assert first is not None and first.outcome is not None and first.ticket is None
    assert first.outcome.report is not None and again is not None and again.outcome is not None
    assert (first.outcome.state, first.outcome.report.matched, first.outcome.report.to_review) == (
        "imported",
        1,
        1,
    )
    assert first.outcome.sha256 == hashlib.sha256(statement).hexdigest()
    assert again.outcome.report is not None and again.outcome.report.already_known == 2
    hostile = statuses.get("inbox/hostile.xml")
    assert hostile is not None and hostile.outcome is not None
    assert hostile.outcome.state == "refused" and "DTD" in (hostile.outcome.reason or "")
    assert statuses.get("archive/2026-11.xml") is None


REFUSED = {
    "truncated.xml": (
        statement_xml([Transfer(reference="T1", amount=Decimal("1.00"))])[:-40],
        "not well-formed",
    ),
    "malformed.xml": (b"<Document><Stmt></Document>", "not well-formed"),
    "laughs.xml": (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b"<l>&c;</l>",
        "declares a DTD",
    ),
    "external.xml": (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><d>&x;</d>',
        "declares a DTD",
    ),
    "huge.xml": (
        statement_xml([Transfer(reference="T2", amount=Decimal("1.00"))])
        + b" " * (50 * 1024 * 1024),
        "the limit is 33,554,432",
    ),
}


def test_a_dropped_file_that_is_not_a_statement_we_read_is_refused_and_writes_nothing(
    moto_stack: MotoStack,
) -> None:
    """Malformed, truncated, oversized (50 MiB, refused from its size before it is read) and
    hostile files: each refused with its reason in its status record, nothing imported."""
    register(moto_stack, "F-DROP-2", 100, "cus_drop_2", "Camille Martin")
    for name, (data, _) in REFUSED.items():
        drop(moto_stack, f"inbox/{name}", data)
    assert deliver(moto_stack, "BankStatementsQueue", "BankImportFunction") == 1 + len(REFUSED)
    assert moto_stack.queue_messages("BankStatementsDLQ") == []  # refused, not retried
    assert moto_stack.queue_messages("PaymentEventsQueue") == []

    dynamodb, table = moto_stack.client("dynamodb"), moto_stack.resource("LedgerTable")
    statuses = ImportStatusTable(table, dynamodb)
    for name, (_, reason) in REFUSED.items():
        status = statuses.get(f"inbox/{name}")
        assert status is not None and status.outcome is not None, name
        assert status.outcome.state == "refused", name
        assert reason in (status.outcome.reason or ""), (name, status.outcome.reason)
    items = dynamodb.scan(TableName=table)["Items"]
    assert not [i for i in items if i["pk"]["S"].startswith("BANK#")]
    summary = LedgerTable(table, dynamodb).get_invoice("F-DROP-2")
    assert summary is not None and summary.status is InvoiceStatus.OPEN
