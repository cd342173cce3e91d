"""A statement a bank sync drops under inbox/ is imported by bank_import (the S3 event as S3
sends it to the queue); a re-drop changes nothing, a hostile file imports nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from quittance.aws.bank_entries import BankEntries
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
    bucket = stack.resource("BankStatementsBucket")
    s3 = stack.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
    notification = {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "eu-west-3",
                "eventTime": "2026-12-04T06:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:bank-sync"},
                "requestParameters": {"sourceIPAddress": "192.0.2.10"},
                "responseElements": {"x-amz-request-id": "r", "x-amz-id-2": "i"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "bank",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "o"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {"key": key, "size": size, "eTag": "e", "sequencer": "01"},
                },
            }
        ]
    }
    stack.client("sqs").send_message(
        QueueUrl=stack.resource("BankStatementsQueue"), MessageBody=json.dumps(notification)
    )


def test_a_dropped_statement_is_imported_once(moto_stack: MotoStack) -> None:
    register(moto_stack, "F-DROP-1", 10000, "cus_drop_1", "Camille Martin")
    statement = statement_xml(
        [
            Transfer(reference="S1", amount=Decimal("120.00"), unstructured=("F-DROP-1",)),
            Transfer(reference="S2", amount=Decimal("9.00"), payer="Inconnu"),
        ]
    )
    moto_stack.client("sqs").send_message(
        QueueUrl=moto_stack.resource("BankStatementsQueue"),
        MessageBody=json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
    )
    drop(moto_stack, "inbox/2026-12-03.xml", statement)
    drop(moto_stack, "inbox/2026-12-03-again.xml", statement)
    drop(moto_stack, "inbox/hostile.xml", b'<!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>')
    assert deliver(moto_stack, "BankStatementsQueue", "BankImportFunction") == 4
    assert moto_stack.queue_messages("BankStatementsQueue") == []
    assert moto_stack.queue_messages("BankStatementsDLQ") == []
    assert deliver(moto_stack, "PaymentEventsQueue", "LedgerFunction") == 1

    dynamodb, table = moto_stack.client("dynamodb"), moto_stack.resource("LedgerTable")
    summary = LedgerTable(table, dynamodb).get_invoice("F-DROP-1")
    assert summary is not None and summary.status is InvoiceStatus.PAID
    waiting = BankEntries(table, dynamodb).waiting()
    assert [(r.entry.reference, r.statement) for r in waiting] == [("S2", "STMT-2026-12-03")]
