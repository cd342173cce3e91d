"""The customer's receipt page in a real headless Chromium, served by the local stack: the
link from the confirmation email shows the status, amount and receipt number, its button
downloads the archived PDF, and damaged or expired links show their own pages."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from quittance.aws.ledger_table import LedgerTable
from quittance.links.tokens import LinkSigner
from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from quittance_ops.outbox import sent_emails
from quittance_ops.screenshots import browser_missing, chromium, receipt_links, wait_for_download

from .conftest import RunningStack, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.xdist_group("e2e-receipt_page_browser"),
    pytest.mark.skipif(browser_missing() is not None, reason=f"Chromium {browser_missing()}"),
]

INVOICE = "F-BROWSER-1"


def _plain(text: str) -> str:
    # Babel separates thousands and the euro sign with (narrow) no-break spaces.
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def _status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def paid(stack: RunningStack) -> dict[str, Any]:
    """Given invoice F-BROWSER-1 of 1 234,56 € paid by card through a Stripe-signed webhook."""
    delivery = stripe_payment_intent_succeeded(
        secret=stack.info["webhook_secrets"]["stripe"],
        invoice_number=INVOICE,
        amount_minor=123456,
        email="browser.customer@example.com",
    )
    request = urllib.request.Request(
        f"{stack.api_url}/webhooks/stripe",
        data=delivery.body,
        headers=delivery.headers,
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202
    payment_id = json.loads(delivery.body)["data"]["object"]["id"]
    ledger = LedgerTable(stack.resources["LedgerTable"], stack.client("dynamodb"))
    receipt = wait_for(lambda: ledger.receipt_for_payment(INVOICE, payment_id))
    sent = wait_for(
        lambda: [e for e in sent_emails(stack.endpoint) if receipt.receipt_number.encode() in e.raw]
    )
    stack.wait_drained()
    [link] = receipt_links(sent[0].raw, stack.api_url)
    return {
        "link": link,
        "number": receipt.receipt_number,
        "archive": ledger.receipt_item(receipt.receipt_number)["archive"],
    }


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    return tmp_path / "downloads"


@pytest.fixture
def french_browser(downloads: Path) -> Iterator[Any]:
    with chromium(downloads=downloads, language="fr-FR") as driver:
        yield driver


def _shown(driver: Any, testid: str) -> str:
    from selenium.webdriver.common.by import By

    return _plain(driver.find_element(By.CSS_SELECTOR, f"[data-testid={testid}]").text)


def test_the_emailed_link_shows_paid_amount_and_receipt_number_and_downloads_the_pdf(
    paid: dict[str, Any], french_browser: Any, downloads: Path
) -> None:
    from selenium.webdriver.common.by import By

    # When the customer, whose browser prefers French, opens the link from their email (which
    # names their language, French)
    assert paid["link"].endswith("?lang=fr")
    french_browser.get(paid["link"])
    # Then the page says, in French, that the invoice is paid, how much, and which receipt
    assert french_browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert _shown(french_browser, "status") == "Payée"
    assert _shown(french_browser, "amount") == "1 234,56 €"
    assert _shown(french_browser, "receipt-number") == paid["number"]
    assert _shown(french_browser, "invoice-number") == INVOICE
    assert "contact@example.com" in _shown(french_browser, "seller-contacts")
    # When they click the download button
    french_browser.find_element(By.CSS_SELECTOR, "[data-testid=download]").click()
    # Then the archived PDF of that very receipt lands on their disk, under a readable name
    pdf = wait_for_download(downloads)
    body = pdf.read_bytes()
    assert body.startswith(b"%PDF")
    assert hashlib.sha256(body).hexdigest() == paid["archive"]["sha256_hex"]
    assert pdf.name == f"{paid['number']}.pdf"


def test_the_page_follows_an_english_browser_and_offers_french(paid: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    with chromium(language="en-GB") as driver:
        # A link passed on without its language follows the reader's browser.
        driver.get(paid["link"].split("?", 1)[0])
        assert _shown(driver, "status") == "Paid"
        assert _shown(driver, "amount") == "€1,234.56"
        # The switch keeps the same link and turns the page into French
        driver.find_element(By.ID, "language-switch").click()
        assert _shown(driver, "status") == "Payée"


def test_a_tampered_link_shows_not_found_with_404(
    stack: RunningStack, paid: dict[str, Any], french_browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    # Given the link with one character of its signature changed
    head, _, last = paid["link"].split("?", 1)[0].rpartition("/")
    tampered = f"{head}/{last[:-2]}{'A' if last[-2] != 'A' else 'B'}{last[-1]}"
    # Then the gateway answers 404, for the page and for its PDF
    assert _status_of(tampered) == 404
    assert _status_of(f"{tampered}/pdf") == 404
    # And the browser shows a page that says the link matches no receipt, naming none
    french_browser.get(tampered)
    assert _shown(french_browser, "not-found") == "Lien introuvable"
    body = french_browser.find_element(By.TAG_NAME, "body").text
    assert paid["number"] not in body and INVOICE not in body


def test_an_expired_link_shows_how_to_get_a_new_one_with_410(
    stack: RunningStack, paid: dict[str, Any], french_browser: Any
) -> None:
    # Given a genuine link, signed with the stack's own current key, that expired yesterday
    secret = stack.client("secretsmanager").get_secret_value(
        SecretId=stack.resources["LinkSigningKeys"]
    )
    signer = LinkSigner.from_secret(json.loads(secret["SecretString"]))
    token = signer.issue(paid["number"], datetime.now(UTC) - timedelta(days=1))
    expired = f"{stack.api_url}/r/{token}"
    # Then the page and the download both answer 410 Gone
    assert _status_of(expired) == 410
    assert _status_of(f"{expired}/pdf") == 410
    # And the browser shows how to get a new link, with the seller's address to write to
    french_browser.get(expired)
    assert _shown(french_browser, "expired") == "Ce lien a expiré"
    how = _shown(french_browser, "how-to-renew")
    assert "nouveau lien" in how and "contact@example.com" in how
    assert paid["number"] not in _shown(french_browser, "how-to-renew")
