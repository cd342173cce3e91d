"""The links handler against moto with the template's tables, bucket and key secret: what a
customer's link opens, what the download URL carries, and every kind of bad link refused.

moto neither checks presigned signatures nor their expiry, so the download URL is asserted
on itself: five minutes, inline with a readable filename, signed with the function's
temporary (role) credentials."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from quittance.aws.items import to_item
from quittance.ledger.model import ReceiptRecord
from quittance.links.tokens import LinkSigner
from quittance.models.money import Money

from .conftest import MotoStack, http_event

ROLE_KEY_ID = "ASIAQUITTANCEROLE001"  # ASIA…: an STS session's key, as Lambda gives a role
ROLE_SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsessiontoken"
PAID_AT = datetime(2026, 3, 15, 13, 30, tzinfo=UTC)


@pytest.fixture
def links(moto_stack: MotoStack, monkeypatch: pytest.MonkeyPatch) -> MotoStack:
    """The stack, with the function running under a role's temporary credentials and two
    receipts on file: R-2026-000001 (archived) and R-2026-000002 (not archived yet)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ROLE_KEY_ID)
    monkeypatch.setenv("AWS_SESSION_TOKEN", ROLE_SESSION_TOKEN)
    s3 = moto_stack.client("s3")
    bucket = moto_stack.resource("ArchiveBucket")
    key = "receipts/2026/03/R-2026-000001.pdf"
    version = s3.put_object(Bucket=bucket, Key=key, Body=b"%PDF-1.7 receipt")["VersionId"]
    _put_receipt(moto_stack, "R-2026-000001", archive={"key": key, "version_id": version})
    _put_receipt(moto_stack, "R-2026-000002", archive=None)
    return moto_stack


def _put_receipt(stack: MotoStack, number: str, archive: dict[str, str] | None) -> None:
    record = ReceiptRecord(
        receipt_number=number,
        invoice_number="F-2026-0142",
        payment_id=f"pi_{number}",
        customer_id="C-0123456789abcdef0123",
        amount=Money(amount_minor=123456, currency="EUR"),
        balance_due=Money(amount_minor=0, currency="EUR"),
        invoice_status="paid",
        paid_at=PAID_AT,
        issued_at=PAID_AT,
    )
    item: dict[str, Any] = {
        "pk": "INV#F-2026-0142",
        "sk": f"RCPT#{number}",
        "gsi1pk": f"RCPT#{number}",
        "gsi1sk": "INV#F-2026-0142",
        "type": "receipt",
        "data": record.model_dump_json(),
    }
    if archive:
        item["archive"] = archive
    stack.client("dynamodb").put_item(TableName=stack.resource("LedgerTable"), Item=to_item(item))


def _signer(stack: MotoStack) -> LinkSigner:
    secret = stack.client("secretsmanager").get_secret_value(
        SecretId=stack.resource("LinkSigningKeys")
    )
    return LinkSigner.from_secret(json.loads(secret["SecretString"]))


def _token(stack: MotoStack, number: str = "R-2026-000001", days: int = 30) -> str:
    return _signer(stack).issue(number, datetime.now(UTC) + timedelta(days=days))


def _get(
    stack: MotoStack, token: str, pdf: bool = False, **query: str
) -> tuple[int, dict[str, str], str]:
    path, route = (f"/r/{token}/pdf", "/r/{token}/pdf") if pdf else (f"/r/{token}", "/r/{token}")
    event = http_event("GET", path, route, {"token": token}, headers={"Accept-Language": "fr"})
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    result = stack.functions["LinksFunction"].invoke(event)
    return int(result["statusCode"]), dict(result.get("headers") or {}), result.get("body") or ""


# --- the page ---------------------------------------------------------------------------


def test_a_genuine_link_shows_the_receipt_in_the_asked_language(links: MotoStack) -> None:
    token = _token(links)
    status, headers, page = _get(links, token)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "Payée" in page and "R-2026-000001" in page and "F-2026-0142" in page
    assert f'href="/r/{token}/pdf"' in page
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    # The link in a message names the customer's language, whatever the browser prefers
    status, _, english = _get(links, token, lang="en")
    assert status == 200 and "Paid</span>" in english and "Payée" not in english


# --- the download URL -------------------------------------------------------------------


def test_download_answers_302_to_a_five_minute_inline_url_signed_by_the_role(
    links: MotoStack,
) -> None:
    status, headers, _ = _get(links, _token(links), pdf=True)
    assert status == 302
    url = urlsplit(headers["Location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path.endswith("/receipts/2026/03/R-2026-000001.pdf")
    assert query["X-Amz-Expires"] == "300"
    assert query["response-content-disposition"] == 'inline; filename="R-2026-000001.pdf"'
    assert query["response-content-type"] == "application/pdf"
    assert query["versionId"]
    # Signed with the session's temporary credentials, never a long-lived access key
    assert query["X-Amz-Credential"].startswith(f"{ROLE_KEY_ID}/")
    assert query["X-Amz-Security-Token"] == ROLE_SESSION_TOKEN
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert "Cache-Control" in headers and headers["Cache-Control"] == "private, no-store"


def test_every_click_gets_a_fresh_url(links: MotoStack) -> None:
    token = _token(links)
    _, first, _ = _get(links, token, pdf=True)
    time.sleep(1.1)  # SigV4 dates are to the second
    _, second, _ = _get(links, token, pdf=True)
    assert first["Location"] != second["Location"]


def test_a_receipt_not_archived_yet_has_no_download(links: MotoStack) -> None:
    status, headers, _ = _get(links, _token(links, "R-2026-000002"), pdf=True)
    assert status == 404
    assert "Location" not in headers


# --- refused links ----------------------------------------------------------------------


def _refusals(stack: MotoStack) -> dict[str, str]:
    genuine = _token(stack)
    other = _token(stack, "R-2026-000002")
    payload, _, mac = genuine.partition(".")
    other_payload, _, _ = other.partition(".")
    stranger = LinkSigner({"k9": b"s" * 32}, "k9")
    same_id_other_key = LinkSigner({"k1": b"x" * 32}, "k1")
    flipped = mac[:-2] + ("A" if mac[-2] != "A" else "B") + mac[-1]
    return {
        "tampered signature": f"{payload}.{flipped}",
        "truncated": genuine[:-5],
        "signature only": f".{mac}",
        "wrong key id": stranger.issue("R-2026-000001", datetime.now(UTC) + timedelta(days=1)),
        "same key id, other key": same_id_other_key.issue(
            "R-2026-000001", datetime.now(UTC) + timedelta(days=1)
        ),
        "another receipt's payload under this signature": f"{other_payload}.{mac}",
        "garbage": "not-a-token",
    }


def test_every_bad_link_is_404_with_the_same_page_as_an_unknown_receipt(links: MotoStack) -> None:
    unknown = _token(links, "R-2026-999999")
    status, _, reference = _get(links, unknown)
    assert status == 404
    assert "R-2026-999999" not in reference
    for name, token in _refusals(links).items():
        for pdf in (False, True):
            status, headers, page = _get(links, token, pdf=pdf)
            assert (status, page) == (404, reference), name
            assert "Location" not in headers, name


def test_an_expired_link_is_410_with_how_to_get_a_new_one(links: MotoStack) -> None:
    token = _signer(links).issue("R-2026-000001", datetime.now(UTC) - timedelta(seconds=1))
    for pdf in (False, True):
        status, headers, page = _get(links, token, pdf=pdf)
        assert status == 410
        assert "Location" not in headers
        assert "Ce lien a expiré" in page and "nouveau lien" in page
        assert "R-2026-000001" not in page
    # An expired link to a receipt that does not exist reads the same: nothing leaks
    status, _, unknown = _get(
        links, _signer(links).issue("R-2026-999999", datetime.now(UTC) - timedelta(seconds=1))
    )
    assert (status, unknown) == (410, page)
