"""/admin/bank through the function the template deploys: staff import a statement, read
the review list, match one entry and ignore another; every call audited, a refused file
writes nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quittance.aws.audit_table import AuditTrail
from quittance.aws.ledger_table import LedgerTable
from quittance.ledger.state import InvoiceStatus
from quittance_ops import bank_cli
from quittance_ops.camt_samples import Transfer, statement_xml
from quittance_ops.cli import app
from quittance_ops.desk import Desk

from .conftest import MotoStack, answer, http_event
from .pipeline import deliver
from .test_bank_statement_import import register

# The handlers register their Lambda context with the publisher's idempotency: without it an
# event whose publication Lambda cut short would look in progress until the record expires.
pytestmark = pytest.mark.filterwarnings("error:Couldn't determine the remaining time left")

STAFF = "arn:aws:iam::123456789012:user/comptable"


def call(
    stack: MotoStack, method: str, path: str, route: str, params: dict[str, str], body: bytes
) -> tuple[int, dict[str, Any]]:
    event = http_event(method, path, route, params, body, {"content-type": "application/xml"})
    event["requestContext"]["authorizer"] = {"iam": {"userArn": STAFF}}
    return answer(stack.functions["BankApiFunction"].invoke(event))


def post_statement(stack: MotoStack, data: bytes) -> tuple[int, dict[str, Any]]:
    return call(stack, "POST", "/admin/bank/statements", "/admin/bank/statements", {}, data)


def unmatched(stack: MotoStack) -> tuple[int, dict[str, Any]]:
    return call(stack, "GET", "/admin/bank/unmatched", "/admin/bank/unmatched", {}, b"")


def on_entry(stack: MotoStack, reference: str, verb: str, body: dict[str, Any]) -> Any:
    return call(
        stack,
        "POST",
        f"/admin/bank/entries/{reference}/{verb}",
        f"/admin/bank/entries/{{reference}}/{verb}",
        {"reference": reference},
        json.dumps(body).encode(),
    )


def test_staff_import_review_match_and_ignore(moto_stack: MotoStack) -> None:
    register(moto_stack, "F-API-1", 10000, "cus_api_1", "Camille Martin")
    register(moto_stack, "F-API-2", 5000, "cus_api_2", "Paul Girard")
    statement = statement_xml(
        [
            Transfer(reference="A1", amount=Decimal("120.00"), unstructured=("FACT F API 1",)),
            Transfer(reference="A2", amount=Decimal("60.00"), payer="P. GIRARD"),
            Transfer(reference="A3", amount=Decimal("7.00"), payer="Banque", credit=True),
        ]
    )
    status, body = post_statement(moto_stack, statement)
    assert status == 200, body
    assert (body["matched"], body["to_review"]) == (1, 2)

    status, body = unmatched(moto_stack)
    assert status == 200
    assert {e["reference"]: e["reason"] for e in body["entries"]} == {
        "A2": "unknown",
        "A3": "unknown",
    }
    assert body["entries"][0]["payer_iban_masked"] == "FR76 **** 0129"

    status, body = on_entry(moto_stack, "A2", "match", {"invoices": ["F-API-2"]})
    assert status == 200, body
    assert (body["state"], body["decided_by"]) == ("matched", STAFF)
    status, body = on_entry(moto_stack, "A3", "ignore", {"reason": "frais bancaires remboursés"})
    assert (status, body["state"]) == (200, "ignored")
    status, body = on_entry(moto_stack, "A3", "match", {"invoices": ["F-API-1"]})
    assert (status, body["error"]) == (422, "payload_invalid")
    status, body = on_entry(moto_stack, "NOPE", "ignore", {"reason": "x"})
    assert status == 404

    deliver(moto_stack, "PaymentEventsQueue", "LedgerFunction")
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    first, second = ledger.get_invoice("F-API-1"), ledger.get_invoice("F-API-2")
    assert first is not None and first.status is InvoiceStatus.PAID
    assert second is not None and second.status is InvoiceStatus.PAID

    status, body = unmatched(moto_stack)
    assert body["entries"] == []

    trail = AuditTrail(moto_stack.resource("AuditTable"), moto_stack.client("dynamodb"))
    entries, _ = trail.search(actor=STAFF)
    actions = [e.action for e in entries]
    assert sorted(actions) == sorted(
        ["bank.import", "bank.unmatched", "bank.match", "bank.ignore", "bank.match",
         "bank.ignore", "bank.unmatched"]
    )  # fmt: skip


def test_a_hostile_statement_is_refused_audited_and_writes_nothing(moto_stack: MotoStack) -> None:
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">&x;</Document>'
    )
    status, body = post_statement(moto_stack, hostile)
    assert (status, body["error"]) == (422, "statement_refused")
    assert "DTD" in body["detail"]
    status, body = post_statement(moto_stack, b"x" * (33 * 1024 * 1024))
    assert (status, body["error"]) == (422, "statement_refused")
    items = moto_stack.client("dynamodb").scan(TableName=moto_stack.resource("LedgerTable"))
    assert items["Count"] == 0
    assert moto_stack.queue_messages("PaymentEventsQueue") == []


class FunctionCaller:
    """The staff API as the CLI reaches it, but invoking the function in-process."""

    def __init__(self, stack: MotoStack) -> None:
        self.stack = stack

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        route = path
        params: dict[str, str] = {}
        if path.startswith("/admin/bank/entries/"):
            reference, verb = path.removeprefix("/admin/bank/entries/").split("/")
            route, params = f"/admin/bank/entries/{{reference}}/{verb}", {"reference": reference}
        data = json.dumps(body).encode() if body is not None else b""
        event = http_event(method, path, route, params, data, {"content-type": "application/json"})
        event["requestContext"]["authorizer"] = {"iam": {"userArn": STAFF}}
        return answer(self.stack.functions["BankApiFunction"].invoke(event))


def test_the_cli_imports_lists_and_resolves_through_the_staff_api(
    moto_stack: MotoStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(moto_stack, "F-CLI-1", 10000, "cus_cli_1", "Camille Martin")
    desk = Desk(api=FunctionCaller(moto_stack), bucket="", s3=None)
    monkeypatch.setattr(bank_cli, "connect", lambda stack, aws_stack: desk)
    statement = tmp_path / "releve.xml"
    statement.write_bytes(
        statement_xml(
            [
                Transfer(reference="C1", amount=Decimal("120.00"), structured="F-CLI-1"),
                Transfer(reference="C2", amount=Decimal("33.00"), payer="Inconnu"),
            ]
        )
    )
    runner = CliRunner()
    result = runner.invoke(app, ["bank", "import", str(statement)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # rich wraps to the terminal's width
    assert "1 matched (1 by reference" in said and "1 to review" in said
    result = runner.invoke(app, ["bank", "unmatched", "--json"])
    assert [e["reference"] for e in json.loads(result.output)["entries"]] == ["C2"]
    result = runner.invoke(app, ["bank", "match", "C2", "F-NOPE"])
    assert result.exit_code == 1 and "F-NOPE" in result.output
    result = runner.invoke(app, ["bank", "ignore", "C2", "--reason", "remboursement EDF"])
    assert result.exit_code == 0, result.output
    assert "C2 ignored: remboursement EDF" in " ".join(result.output.split())
    result = runner.invoke(app, ["bank", "unmatched", "--json"])
    assert json.loads(result.output)["entries"] == []
