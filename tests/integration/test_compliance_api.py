"""The compliance desk against the moto stack: search by every key without a Scan, verify
(and name what fails), legal holds, evidence bundles, resend, the audit trail of each call."""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import json
import zipfile
from collections import Counter
from datetime import datetime
from typing import Any

import boto3
import pytest
from moto.ses.models import ses_backends

from quittance.aws import archive_wiring
from quittance.aws.items import to_item
from quittance.ledger.service import pseudonymous_customer_id
from quittance.providers.base import WebhookRequest
from quittance.providers.stripe import StripeAdapter
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded

from .compliance_world import STAFF, admin, pay
from .conftest import ACCOUNT, REGION, MotoStack, answer, http_event
from .pipeline import drain, post_webhook


@pytest.fixture
def world(moto_stack: MotoStack) -> MotoStack:
    pay(moto_stack, "F-2026-0001", "pi_one")
    pay(moto_stack, "F-2026-0002", "pi_two", cents=5000, reference="cus-shared")
    pay(moto_stack, "F-2026-0003", "pi_three", cents=7000, reference="cus-shared")
    return moto_stack


def _audit(moto_stack: MotoStack) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name=REGION)
    items = client.query(
        TableName=moto_stack.resource("AuditTable"),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues=to_item({":pk": "CHAIN#admin"}),
    )["Items"]
    return items


def _numbers(body: dict[str, Any]) -> list[str]:
    return sorted(i["receipt_number"] for i in body["items"])


def _count_dynamodb_operations(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every DynamoDB operation archive_api issues, through a botocore event hook on each client
    it creates."""
    operations: Counter[str] = Counter()
    # archive_api's wiring (quittance.aws.archive_wiring) builds every client it uses.
    make = archive_wiring.make_client

    def counted(service: str, region: str) -> Any:
        client = make(service, region)
        if service == "dynamodb":
            client.meta.events.register(
                "before-call.dynamodb.*", lambda model, **_: operations.update([model.name])
            )
        return client

    monkeypatch.setattr(archive_wiring, "make_client", counted)
    return operations


def test_every_search_key_finds_the_receipts_and_none_scans(
    world: MotoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    operations = _count_dynamodb_operations(monkeypatch)
    status, first = admin(world, "GET", "/admin/receipts", query={"invoice": "F-2026-0001"})
    assert status == 200, first
    (receipt,) = first["items"]
    number = receipt["receipt_number"]
    searches = {
        "receipt": {"receipt": number},
        "invoice": {"invoice": "F-2026-0001"},
        "payment": {"payment": "pi_one"},
        "customer reference": {"provider": "stripe", "reference": "cus-F-2026-0001"},
        "customer id": {"customer": receipt["customer_id"]},
        "date range": {"from": "2026-11-01", "to": "2026-11-30"},
        "method": {"from": "2026-11-01", "to": "2026-11-30", "method": "card"},
        "status": {"from": "2026-11-01", "to": "2026-11-30", "status": "paid"},
    }
    for name, query in searches.items():
        status, body = admin(world, "GET", "/admin/receipts", query=query)
        assert status == 200, (name, body)
        assert number in _numbers(body), name
    _, shared = admin(
        world, "GET", "/admin/receipts", query={"provider": "stripe", "reference": "cus-shared"}
    )
    assert [i["invoice_number"] for i in shared["items"]] == ["F-2026-0002", "F-2026-0003"]
    _, none = admin(
        world,
        "GET",
        "/admin/receipts",
        query={"from": "2026-11-01", "to": "2026-11-30", "method": "sepa_debit"},
    )
    assert none["items"] == []
    _, other_day = admin(
        world, "GET", "/admin/receipts", query={"from": "2026-10-01", "to": "2026-10-31"}
    )
    assert other_day["items"] == []
    status, refused = admin(world, "GET", "/admin/receipts", query={"method": "card"})
    assert status == 422 and "date range" in json.dumps(refused)
    assert operations["Query"] > 0
    assert operations["Scan"] == 0, operations


def test_date_range_pages_with_a_cursor(world: MotoStack) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"from": "2026-11-01", "to": "2026-11-30", "limit": "2"}
        if cursor:
            query["cursor"] = cursor
        status, body = admin(world, "GET", "/admin/receipts", query=query)
        assert status == 200, body
        assert len(body["items"]) <= 2
        seen += [i["receipt_number"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages >= 2
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 3


def _number(world: MotoStack, invoice: str = "F-2026-0001") -> str:
    _, body = admin(world, "GET", "/admin/receipts", query={"invoice": invoice})
    return str(body["items"][0]["receipt_number"])


def test_show_and_verify_ok_then_altered_ledger_hash_is_named(world: MotoStack) -> None:
    number = _number(world)
    status, shown = admin(world, "GET", f"/admin/receipts/{number}")
    assert status == 200, shown
    assert shown["archive"]["key"].endswith(f"/{number}.pdf")
    assert shown["versions"][0]["lock_mode"] == "COMPLIANCE"
    assert shown["legal_hold"] is False
    assert shown["invoice"]["events"][0]["payment_id"] == "pi_one"
    status, report = admin(world, "POST", f"/admin/receipts/{number}/verify")
    assert status == 200, report
    assert report["ok"] is True, report
    assert {c["name"] for c in report["checks"]} >= {
        "sha256_matches_ledger", "sha256_matches_s3_checksum", "lock_mode", "retain_until",
        "pdfa_identification", "embedded_receipt_json",
    }  # fmt: skip

    # The ledger's recorded hash is altered behind the API's back.
    client = boto3.client("dynamodb", region_name=REGION)
    key = to_item({"pk": "INV#F-2026-0001", "sk": f"RCPT#{number}"})
    client.update_item(
        TableName=world.resource("LedgerTable"),
        Key=key,
        UpdateExpression="SET #a.sha256_hex = :h",
        ExpressionAttributeNames={"#a": "archive"},
        ExpressionAttributeValues=to_item({":h": "0" * 64}),
    )
    status, report = admin(world, "POST", f"/admin/receipts/{number}/verify")
    assert status == 200
    assert report["ok"] is False
    assert report["failed"] == ["sha256_matches_ledger"]


def test_legal_hold_on_every_version_and_off_recorded(world: MotoStack) -> None:
    number = _number(world)
    status, held = admin(
        world, "PUT", f"/admin/receipts/{number}/legal-hold",
        body={"reason": "chargeback dispute", "case": "CB-2026-17"},
    )  # fmt: skip
    assert status == 200, held
    _, shown = admin(world, "GET", f"/admin/receipts/{number}")
    assert shown["legal_hold"] is True and all(v["legal_hold"] for v in shown["versions"])
    status, _ = admin(world, "PUT", f"/admin/receipts/{number}/legal-hold", body={"reason": "x"})
    assert status == 422
    status, _ = admin(
        world, "DELETE", f"/admin/receipts/{number}/legal-hold",
        body={"reason": "dispute closed, won", "case": "CB-2026-17"},
    )  # fmt: skip
    assert status == 200
    _, shown = admin(world, "GET", f"/admin/receipts/{number}")
    assert shown["legal_hold"] is False
    _, log = admin(
        world, "GET", "/admin/audit", query={"receipt": number, "action": "receipt.release"}
    )
    (entry,) = log["items"]
    assert entry["details"]["case"] == "CB-2026-17" and entry["actor"] == STAFF


def test_evidence_bundle_opens_and_every_hash_matches(world: MotoStack) -> None:
    number = _number(world)
    admin(world, "POST", f"/admin/receipts/{number}/verify")
    status, result = admin(world, "POST", f"/admin/receipts/{number}/evidence")
    assert status == 200, result
    assert result["expires_in"] == 300
    s3 = boto3.client("s3", region_name=REGION)
    raw = s3.get_object(
        Bucket=world.resource("ArchiveBucket"), Key=result["key"], VersionId=result["version_id"]
    )["Body"].read()
    assert hashlib.sha256(raw).hexdigest() == result["sha256_hex"]
    with zipfile.ZipFile(io.BytesIO(raw)) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        names = set(bundle.namelist()) - {"manifest.json"}
        assert names == set(manifest["files"])
        for name, digest in manifest["files"].items():
            assert hashlib.sha256(bundle.read(name)).hexdigest() == digest, name
        embedded = json.loads(bundle.read("receipt.json"))
        ledger = json.loads(bundle.read("ledger/receipt-record.json"))
        pdf = bundle.read(f"documents/{number}.pdf")
        audit = json.loads(bundle.read("audit.json"))
        readme = bundle.read("README.txt").decode()
        assert "delivery/NOT-KEPT.txt" in names  # this event did not come through intake
    assert hashlib.sha256(pdf).hexdigest() == ledger["archive"]["sha256_hex"]
    for field in ("receipt_number", "invoice_number", "amount", "balance_due"):
        assert embedded[field] == ledger["data"][field]
    assert [e["action"] for e in audit][-1] == "receipt.verify"
    assert "Dossier de preuve" in readme and "Evidence bundle" in readme


def test_every_admin_call_leaves_exactly_one_audit_entry(world: MotoStack) -> None:
    number = _number(world)
    before = len(_audit(world))
    hold = {"reason": "annual audit", "case": "A-2026"}
    calls = [
        ("GET", "/admin/receipts", {"query": {"receipt": number}}),
        ("GET", f"/admin/receipts/{number}", {}),
        ("POST", f"/admin/receipts/{number}/verify", {}),
        ("PUT", f"/admin/receipts/{number}/legal-hold", {"body": hold}),
        ("DELETE", f"/admin/receipts/{number}/legal-hold", {"body": hold}),
        ("POST", f"/admin/receipts/{number}/evidence", {}),
        ("GET", "/admin/receipts/R-2099-999999", {}),
        ("GET", "/admin/receipts", {"query": {"method": "card"}}),
        ("GET", "/admin/audit", {"query": {"receipt": number}}),
        ("GET", "/admin/audit/verify", {}),
        ("GET", "/admin/archive/expiring", {"query": {"before": "2026-12-01"}}),
    ]  # fmt: skip
    for i, (method, path, kw) in enumerate(calls, start=1):
        status, body = admin(world, method, path, **kw)
        assert len(_audit(world)) == before + i, (method, path, status, body)
    _, log = admin(world, "GET", "/admin/audit", query={"actor": STAFF})
    outcomes = {e["action"]: e["outcome"] for e in log["items"]}
    assert outcomes["receipt.show"] in {"ok", "refused_404"}
    _, verified = admin(world, "GET", "/admin/audit/verify")
    assert verified["ok"] is True and verified["checked"] == len(calls) + 2


def test_resend_is_byte_identical_and_once_per_request_id(world: MotoStack) -> None:
    number = _number(world)
    request = {"request_id": "resend-0001", "email": "corrected@example.org"}
    status, first = admin(world, "POST", f"/admin/receipts/{number}/resend", body=request)
    assert status == 200, first
    status, again = admin(world, "POST", f"/admin/receipts/{number}/resend", body=request)
    assert status == 200 and again["message_id"] == first["message_id"]
    status, other = admin(
        world, "POST", f"/admin/receipts/{number}/resend",
        body={"request_id": "resend-0001", "email": "someone@example.org"},
    )  # fmt: skip
    assert status == 422, other
    # What SES was handed: the archived original, byte for byte, sent once.
    sent = ses_backends[ACCOUNT][REGION].sent_messages
    assert len(sent) == 1
    message = email.message_from_bytes(sent[0].raw_data.encode(), policy=email.policy.default)
    (attachment,) = list(message.iter_attachments())
    # The archive key is dated by the receipt's issue, whatever day the test runs on.
    key = admin(world, "GET", f"/admin/receipts/{number}")[1]["archive"]["key"]
    archived = (
        boto3.client("s3", region_name=REGION)
        .get_object(Bucket=world.resource("ArchiveBucket"), Key=key)["Body"]
        .read()
    )
    assert attachment.get_content() == archived
    _, log = admin(
        world, "GET", "/admin/audit", query={"receipt": number, "action": "receipt.resend"}
    )
    assert all("example" not in json.dumps(e["details"]) for e in log["items"])


def _bundle(moto_stack: MotoStack, result: dict[str, Any]) -> zipfile.ZipFile:
    raw = (
        boto3.client("s3", region_name=REGION)
        .get_object(
            Bucket=moto_stack.resource("ArchiveBucket"),
            Key=result["key"],
            VersionId=result["version_id"],
        )["Body"]
        .read()
    )
    return zipfile.ZipFile(io.BytesIO(raw))


def test_bundle_carries_the_raw_delivery_until_the_customer_is_erased(
    moto_stack: MotoStack,
) -> None:
    secret = moto_stack.provisioned.webhook_secrets["stripe"]
    delivery = stripe_payment_intent_succeeded(
        secret=secret, invoice_number="F-2026-0200", amount_minor=4200, customer="cus_Erasable01"
    )
    assert post_webhook(moto_stack, "stripe", delivery.body, delivery.headers)[0] == 202
    drain(moto_stack)
    number = _number(moto_stack, "F-2026-0200")
    status, kept = admin(moto_stack, "POST", f"/admin/receipts/{number}/evidence")
    assert (status, kept["delivery"]) == (200, "kept"), kept
    with _bundle(moto_stack, kept) as bundle:
        body = bundle.read("delivery/body.bin")
        headers = json.loads(bundle.read("delivery/headers.json"))
        received = json.loads(bundle.read("delivery/delivery.json"))["received_at"]
    assert body == delivery.body
    StripeAdapter().verify(
        WebhookRequest(headers, body, datetime.fromisoformat(received)), [secret]
    )

    customer = pseudonymous_customer_id("stripe", "cus_Erasable01")
    event = http_event(
        "DELETE", f"/admin/customers/{customer}", "/admin/customers/{customer_id}",
        {"customer_id": customer},
    )  # fmt: skip
    event["requestContext"]["authorizer"] = {"iam": {"userArn": STAFF}}
    assert answer(moto_stack.functions["PrivacyApiFunction"].invoke(event))[0] == 200
    status, erased = admin(moto_stack, "POST", f"/admin/receipts/{number}/evidence")
    assert (status, erased["delivery"]) == (200, "erased"), erased
    with _bundle(moto_stack, erased) as bundle:
        names = set(bundle.namelist())
        assert "delivery/body.bin" not in names and "delivery/ERASED.txt" in names
        assert "erased" in bundle.read("README.txt").decode()
        # The proof itself stays: it is the legal record.
        assert f"documents/{number}.pdf" in names
