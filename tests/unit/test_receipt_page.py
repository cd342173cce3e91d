"""The customer's receipt status page and its expired / not-found variants."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from pydantic import ValidationError

from quittance.errors import LinkInvalid
from quittance.links import page
from quittance.links.page import (
    ReceiptView,
    render_expired_page,
    render_not_found_page,
    render_receipt_page,
    resolve_language,
)
from quittance.links.tokens import LinkSigner
from quittance.models.money import Money

PDF_HREF = "/r/some-token/pdf"
PAID_AT = datetime(2026, 3, 15, 13, 30, tzinfo=UTC)  # 14:30 in Paris (winter time)
VOID_ELEMENTS = {"meta", "link", "br", "hr", "img", "input", "source", "wbr", "col", "area"}


def _view(**overrides: Any) -> ReceiptView:
    fields: dict[str, Any] = {
        "receipt_number": "R-2026-000001",
        "invoice_number": "INV-1",
        "status": "paid",
        "amount": Money(amount_minor=123456, currency="EUR"),
        "balance_due": Money(amount_minor=0, currency="EUR"),
        "paid_at": PAID_AT,
        "locale": "fr",
        "seller_name": "Atelier Dupont",
        "seller_email": "contact@dupont.example",
        "seller_phone": "+33 1 23 45 67 89",
    }
    fields.update(overrides)
    return ReceiptView(**fields)


def _plain(text: str) -> str:
    """Babel and French typography use no-break spaces; compare with ordinary ones."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


class _Page(HTMLParser):
    """Text and attributes of every element that has an id, as a browser test would see."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str | None]] = {}
        self.hrefs: list[str] = []
        self.html_lang: str | None = None
        self._open: list[str | None] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "html":
            self.html_lang = named.get("lang")
        if tag == "a" and named.get("href") is not None:
            self.hrefs.append(str(named["href"]))
        element_id = named.get("id")
        if element_id:
            self.text[element_id] = ""
            self.attrs[element_id] = named
        if tag not in VOID_ELEMENTS:
            self._open.append(element_id)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_ELEMENTS and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for element_id in self._open:
            if element_id:
                self.text[element_id] += data

    def shown(self, element_id: str) -> str:
        return _plain(" ".join(self.text[element_id].split()))


# --- language and wording -------------------------------------------------------------


def test_french_paid_page_says_payee_with_amount_date_and_numbers() -> None:
    # Given a paid receipt for a French-speaking customer
    view = _view(locale="fr")
    # When the page is rendered
    shown = _Page(render_receipt_page(view, PDF_HREF))
    # Then it speaks French and shows everything the customer needs
    assert shown.html_lang == "fr"
    assert shown.shown("status") == "Payée"
    assert shown.shown("amount") == "1 234,56 €"
    assert shown.shown("paid-at").startswith("15 mars 2026 à 14:30")
    assert shown.shown("receipt-number") == "R-2026-000001"
    assert shown.shown("invoice-number") == "INV-1"
    assert shown.shown("download") == "Télécharger le reçu (PDF)"
    assert shown.attrs["download"]["href"] == PDF_HREF
    assert shown.attrs["status"]["data-testid"] == "status"


def test_english_paid_page_says_paid_in_british_format() -> None:
    # Given a paid receipt for an English-speaking customer
    view = _view(locale="en")
    # When the page is rendered
    shown = _Page(render_receipt_page(view, PDF_HREF))
    # Then it speaks English with en_GB formats
    assert shown.html_lang == "en"
    assert shown.shown("status") == "Paid"
    assert shown.shown("amount") == "€1,234.56"
    assert shown.shown("paid-at").startswith("15 March 2026 at 14:30")
    assert shown.shown("download") == "Download the receipt (PDF)"


@pytest.mark.parametrize(
    ("locale", "lang"),
    [
        ("fr", "fr"),
        ("fr_FR", "fr"),
        ("fr-FR", "fr"),
        ("FR", "fr"),
        ("fr-BE", "fr"),
        ("en", "en"),
        ("en-GB", "en"),
        ("en_US", "en"),
        ("de", "en"),
        ("", "en"),
        ("français", "en"),
    ],
)
def test_locale_resolves_to_french_or_english(locale: str, lang: str) -> None:
    # Given a customer locale in any of the spellings we receive
    # When the page is rendered, Then French goes to French and everything else to English
    assert resolve_language(locale) == lang
    assert _Page(render_receipt_page(_view(locale=locale), PDF_HREF)).html_lang == lang


@pytest.mark.parametrize(
    ("locale", "status", "expected"),
    [
        ("fr", "partial", "Paiement partiel — reste à payer : 50,00 €"),
        ("en", "partial", "Partially paid — balance due: €50.00"),
        ("fr", "refunded", "Remboursée"),
        ("en", "refunded", "Refunded"),
        ("fr", "overpaid", "Payée — trop-perçu"),
        ("en", "overpaid", "Paid — overpayment received"),
    ],
)
def test_status_is_stated_in_words(locale: str, status: str, expected: str) -> None:
    # Given a receipt in that status with 50 € still due when partial
    view = _view(locale=locale, status=status, balance_due=Money(amount_minor=5000, currency="EUR"))
    # When rendered
    shown = _Page(render_receipt_page(view, PDF_HREF))
    # Then the status reads as expected
    assert shown.shown("status") == expected


def test_balance_due_row_appears_only_for_partial_payments() -> None:
    # Given a partial and a full payment
    balance = Money(amount_minor=5000, currency="EUR")
    partial = _Page(render_receipt_page(_view(status="partial", balance_due=balance), PDF_HREF))
    paid = _Page(render_receipt_page(_view(status="paid"), PDF_HREF))
    # Then only the partial one shows a balance due, formatted by Babel
    assert partial.shown("balance-due") == "50,00 €"
    assert "balance-due" not in paid.text


def test_overpaid_page_tells_whom_to_contact_about_the_difference() -> None:
    shown = _Page(render_receipt_page(_view(status="overpaid", locale="en"), PDF_HREF))
    assert "contact Atelier Dupont about the difference" in shown.shown("status-note")


@pytest.mark.parametrize(
    ("timezone", "paid_at", "expected"),
    [
        ("Europe/Paris", datetime(2026, 3, 15, 13, 30, tzinfo=UTC), "15 mars 2026 à 14:30"),
        ("Europe/Paris", datetime(2026, 7, 15, 13, 30, tzinfo=UTC), "15 juillet 2026 à 15:30"),
        ("America/New_York", datetime(2026, 3, 15, 3, 30, tzinfo=UTC), "14 mars 2026 à 23:30"),
        ("Asia/Tokyo", datetime(2026, 3, 15, 20, 0, tzinfo=UTC), "16 mars 2026 à 05:00"),
    ],
    ids=["paris-winter", "paris-summer", "new-york-day-before", "tokyo-day-after"],
)
def test_payment_time_is_in_the_customer_timezone(
    timezone: str, paid_at: datetime, expected: str
) -> None:
    # Given a payment instant and the customer's time zone
    view = _view(timezone=timezone, paid_at=paid_at)
    # When rendered
    shown = _Page(render_receipt_page(view, PDF_HREF))
    # Then date and time are local to the customer, machine-readable too
    assert shown.shown("paid-at").startswith(expected)
    assert "datetime=" in render_receipt_page(view, PDF_HREF)


def test_seller_contacts_are_links() -> None:
    shown = _Page(render_receipt_page(_view(), PDF_HREF))
    assert "mailto:contact@dupont.example" in shown.hrefs
    assert "tel:+33123456789" in shown.hrefs
    assert shown.shown("seller-phone") == "+33 1 23 45 67 89"


def test_amounts_in_other_currencies_use_their_own_precision() -> None:
    shown = _Page(render_receipt_page(_view(amount=Money(amount_minor=5000, currency="JPY")), "/x"))
    assert shown.shown("amount") == "5 000 JPY"


# --- safety and accessibility ----------------------------------------------------------


def test_customer_supplied_numbers_are_escaped() -> None:
    # Given receipt data carrying markup
    view = _view(
        receipt_number="R-<b>1</b>",
        invoice_number='<script>alert("x")</script>',
        seller_name="Dupont & <i>Fils</i>",
        seller_email='x@example.com" onmouseover="alert(1)',
    )
    # When rendered
    html = render_receipt_page(view, PDF_HREF)
    shown = _Page(html)
    # Then the markup is shown as text, never interpreted
    assert "<script>" not in html
    assert "<b>1</b>" not in html
    assert "<i>Fils</i>" not in html
    assert "&lt;script&gt;" in html
    assert "onmouseover" not in shown.attrs["seller-email"]
    assert shown.attrs["seller-email"]["href"] == 'mailto:x@example.com" onmouseover="alert(1)'
    assert shown.shown("invoice-number") == '<script>alert("x")</script>'
    assert shown.shown("receipt-number") == "R-<b>1</b>"


@pytest.mark.parametrize(
    "href",
    ["javascript:alert(1)", "//evil.example/receipt.pdf", "data:text/html,x", "pdf", "/\\evil"],
)
def test_download_link_must_be_ours(href: str) -> None:
    # Given a download href that would lead somewhere other than our own site
    # When the page is rendered, Then it is refused
    with pytest.raises(ValueError):
        render_receipt_page(_view(), href)


def test_absolute_https_download_link_is_allowed() -> None:
    href = "https://api.example/r/tok/pdf?x=1&y=2"
    shown = _Page(render_receipt_page(_view(), href))
    assert shown.attrs["download"]["href"] == href


@pytest.mark.parametrize(
    "html",
    [
        render_receipt_page(_view(), PDF_HREF),
        render_expired_page("fr", "Atelier Dupont", "contact@dupont.example"),
        render_not_found_page("en"),
    ],
    ids=["receipt", "expired", "not-found"],
)
def test_pages_are_self_contained_and_accessible(html: str) -> None:
    # Given any of the three pages
    lowered = html.lower()
    # Then it loads nothing from elsewhere and runs no script (strict CSP),
    assert "<script" not in lowered
    assert " src=" not in lowered
    assert "<link" not in lowered
    assert "@import" not in lowered
    assert "url(" not in lowered
    assert " on" + "click=" not in lowered
    # and it has what mobile browsers and screen readers rely on
    assert lowered.startswith("<!doctype html>")
    assert '<html lang="' in lowered
    assert 'name="viewport"' in lowered
    assert "<main>" in lowered
    assert "<h1" in lowered
    assert "<title></title>" not in lowered
    assert 'name="referrer" content="no-referrer"' in lowered


def test_environment_is_built_once() -> None:
    # Given two renders, Then they share one Jinja environment (templates parsed once)
    render_not_found_page("fr")
    first = page._environment()
    render_receipt_page(_view(), PDF_HREF)
    assert page._environment() is first


# --- error pages ----------------------------------------------------------------------


def test_not_found_page_is_identical_for_unknown_receipt_and_tampered_token() -> None:
    # Given a handler-like lookup: verify the token, then find the receipt
    signer = LinkSigner({"k1": b"k" * 32}, "k1")
    known = {"R-2026-000001"}

    def answer(token: str) -> str:
        try:
            claims = signer.verify(token, PAID_AT)
        except LinkInvalid:
            return render_not_found_page("fr")
        if claims.receipt_number not in known:
            return render_not_found_page("fr")
        return render_receipt_page(_view(), PDF_HREF)

    genuine = signer.issue("R-2026-000001", datetime(2027, 1, 1, tzinfo=UTC))
    unknown = signer.issue("R-2026-999999", datetime(2027, 1, 1, tzinfo=UTC))
    tampered = genuine[:-2] + ("A" if genuine[-2] != "A" else "B") + genuine[-1]
    # When the customer opens a link to a receipt that does not exist, and a tampered link
    for_unknown = answer(unknown)
    for_tampered = answer(tampered)
    # Then both get byte-identical pages that mention neither receipt nor token
    assert for_unknown == for_tampered
    assert "R-2026" not in for_unknown
    assert unknown not in for_unknown
    assert tampered not in for_tampered
    assert answer(genuine) != for_unknown


@pytest.mark.parametrize(
    ("locale", "title", "advice"),
    [
        ("fr-FR", "Lien introuvable", "copiée en entier"),
        ("en-GB", "Link not found", "whole address was copied"),
    ],
)
def test_not_found_page_is_translated(locale: str, title: str, advice: str) -> None:
    shown = _Page(render_not_found_page(locale))
    assert shown.shown("page-title") == title
    assert advice in _plain(render_not_found_page(locale))


@pytest.mark.parametrize(
    ("locale", "title", "how"),
    [
        (
            "fr",
            "Ce lien a expiré",
            "Pour obtenir un nouveau lien, répondez simplement à l’e-mail de confirmation de "
            "paiement, ou écrivez à Dupont & Fils : contact@dupont.example.",
        ),
        (
            "en",
            "This link has expired",
            "To get a new link, simply reply to the payment confirmation email, or write to "
            "Dupont & Fils at contact@dupont.example.",
        ),
    ],
)
def test_expired_page_tells_how_to_get_a_new_link(locale: str, title: str, how: str) -> None:
    # Given a genuine link past its expiry
    # When the expired page is rendered for the seller
    html = render_expired_page(locale, "Dupont & Fils", "contact@dupont.example")
    shown = _Page(html)
    # Then it says so and tells the customer to reply or write to the seller, with a link
    assert shown.shown("page-title") == title
    assert shown.shown("how-to-renew") == how
    assert "mailto:contact@dupont.example" in shown.hrefs
    assert "Dupont &amp; Fils" in html


def test_expired_page_escapes_seller_details() -> None:
    html = render_expired_page("en", "<b>Evil</b>", 'a@b.example"><script>x</script>')
    assert "<b>Evil</b>" not in html
    assert "<script>" not in html


# --- the view model --------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "../../etc/passwd"},
        {"paid_at": datetime(2026, 3, 15, 13, 30)},
        {"status": "pending"},
        {"receipt_number": ""},
    ],
    ids=["unknown-zone", "path-zone", "naive-time", "unknown-status", "empty-number"],
)
def test_view_refuses_invalid_data(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        _view(**overrides)


def test_view_is_frozen() -> None:
    with pytest.raises(ValidationError):
        _view().status = "refunded"  # type: ignore[misc]


# --- which language -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "accept", "lang"),
    [
        (None, "fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        (None, "en-GB,en;q=0.9,fr;q=0.8", "en"),
        (None, "de-DE,de;q=0.9,fr;q=0.7,en;q=0.5", "fr"),
        (None, "en;q=0.4, fr;q=0.8", "fr"),
        (None, "fr;q=0, en", "en"),
        (None, "de, es", "en"),
        (None, "", "en"),
        (None, "fr;q=nonsense, en;q=0.1", "en"),
        ("fr", "en-GB", "fr"),
        ("en", "fr-FR", "en"),
        ("fr_BE", "", "fr"),
        ("xx", "fr", "en"),
    ],
)
def test_page_language_prefers_the_link_then_the_browser(
    requested: str | None, accept: str, lang: str
) -> None:
    # Given the link's ?lang= (the customer's language) and the browser's Accept-Language
    # Then the page speaks the link's language, else the browser's best of French and English
    assert page.page_language(requested, accept) == lang


def test_pages_offer_the_other_language_on_the_same_link() -> None:
    french = _Page(render_receipt_page(_view(locale="fr"), PDF_HREF))
    english = _Page(render_not_found_page("en"))
    assert french.attrs["language-switch"]["href"] == "?lang=en"
    assert french.shown("language-switch") == "English"
    assert english.attrs["language-switch"]["href"] == "?lang=fr"
    assert english.shown("language-switch") == "Français"


def test_receipt_link_can_name_the_customer_language() -> None:
    from quittance.links.urls import receipt_link

    signer = LinkSigner({"k1": b"k" * 32}, "k1")
    expires = datetime(2027, 12, 1, tzinfo=UTC)
    plain = receipt_link("https://pay.example.com/", signer, "R-2026-000001", expires)
    french = receipt_link("https://pay.example.com", signer, "R-2026-000001", expires, "fr_FR")
    assert plain.startswith("https://pay.example.com/r/") and "?" not in plain
    assert french == f"{plain}?lang=fr"


def test_receipt_page_names_the_seller_and_its_legal_identity() -> None:
    view = _view(
        locale="fr",
        seller_address="12 rue des Archives, 75004 Paris",
        seller_siren="732829320",
        seller_vat="FR44732829320",
    )
    shown = _Page(render_receipt_page(view, PDF_HREF))
    legal = shown.shown("seller-legal")
    assert "12 rue des Archives, 75004 Paris" in legal
    assert "SIREN 732829320" in legal and "TVA FR44732829320" in legal


@pytest.mark.parametrize("colour", ["red", "#12345", "#123456;}body{display:none", "#12345g"])
def test_brand_colour_must_be_a_hex_colour(colour: str) -> None:
    with pytest.raises(ValidationError):
        _view(brand_colour=colour)
