"""Data subjects' rights against the moto stack provisioned from template.yaml: the export
holds every record about the customer (checked against a full read of every table and of the
archive, done here only), and an erasure crypto-shreds the customer while the books, receipt
numbers and archived proofs stay correct and verifiable.

The export is a zip in the exports bucket behind a presigned GET. moto checks neither presigned
signatures nor expiry and mock_aws cannot be reached over HTTP, so the zip is read by its key
and the URL is asserted on itself."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from quittance.aws.items import from_item
from quittance.errors import CustomerErased, NotFound, SealInvalid
from quittance.ledger.service import pseudonymous_customer_id
from quittance.privacy import rights
from quittance.privacy.export import CustomerExport
from quittance.privacy.retention import record_type, stored_as_stated
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded

from .conftest import MotoStack, answer, http_event
from .pipeline import customer_stores, drain, exported_books, post_webhook

ADA = {"customer": "cus_AdaLovelace01", "email": "ada.lovelace@example.net", "name": "Ada Lovelace"}
BOB = {"customer": "cus_BobMartin0002", "email": "bob.martin@example.net", "name": "Bob Martin"}
ADA_ID = pseudonymous_customer_id("stripe", ADA["customer"])
BOB_ID = pseudonymous_customer_id("stripe", BOB["customer"])


def pay(stack: MotoStack, who: dict[str, str], invoice: str, amount: int) -> str:
    delivery = stripe_payment_intent_succeeded(
        secret=stack.provisioned.webhook_secrets["stripe"],
        invoice_number=invoice,
        amount_minor=amount,
        **who,
    )
    assert post_webhook(stack, "stripe", delivery.body, delivery.headers)[0] == 202
    return delivery.event_id


def admin(stack: MotoStack, method: str, path: str, route: str, **params: str) -> Any:
    event = http_event(method, path, route, params)
    event["requestContext"]["authorizer"] = {
        "iam": {"userArn": "arn:aws:iam::123456789012:user/dpo"}
    }
    function = "ArchiveApiFunction" if path.startswith("/admin/exports") else "PrivacyApiFunction"
    if "?" in path:
        event["rawPath"], event["rawQueryString"] = path.split("?", 1)
        event["requestContext"]["http"]["path"] = event["rawPath"]
        event["queryStringParameters"] = dict(
            pair.split("=", 1) for pair in event["rawQueryString"].split("&")
        )
    return answer(stack.functions[function].invoke(event))


def erase(stack: MotoStack, customer_id: str) -> tuple[int, dict[str, Any]]:
    return admin(  # type: ignore[no-any-return]
        stack,
        "DELETE",
        f"/admin/customers/{customer_id}",
        "/admin/customers/{customer_id}",
        customer_id=customer_id,
    )


def export(stack: MotoStack, customer_id: str) -> tuple[int, dict[str, Any]]:
    return admin(  # type: ignore[no-any-return]
        stack,
        "GET",
        f"/admin/customers/{customer_id}/export",
        "/admin/customers/{customer_id}/export",
        customer_id=customer_id,
    )


def zip_of(stack: MotoStack, answer: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The export's zip as the answer describes it: read from the exports bucket by the key
    its download URL names, checked against the answer's size and SHA-256; (customer.json,
    the other files by name)."""
    bucket = stack.resource("ExportsBucket")
    url = urlsplit(answer["download_url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    path = unquote(url.path).removeprefix("/")
    # Virtual-hosted (AWS) or path-style (an endpoint on 127.0.0.1) addressing.
    key = path if url.netloc.startswith(f"{bucket}.") else path.removeprefix(f"{bucket}/")
    assert key == answer["key"], url
    assert key.startswith(f"exports/customers/{answer['customer_id']}/") and key.endswith(".zip")
    assert query["X-Amz-Expires"] == "900"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and "X-Amz-Signature" in query
    expires = datetime.fromisoformat(answer["expires_at"])
    assert expires.tzinfo is not None
    assert abs(expires - (datetime.now(UTC) + timedelta(seconds=900))) < timedelta(seconds=60)
    stored = stack.client("s3").get_object(Bucket=bucket, Key=key)
    body = stored["Body"].read()
    assert len(body) == answer["size"] == stored["ContentLength"]
    assert hashlib.sha256(body).hexdigest() == answer["sha256"]
    assert stored["ServerSideEncryption"] == "aws:kms"
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        files = {n: archive.read(n) for n in archive.namelist() if n != "customer.json"}
        document = json.loads(archive.read("customer.json"))
    assert answer["files"] == len(files) and answer["invoices"] == len(document["invoices"])
    return document, files


def scan(stack: MotoStack, logical: str) -> list[dict[str, Any]]:
    client = stack.client("dynamodb")
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": stack.resource(logical)}
    while True:
        page = client.scan(**kwargs)
        items.extend(from_item(i) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def objects(stack: MotoStack) -> dict[str, bytes]:
    s3 = stack.client("s3")
    bucket = stack.resource("ArchiveBucket")
    listed = s3.list_object_versions(Bucket=bucket).get("Versions", [])
    return {
        f"{o['Key']}@{o['VersionId']}": s3.get_object(
            Bucket=bucket, Key=o["Key"], VersionId=o["VersionId"]
        )["Body"].read()
        for o in listed
    }


@pytest.fixture
def traffic(moto_stack: MotoStack) -> MotoStack:
    pay(moto_stack, ADA, "F-ADA-1", 4200)
    pay(moto_stack, ADA, "F-ADA-2", 1500)
    pay(moto_stack, BOB, "F-BOB-1", 9900)
    drain(moto_stack)
    return moto_stack


def test_export_holds_every_record_about_the_customer(traffic: MotoStack) -> None:
    status, body = export(traffic, ADA_ID)
    assert status == 200
    document, files = zip_of(traffic, body)
    assert document["profile"]["email"] == ADA["email"]
    assert document["profile"]["name"] == ADA["name"]

    # The truth, read in full here (a test may Scan; the export never does).
    ledger = scan(traffic, "LedgerTable")
    invoices = {
        i["pk"] for i in ledger if i.get("sk") == "#INVOICE" and i.get("customer_id") == ADA_ID
    }
    assert invoices == {"INV#F-ADA-1", "INV#F-ADA-2"}
    held = [i for i in ledger if i["pk"] in invoices]
    receipts = {i["sk"].removeprefix("RCPT#") for i in held if i["sk"].startswith("RCPT#")}
    events = {i["event_id"] for i in held if i["sk"].startswith("EVT#")}
    messages = {i["sk"] for i in held if i["sk"].startswith("MSG#")}
    assert receipts and events and messages

    exported = document["invoices"]
    assert {f"INV#{i['summary']['number']}" for i in exported} == invoices
    assert {d["receipt_number"] for i in exported for d in i["documents"]} == receipts
    assert {p["event_id"] for i in exported for p in i["payments"]} == events
    assert {f"MSG#{m['sk'].removeprefix('MSG#')}" for i in exported for m in i["messages"]} == (
        messages
    )
    for message in (m for i in exported for m in i["messages"]):
        assert {"kind", "status", "at"} <= message.keys()

    # Archive: every receipt PDF of the customer, byte for byte, and nobody else's.
    archived = objects(traffic)
    ada_pdfs = {
        key.split("@")[0].rsplit("/", 1)[1].removesuffix(".pdf"): data
        for key, data in archived.items()
        if key.startswith("receipts/") and key.split("@")[0].rsplit("/", 1)[1][:-4] in receipts
    }
    assert {name.removeprefix("receipts/").removesuffix(".pdf") for name in files} == set(ada_pdfs)
    for number, data in ada_pdfs.items():
        assert files[f"receipts/{number}.pdf"] == data

    # Evidence: every kept delivery that opens with Ada's key is in the export.
    _, evidence, _ = customer_stores(traffic)
    kept = {
        key.split("@")[0].rsplit("/", 1)[1].removesuffix(".bin")
        for key in archived
        if key.startswith("evidence/")
    }
    ada_deliveries = set()
    for event_id in kept:
        try:
            evidence.fetch("stripe", event_id, ADA_ID)
        except SealInvalid:  # another customer's envelope does not open with Ada's key
            continue
        else:
            ada_deliveries.add(event_id)
    assert {d["event_id"] for d in document["gateway_deliveries"]} == ada_deliveries == events
    # Nothing about Bob.
    assert BOB["email"] not in json.dumps(document) and BOB["name"] not in json.dumps(document)


def test_erasure_shreds_the_customer_and_keeps_the_books(traffic: MotoStack) -> None:
    customers, evidence, keyring = customer_stores(traffic)
    ada_events = {i["event_id"] for i in scan(traffic, "LedgerTable") if i["sk"].startswith("EVT#")}
    status, report = erase(traffic, ADA_ID)
    assert status == 200
    assert report["already_erased"] is False
    assert {e["record"] for e in report["erased"]} == {
        "data_key",
        "customer_profile",
        "pending_messages",
    }
    assert {k["record"] for k in report["kept"]} >= {"ledger", "archived_receipts"}
    assert all(k["basis"] for k in report["kept"])

    # The application's own code can no longer read anything about Ada: a typed error.
    assert customers.profile(ADA_ID) is None
    assert customers.stored_profile(ADA_ID) is None
    for event_id in ada_events:
        # Her key is gone (CustomerErased); Bob's deliveries are not hers (not found or not
        # opening). Whatever the event, nothing opens any more.
        try:
            evidence.fetch("stripe", event_id, ADA_ID)
        except (CustomerErased, SealInvalid, NotFound):
            continue
        else:
            pytest.fail(f"delivery {event_id} still opens with the erased customer's key")
    with pytest.raises(CustomerErased):
        keyring.open(ADA_ID, b"\x01" + b"\x00" * 40, "profile.email")
    # Bob is untouched.
    assert (customers.held(BOB_ID) or {}).get("email") == BOB["email"]

    # Ada pays again: a correct ledger entry and receipt number, but no message, no profile.
    pay(traffic, ADA, "F-ADA-3", 700)
    drain(traffic)
    assert customers.stored_profile(ADA_ID) is None
    ledger = scan(traffic, "LedgerTable")
    third = [i for i in ledger if i["pk"] == "INV#F-ADA-3"]
    [receipt] = [i for i in third if i["sk"].startswith("RCPT#")]
    assert json.loads(receipt["data"])["amount"] == {"amount_minor": 700, "currency": "EUR"}
    assert [m["status"] for m in third if m["sk"].startswith("MSG#")] in ([], ["skipped"])
    assert not any(m.get("status") == "sent" for m in third if m["sk"].startswith("MSG#"))

    # Every archived receipt still verifies against the ledger's SHA-256.
    archived = objects(traffic)
    receipts = [i for i in ledger if i["sk"].startswith("RCPT#")]
    assert len(receipts) == 4
    for item in receipts:
        archive = item["archive"]
        data = archived[f"{archive['key']}@{archive['version_id']}"]
        assert hashlib.sha256(data).hexdigest() == archive["sha256_hex"]

    # The accounting export still lists every payment, and its total is the ledger's.
    today = datetime.now(UTC).date().isoformat()
    status, exported = admin(
        traffic, "GET", f"/admin/exports?from={today}&to={today}", "/admin/exports"
    )
    assert status == 200
    rows = exported_books(traffic, exported)
    assert {r["document"] for r in rows} == {i["sk"].removeprefix("RCPT#") for i in receipts}
    total = sum(int(json.loads(i["data"])["amount"]["amount_minor"]) for i in receipts)
    assert sum(Decimal(r["amount"]) * 100 for r in rows) == total == 4200 + 1500 + 9900 + 700

    # A second erasure changes nothing (the audit trail records the call, nothing else moves).
    before = {t: scan(traffic, t) for t in ("LedgerTable", "CustomersTable")}
    status, again = erase(traffic, ADA_ID)
    assert status == 200 and again["already_erased"] is True and again["erased"] == []
    assert {t: scan(traffic, t) for t in ("LedgerTable", "CustomersTable")} == before
    assert objects(traffic) == archived

    # Export after erasure: the books, no profile, the deliveries marked unreadable.
    status, body = export(traffic, ADA_ID)
    assert status == 200
    document, _ = zip_of(traffic, body)
    assert document["profile"] is None
    assert {d.get("unreadable") for d in document["gateway_deliveries"]} == {"customer_erased"}


def test_every_admin_call_is_audited_without_personal_data(traffic: MotoStack) -> None:
    _, answer_ = export(traffic, ADA_ID)
    erase(traffic, ADA_ID)
    entries = [e for e in scan(traffic, "AuditTable") if e["sk"] != "#HEAD"]  # the chain's head
    assert sorted(e["action"] for e in entries) == ["customer.erase", "customer.export"]
    [exported_entry] = [e for e in entries if e["action"] == "customer.export"]
    assert {"key": answer_["key"], "sha256": answer_["sha256"]}.items() <= (
        exported_entry["details"].items()
        if isinstance(exported_entry["details"], dict)
        else json.loads(exported_entry["details"]).items()
    )
    assert all(e["actor"] == "arn:aws:iam::123456789012:user/dpo" for e in entries)
    text = json.dumps(entries, default=str)
    assert ADA["email"] not in text and ADA["name"] not in text


def test_marketing_consent_by_admin_and_never_for_an_erased_customer(traffic: MotoStack) -> None:
    path = f"/admin/customers/{BOB_ID}/consents/marketing"
    route = "/admin/customers/{customer_id}/consents/marketing"
    event = http_event("PUT", path, route, {"customer_id": BOB_ID}, body=b'{"granted": false}')
    status, body = answer(traffic.functions["PrivacyApiFunction"].invoke(event))
    assert status == 200 and body["marketing_consent"]["source"] == "admin"
    customers, _, _ = customer_stores(traffic)
    assert (customers.held(BOB_ID) or {})["marketing_consent"]["granted"] is False
    erase(traffic, ADA_ID)
    path = f"/admin/customers/{ADA_ID}/consents/marketing"
    event = http_event("PUT", path, route, {"customer_id": ADA_ID}, body=b'{"granted": true}')
    assert answer(traffic.functions["PrivacyApiFunction"].invoke(event))[0] == 404
    assert customers.stored_profile(ADA_ID) is None


def test_every_item_has_its_stated_ttl_or_is_legal_archive(traffic: MotoStack) -> None:
    assert export(traffic, BOB_ID)[0] == 200
    erase(traffic, ADA_ID)
    pay(traffic, ADA, "F-ADA-4", 300)
    drain(traffic)
    now = datetime.now(UTC).timestamp()
    tables = [
        logical
        for logical, spec in traffic.provisioned.attributes.items()
        if logical.endswith("Table")
    ]
    assert {"LedgerTable", "CustomersTable", "IdempotencyTable", "AuditTable"} <= set(tables)
    checked = 0
    for table in tables:
        for item in scan(traffic, table):
            kept = stored_as_stated(table, item, now)
            assert kept, (table, item.get("pk") or item.get("id"), item.get("sk"))
            checked += 1
    assert checked > 20
    for key in objects(traffic):
        assert record_type("ArchiveBucket", key).legal_archive
    # The exports bucket's objects: each of a stated type, gone by the bucket's lifecycle
    # after exactly the retention the record of processing states.
    s3, bucket = traffic.client("s3"), traffic.resource("ExportsBucket")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    exports = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert exports
    for key in exports:
        record = record_type("ExportsBucket", key)
        [rule] = [r for r in rules if key.startswith(r["Filter"].get("Prefix", ""))]
        assert rule["Status"] == "Enabled"
        assert record.ttl == timedelta(days=rule["Expiration"]["Days"]) == timedelta(days=1)
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled"


PDF_SIZE = 27_000  # a monthly receipt as the receipts function renders it


def test_a_long_standing_customer_exports_more_than_a_lambda_could_answer(
    traffic: MotoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ten years of monthly receipts and their English translations: 240 PDFs, plus room.
    # Generating them through the pipeline would render 300 PDFs; instead the handler's
    # domain read (privacy.rights, behind the handler) returns Ada's real export with that
    # many archived-looking PDFs added.
    real = rights.export_customer

    def long_history(customer_id: str, **stores: Any) -> CustomerExport:
        found: CustomerExport = real(customer_id, **stores)
        files = dict(found.files)
        for n in range(300 - len(files)):
            files[f"receipts/R-2016-{n:06d}.pdf"] = b"%PDF-1.7\n" + os.urandom(PDF_SIZE)
        return CustomerExport(document=found.document, files=files)

    monkeypatch.setattr(rights, "export_customer", long_history)
    event = http_event(
        "GET",
        f"/admin/customers/{ADA_ID}/export",
        "/admin/customers/{customer_id}/export",
        {"customer_id": ADA_ID},
    )
    result = traffic.functions["PrivacyApiFunction"].invoke(event)
    assert result["statusCode"] == 200
    assert len(json.dumps(result).encode()) < 4096  # the whole Lambda answer, headers included
    body = json.loads(result["body"])
    assert body["files"] == 300 and body["size"] > 6 * 1024 * 1024
    document, files = zip_of(traffic, body)
    assert len(files) == 300 and document["profile"]["email"] == ADA["email"]
    assert all(data.startswith(b"%PDF") for data in files.values())
