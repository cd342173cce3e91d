"""/admin/bank through the function the template deploys: staff import a statement, read
the review list, match one entry and ignore another; every call audited, a refused file
writes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quittance.aws.audit_table import AuditTrail
from quittance.aws.ledger_table import LedgerTable
from quittance.bank.review import entry_id
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
    entry = entry_id(reference)
    return call(
        stack,
        "POST",
        f"/admin/bank/entries/{entry}/{verb}",
        f"/admin/bank/entries/{{entry}}/{verb}",
        {"entry": entry},
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
            # API Gateway routes on the decoded path: a "/" in the parameter breaks the route.
            entry, verb = path.removeprefix("/admin/bank/entries/").split("/")
            route, params = f"/admin/bank/entries/{{entry}}/{verb}", {"entry": entry}
        if path.startswith("/admin/bank/uploads/"):
            upload_id = path.removeprefix("/admin/bank/uploads/")
            route, params = "/admin/bank/uploads/{upload_id}", {"upload_id": upload_id}
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


def test_a_large_statement_is_uploaded_to_the_drop_prefix_and_followed_until_imported(
    moto_stack: MotoStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Above what one call may import, the CLI asks for a presigned POST (audited), uploads
    the file to inbox/ itself, and follows the import S3's notification triggers; it prints
    the same summary as a direct import."""
    register(moto_stack, "F-UP-1", 10000, "cus_up_1", "Camille Martin")
    register(moto_stack, "F-UP-2", 5000, "cus_up_2", "Paul Girard")
    desk = Desk(api=FunctionCaller(moto_stack), bucket="", s3=None)
    monkeypatch.setattr(bank_cli, "connect", lambda stack, aws_stack: desk)
    looks: list[float] = []

    def time_passes(seconds: float) -> None:  # meanwhile, Lambda's poller runs bank_import
        looks.append(seconds)
        deliver(moto_stack, "BankStatementsQueue", "BankImportFunction")

    monkeypatch.setattr(bank_cli, "pause", time_passes)
    monkeypatch.setattr(bank_cli, "DIRECT_MAX", 1000)
    transfers = [
        Transfer(reference="U/2026 1+A#1", amount=Decimal("120.00"), structured="F-UP-1"),
        Transfer(reference="U2", amount=Decimal("60.00"), payer="Paul Girard"),
        Transfer(reference="U3", amount=Decimal("33.00"), payer="Inconnu"),
    ]
    data = statement_xml(transfers)
    assert len(data) > 1000
    statement = tmp_path / "releve-decembre.xml"
    statement.write_bytes(data)

    result = CliRunner().invoke(app, ["bank", "import", str(statement)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "3 entries, 2 matched (1 by reference, 1 by amount and name)" in said
    assert "1 to review" in said and looks  # it waited for the import at least once

    deliver(moto_stack, "PaymentEventsQueue", "LedgerFunction")
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    for number in ("F-UP-1", "F-UP-2"):
        summary = ledger.get_invoice(number)
        assert summary is not None and summary.status is InvoiceStatus.PAID

    # Who uploaded what: the audit entry, and the object's own metadata.
    trail = AuditTrail(moto_stack.resource("AuditTable"), moto_stack.client("dynamodb"))
    entries, _ = trail.search(actor=STAFF)
    (ticket,) = [e for e in entries if e.action == "bank.upload"]
    assert ticket.details["sha256"] == hashlib.sha256(data).hexdigest()
    assert (ticket.details["size"], ticket.details["filename"]) == (len(data), statement.name)
    s3, bucket = moto_stack.client("s3"), moto_stack.resource("BankStatementsBucket")
    key = f"inbox/staff/{ticket.details['upload_id']}.xml"
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["Metadata"]["uploaded-by"] == STAFF
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data

    # Uploading it again changes nothing, and says so.
    result = CliRunner().invoke(app, ["bank", "import", str(statement), "--json"])
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)  # progress goes to stderr
    assert (again["matched"], again["already_known"]) == (0, 3)


def test_an_upload_is_signed_for_one_key_its_size_and_the_buckets_kms_key(
    moto_stack: MotoStack,
) -> None:
    announce = {"filename": "big.xml", "size": 20 * 1024 * 1024, "sha256": "a" * 64}
    status, body = call(
        moto_stack, "POST", "/admin/bank/uploads", "/admin/bank/uploads", {},
        json.dumps(announce).encode(),
    )  # fmt: skip
    assert status == 200, body
    fields = body["post"]["fields"]
    assert fields["key"] == body["key"] == f"inbox/staff/{body['upload_id']}.xml"
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", announce["size"], announce["size"]] in conditions
    assert {"x-amz-server-side-encryption": "aws:kms"} in conditions
    key_id = moto_stack.resource("DataKey", "Arn")
    assert {"x-amz-server-side-encryption-aws-kms-key-id": key_id} in conditions
    assert {"x-amz-meta-uploaded-by": STAFF} in conditions
    assert {"key": body["key"]} in conditions

    too_large = {**announce, "size": 33 * 1024 * 1024}
    status, body = call(
        moto_stack, "POST", "/admin/bank/uploads", "/admin/bank/uploads", {},
        json.dumps(too_large).encode(),
    )  # fmt: skip
    assert (status, body["error"]) == (422, "payload_invalid")
    assert "limit is 33,554,432" in body["detail"]
    status, body = call(
        moto_stack, "GET", "/admin/bank/uploads/../../x", "/admin/bank/uploads/{upload_id}",
        {"upload_id": "../../x"}, b"",
    )  # fmt: skip
    assert status == 404


def test_an_uploaded_hostile_statement_is_refused_with_its_reason(
    moto_stack: MotoStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    desk = Desk(api=FunctionCaller(moto_stack), bucket="", s3=None)
    monkeypatch.setattr(bank_cli, "connect", lambda stack, aws_stack: desk)
    monkeypatch.setattr(
        bank_cli, "pause",
        lambda seconds: deliver(moto_stack, "BankStatementsQueue", "BankImportFunction"),
    )  # fmt: skip
    hostile = tmp_path / "hostile.xml"
    hostile.write_bytes(b'<!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>')
    result = CliRunner().invoke(app, ["bank", "import", str(hostile), "--upload"])
    assert result.exit_code == 1
    assert "refused" in result.output and "DTD" in result.output
    items = moto_stack.client("dynamodb").scan(TableName=moto_stack.resource("LedgerTable"))
    assert {i["pk"]["S"].split("#")[0] for i in items["Items"]} == {"BANKFILE"}
    assert moto_stack.queue_messages("PaymentEventsQueue") == []


def test_bank_references_with_reserved_characters_are_matched_and_ignored_from_the_cli(
    moto_stack: MotoStack, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A camt.053 reference may hold "/", " ", "+" and "#": the review list shows it as the
    bank wrote it, and match/ignore reach it through its URL-safe entry id."""
    register(moto_stack, "F-REF-1", 10000, "cus_ref_1", "Camille Martin")
    desk = Desk(api=FunctionCaller(moto_stack), bucket="", s3=None)
    monkeypatch.setattr(bank_cli, "connect", lambda stack, aws_stack: desk)
    odd = ["2026/12/04 VIR+001#A", "ÉCHÉANCE 12/2026", "../admin/x?y=1"]
    statement = tmp_path / "releve.xml"
    statement.write_bytes(
        statement_xml(
            [Transfer(reference=r, amount=Decimal("120.00"), payer="Inconnu") for r in odd]
        )
    )
    runner = CliRunner()
    assert runner.invoke(app, ["bank", "import", str(statement)]).exit_code == 0
    result = runner.invoke(app, ["bank", "unmatched", "--json"])
    listed = {e["reference"]: e["entry_id"] for e in json.loads(result.output)["entries"]}
    assert set(listed) == set(odd)
    assert all(set(i) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
               for i in listed.values())  # fmt: skip

    result = runner.invoke(app, ["bank", "match", odd[0], "F-REF-1"])
    assert result.exit_code == 0, result.output
    assert f"{odd[0]} → F-REF-1" in " ".join(result.output.split())
    result = runner.invoke(app, ["bank", "ignore", odd[1], "--reason", "virement interne"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["bank", "unmatched", "--json"])
    assert [e["reference"] for e in json.loads(result.output)["entries"]] == [odd[2]]

    deliver(moto_stack, "PaymentEventsQueue", "LedgerFunction")
    ledger = LedgerTable(moto_stack.resource("LedgerTable"), moto_stack.client("dynamodb"))
    paid = ledger.get_invoice("F-REF-1")
    assert paid is not None and paid.status is InvoiceStatus.PAID
    trail = AuditTrail(moto_stack.resource("AuditTable"), moto_stack.client("dynamodb"))
    entries, _ = trail.search(actor=STAFF)
    assert {(e.action, e.target) for e in entries} >= {
        ("bank.match", odd[0]),
        ("bank.ignore", odd[1]),
    }
    # An id this service never issued names no entry (nor a path elsewhere).
    for bogus in ("Zm9v", "!!", "a" * 5, entry_id(odd[2]) + "x"):
        status, body = call(
            moto_stack, "POST", f"/admin/bank/entries/{bogus}/ignore",
            "/admin/bank/entries/{entry}/ignore", {"entry": bogus}, b'{"reason": "x"}',
        )  # fmt: skip
        assert status == 404, (bogus, body)
