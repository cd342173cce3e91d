"""Marketing consent end to end against moto: a consenting customer's confirmation carries
the loyalty code, an opt-out link and the RFC 8058 headers; one POST to that link (no
login) withdraws consent with its time and source; after that no message has extras."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from quittance.aws.customers_table import CustomersTable
from quittance.links.tokens import LinkSigner

from .conftest import MotoStack, http_event
from .pipeline import sealed_customers
from .test_notify_channels import emails_sent, job, notify, put_profile

CUSTOMER = "C-mkt"


@pytest.fixture
def stack(moto_stack: MotoStack, monkeypatch: pytest.MonkeyPatch) -> MotoStack:
    monkeypatch.setenv("LOYALTY_PROMO_CODE", "MERCI10")
    monkeypatch.setenv("LOYALTY_MIN_PAYMENTS", "5")
    put_profile(moto_stack, CUSTOMER, channel="email", payments_count=6)
    customers(moto_stack).record_marketing_consent(
        CUSTOMER, True, datetime(2026, 1, 5, 9, 0, tzinfo=UTC), "invoice_registration"
    )
    return moto_stack


def customers(stack: MotoStack) -> CustomersTable:
    return sealed_customers(stack)


def confirmation(change: str) -> dict[str, Any]:
    return job(
        CUSTOMER,
        kind="payment_confirmed",
        change_id=change,
        receipt_number="R-2026-000101",
        failure=None,
    )


def links(stack: MotoStack, method: str, path: str, body: bytes = b"") -> dict[str, Any]:
    token = path.rsplit("/", 1)[1]
    headers = {"accept-language": "fr-FR"}
    if method == "POST":
        headers["content-type"] = "application/x-www-form-urlencoded"
    result: dict[str, Any] = stack.functions["LinksFunction"].invoke(
        http_event(method, path, "/u/{token}", {"token": token}, body=body, headers=headers)
    )
    return result


def test_consent_brings_extras_and_one_click_takes_them_away(stack: MotoStack) -> None:
    notify(stack, confirmation("R-2026-000101:payment_confirmed"))
    [first] = emails_sent()
    assert "MERCI10" in first.get_body(("plain",)).get_content()
    unsubscribe = str(first["List-Unsubscribe"])
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [url] = re.findall(r"<(https://[^>]+)>", unsubscribe)
    assert url.startswith("https://pay.example.com/u/")
    assert url in first.get_body(("plain",)).get_content()  # the visible opt-out link
    path = urlsplit(url).path

    page = links(stack, "GET", path)
    assert page["statusCode"] == 200
    assert 'method="post"' in page["body"] and "Confirmer le désabonnement" in page["body"]
    granted = (customers(stack).held(CUSTOMER) or {})["marketing_consent"]
    assert granted["granted"] is True  # opening the link changed nothing

    done = links(stack, "POST", path, b"List-Unsubscribe=One-Click")
    assert done["statusCode"] == 200 and 'data-testid="unsubscribed"' in done["body"]
    consent = (customers(stack).held(CUSTOMER) or {})["marketing_consent"]
    assert (consent["granted"], consent["source"]) == (False, "one_click")
    assert datetime.fromisoformat(consent["at"]) > datetime.now(UTC) - timedelta(minutes=1)

    notify(stack, confirmation("R-2026-000102:payment_confirmed"))
    second = emails_sent()[1]
    assert "MERCI10" not in second.get_body(("plain",)).get_content()
    assert second["List-Unsubscribe"] is None and second["List-Unsubscribe-Post"] is None


def test_a_forged_or_receipt_token_withdraws_nothing(stack: MotoStack) -> None:
    secret = stack.client("secretsmanager").get_secret_value(
        SecretId=stack.resource("LinkSigningKeys")
    )
    signer = LinkSigner.from_secret(json.loads(secret["SecretString"]))
    receipt_token = signer.issue("R-2026-000101", datetime.now(UTC) + timedelta(days=1))
    own = signer.issue(f"U:{CUSTOMER}", datetime.now(UTC) + timedelta(days=1))
    forged = own[:-2] + ("AA" if not own.endswith("AA") else "BB")
    for token in (receipt_token, forged):
        answer = links(stack, "POST", f"/u/{token}", b"List-Unsubscribe=One-Click")
        assert answer["statusCode"] == 404
    assert (customers(stack).held(CUSTOMER) or {})["marketing_consent"]["granted"] is True


def test_a_failed_payment_never_carries_extras_even_with_consent(stack: MotoStack) -> None:
    notify(stack, job(CUSTOMER))
    [message] = emails_sent()
    assert "MERCI10" not in message.get_body(("plain",)).get_content()
    assert message["List-Unsubscribe"] is None
