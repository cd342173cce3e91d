"""The receipt renderer, through real weasyprint: what the PDF says, embeds and refuses."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

import pikepdf
import pytest
from fontTools.ttLib import TTFont
from pydantic import ValidationError
from pypdf import PdfReader

from quittance.models.events import PaymentMethod
from quittance.models.money import Money
from quittance.receipts.assets import AssetURLRefusedError
from quittance.receipts.document import LineItem, ReceiptDocument, Seller
from quittance.receipts.render import (
    FONTS_DIR,
    PACKAGE_DIR,
    ReceiptRenderer,
    RenderedReceipt,
)

ISSUED_AT = datetime(2026, 11, 23, 13, 6, tzinfo=UTC)
# 13:05 UTC is 14:05 in Paris in November (CET, UTC+1).
PAID_AT = datetime(2026, 11, 23, 13, 5, tzinfo=UTC)

HOSTILE_NAME = '<script>alert(1)</script></style><img src="file:///etc/passwd">'
HOSTILE_ADDRESS = 'x" style="background: url(file:///etc/passwd)"\nurl(file:///etc/passwd) 42'
HOSTILE_LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    ' width="120" height="30" viewBox="0 0 120 30">'
    '<image href="file:///etc/passwd" width="10" height="10"/>'
    '<image xlink:href="http://169.254.169.254/latest/meta-data/" width="10" height="10"/>'
    '<text x="0" y="22" font-family="Comic Sans MS" font-size="18">Logo</text>'
    "</svg>"
)


def eur(minor: int) -> Money:
    return Money(amount_minor=minor, currency="EUR")


def make_seller(**overrides: Any) -> Seller:
    fields: dict[str, Any] = {
        "name": "Atelier Dupont SARL",
        "address": "12 rue de la Roquette\n75011 Paris",
        "siren": "732829320",
        "vat_number": "FR44732829320",
        "email": "contact@atelier-dupont.fr",
        "phone": "+33 1 23 45 67 89",
        "brand_colour": "#0B6E4F",
        "opening_hours": "Mon–Fri 9:00–18:00",
    }
    fields.update(overrides)
    return Seller(**fields)


def make_doc(**overrides: Any) -> ReceiptDocument:
    fields: dict[str, Any] = {
        "receipt_number": "R-2026-000123",
        "invoice_number": "F-2026-0456",
        "issued_at": ISSUED_AT,
        "paid_at": PAID_AT,
        "locale": "fr",
        "tone": "formal",
        "seller": make_seller(),
        "customer_name": "Claire Martin",
        "customer_address": "8 avenue des Lilas\n69003 Lyon",
        "amount": eur(123456),
        "status": "paid",
        "balance_due": eur(0),
        "method": PaymentMethod(
            kind="card", card_brand="visa", card_last4="4242", transaction_id="ch_3PqZ81Lk2xYv"
        ),
        "verify_url": "https://q.example.fr/r/7KxQ2mPz",
    }
    fields.update(overrides)
    return ReceiptDocument(**fields)


def credit_note(**overrides: Any) -> ReceiptDocument:
    fields: dict[str, Any] = {
        "kind": "credit_note",
        "receipt_number": "A-2026-000007",
        "original_receipt_number": "R-2026-000123",
        "status": "refunded",
        "amount": eur(4500),
    }
    fields.update(overrides)
    return make_doc(**fields)


def normalise(text: str) -> str:
    """Babel separates thousands with U+202F and currencies with U+00A0: compare as spaces."""
    return re.sub(r"\s+", " ", text.replace("\u202f", " ").replace("\u00a0", " ")).strip()


@dataclass
class Rendered:
    doc: ReceiptDocument
    out: RenderedReceipt

    @cached_property
    def raw_text(self) -> str:
        reader = PdfReader(io.BytesIO(self.out.pdf))
        return "\n".join(page.extract_text() for page in reader.pages)

    @cached_property
    def text(self) -> str:
        return normalise(self.raw_text)

    def open(self) -> pikepdf.Pdf:
        return pikepdf.open(io.BytesIO(self.out.pdf))


@pytest.fixture(scope="module")
def renderer() -> ReceiptRenderer:
    return ReceiptRenderer()


@pytest.fixture(scope="module")
def render(renderer: ReceiptRenderer) -> Iterator[Callable[[ReceiptDocument], Rendered]]:
    cache: dict[bytes, Rendered] = {}

    def _render(doc: ReceiptDocument) -> Rendered:
        key = doc.to_json_bytes()
        if key not in cache:
            cache[key] = Rendered(doc, renderer.render(doc))
        return cache[key]

    yield _render


@pytest.fixture(scope="module")
def fr_paid(render: Callable[[ReceiptDocument], Rendered]) -> Rendered:
    return render(make_doc())


@pytest.fixture(scope="module")
def en_translation(render: Callable[[ReceiptDocument], Rendered]) -> Rendered:
    return render(make_doc(locale="en_GB", is_translation=True))


# ---- PDF/A-3b container ----------------------------------------------------------------


def test_pdf_declares_pdf_a_3b_in_xmp_and_has_an_output_intent(fr_paid: Rendered) -> None:
    with fr_paid.open() as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "3"
        assert meta["pdfaid:conformance"] == "B"
        intents = pdf.Root.OutputIntents
        assert [str(intent.S) for intent in intents] == ["/GTS_PDFA1"]
        assert "/DestOutputProfile" in intents[0]


def test_pdf_metadata_names_the_receipt_seller_language_and_issue_date(
    fr_paid: Rendered, en_translation: Rendered
) -> None:
    with fr_paid.open() as pdf:
        assert str(pdf.docinfo["/Title"]) == "Reçu R-2026-000123"
        assert str(pdf.docinfo["/Author"]) == "Atelier Dupont SARL"
        assert str(pdf.docinfo["/CreationDate"]).startswith("D:20261123130600")
        assert str(pdf.Root.Lang) == "fr"
        assert pdf.open_metadata()["xmp:CreateDate"] == "2026-11-23T13:06:00Z"
    with en_translation.open() as pdf:
        assert str(pdf.docinfo["/Title"]) == "Receipt R-2026-000123"
        assert str(pdf.Root.Lang) == "en"


def _fonts(pdf: pikepdf.Pdf) -> Iterator[tuple[str, pikepdf.Dictionary]]:
    for page in pdf.pages:
        for font in page.Resources.Font.values():
            descriptor = (
                font.DescendantFonts[0].FontDescriptor
                if font.Subtype == "/Type0"
                else font.FontDescriptor
            )
            yield str(font.BaseFont), descriptor


@pytest.fixture(scope="module")
def hostile(render: Callable[[ReceiptDocument], Rendered]) -> Rendered:
    return render(
        make_doc(
            seller=make_seller(logo_svg=HOSTILE_LOGO),
            customer_name=HOSTILE_NAME,
            customer_address=HOSTILE_ADDRESS,
            method=PaymentMethod(
                kind="card", card_last4="4242", transaction_id="4242 4242 4242 4242"
            ),
            next_steps="Carte enregistrée : 4000-0566-5566-5556. Référence interne 1234567890123.",
        )
    )


def test_every_font_is_embedded_and_is_the_shipped_dejavu(
    fr_paid: Rendered, hostile: Rendered
) -> None:
    # The hostile document has a logo whose <text> asks for a font we do not ship.
    for rendered in (fr_paid, hostile):
        with rendered.open() as pdf:
            fonts = list(_fonts(pdf))
            assert fonts
            for base_font, descriptor in fonts:
                programs = [
                    key for key in ("/FontFile", "/FontFile2", "/FontFile3") if key in descriptor
                ]
                assert programs, f"{base_font} is not embedded"
                # Only our @font-face families are named Quittance-*; a system fallback
                # would show up under its own name (DejaVu-Sans, Liberation…).
                assert base_font.split("+", 1)[1].startswith("Quittance-"), base_font
                program = TTFont(io.BytesIO(descriptor[programs[0]].read_bytes()))
                assert str(program["name"].getDebugName(1)).startswith("DejaVu Sans")


def test_shipped_fonts_cover_every_printed_character(
    fr_paid: Rendered, en_translation: Rendered, hostile: Rendered
) -> None:
    # Missing glyphs would make Pango fall back to a system font, absent on Lambda.
    covered: set[int] = set()
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"):
        covered |= set(TTFont(FONTS_DIR / name).getBestCmap())
    printed = set(fr_paid.raw_text + en_translation.raw_text + hostile.raw_text)
    missing = {char for char in printed if not char.isspace() and ord(char) not in covered}
    assert not missing


# ---- Machine-readable copy ---------------------------------------------------------------


def test_receipt_json_is_attached_and_matches_the_document(fr_paid: Rendered) -> None:
    with fr_paid.open() as pdf:
        attachments = pdf.attachments
        assert list(attachments) == ["receipt.json"]
        spec = attachments["receipt.json"]
        assert spec.obj.AFRelationship == "/Data"
        assert spec.obj.objgen in [item.objgen for item in pdf.Root.AF]
        embedded = spec.get_file()
        assert embedded.mime_type == "application/json"
        payload = embedded.read_bytes()
    assert payload == fr_paid.out.receipt_json == fr_paid.doc.to_json_bytes()
    data = json.loads(payload)
    assert data["amount"] == {"amount_minor": 123456, "currency": "EUR"}
    assert data["receipt_number"] == "R-2026-000123"
    assert ReceiptDocument.model_validate_json(payload) == fr_paid.doc


def test_to_json_bytes_is_canonical() -> None:
    doc = make_doc(customer_name="Zoë Ünal")
    payload = doc.to_json_bytes()
    assert "Zoë Ünal".encode() in payload
    assert b", " not in payload and b": " not in payload
    keys = list(json.loads(payload))
    assert keys == sorted(keys)
    assert json.loads(payload)["paid_at"] == "2026-11-23T13:05:00Z"


def test_rendered_receipt_hash_pages_and_reproducibility(
    renderer: ReceiptRenderer, fr_paid: Rendered
) -> None:
    out = fr_paid.out
    assert out.sha256_hex == hashlib.sha256(out.pdf).hexdigest()
    assert out.page_count == len(PdfReader(io.BytesIO(out.pdf)).pages) == 1
    # An archived receipt can be re-rendered from its JSON into the very same bytes.
    again = renderer.render(ReceiptDocument.model_validate_json(out.receipt_json))
    assert again.sha256_hex == out.sha256_hex


# ---- What the customer reads -------------------------------------------------------------


def test_french_receipt_shows_references_amount_and_local_payment_time(fr_paid: Rendered) -> None:
    text = fr_paid.text
    assert "Reçu de paiement" in text
    assert "R-2026-000123" in text
    assert "F-2026-0456" in text
    assert "1 234,56 €" in text
    assert "23 novembre 2026 à 14:05" in text
    assert "Facture soldée" in text
    assert "Visa •••• 4242" in text
    assert "ch_3PqZ81Lk2xYv" in text
    # Seller's legal identity and contacts.
    assert "SIREN 732 829 320" in text
    assert "FR44732829320" in text
    assert "contact@atelier-dupont.fr" in text
    assert "q.example.fr/r/7KxQ2mPz" in re.sub(r"\s", "", fr_paid.raw_text)


def test_english_translation_is_marked_and_formatted_in_english(en_translation: Rendered) -> None:
    text = en_translation.text
    assert "Translation — the French original is the legal document." in text
    assert "Payment receipt" in text
    assert "€1,234.56" in text
    assert "23 November 2026 at 14:05" in text
    assert "Invoice paid in full" in text


def test_original_documents_carry_no_translation_notice(
    render: Callable[[ReceiptDocument], Rendered], fr_paid: Rendered
) -> None:
    english_original = render(make_doc(locale="en", tone="warm"))
    assert "Translation" not in fr_paid.text
    assert "Translation" not in english_original.text
    assert "€1,234.56" in english_original.text


@pytest.mark.parametrize(
    ("locale", "tone", "expected", "absent"),
    [
        ("fr", "formal", "Nous vous remercions de votre règlement.", "Merci beaucoup"),
        ("fr", "warm", "Merci beaucoup, à très bientôt !", "Nous vous remercions"),
        ("en", "formal", "Thank you for your payment.", "Thanks so much"),
        ("en", "warm", "Thanks so much — see you soon!", "Thank you for your payment"),
    ],
)
def test_thank_you_line_follows_tone_and_language(
    render: Callable[[ReceiptDocument], Rendered],
    locale: str,
    tone: str,
    expected: str,
    absent: str,
) -> None:
    text = render(make_doc(locale=locale, tone=tone)).text
    assert expected in text
    assert absent not in text


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"status": "partial", "balance_due": eur(5000)},
            ["Reste à payer : 50,00 €"],
        ),
        (
            {"status": "partial", "balance_due": eur(5000), "locale": "en"},
            ["Balance due: €50.00"],
        ),
        (
            {"status": "overpaid", "balance_due": eur(1000)},
            ["Trop-perçu de 10,00 €", "remboursé sur le même moyen de paiement"],
        ),
        (
            {"status": "overpaid", "balance_due": eur(1000), "locale": "en"},
            ["Overpayment of €10.00", "refunded to the same payment method"],
        ),
    ],
    ids=["partial-fr", "partial-en", "overpaid-fr", "overpaid-en"],
)
def test_status_line_states_what_is_left_or_owed_back(
    render: Callable[[ReceiptDocument], Rendered],
    overrides: dict[str, Any],
    expected: list[str],
) -> None:
    text = render(make_doc(**overrides)).text
    for phrase in expected:
        assert phrase in text
    assert "Facture soldée" not in text
    assert "paid in full" not in text


def test_french_credit_note_refers_to_the_original_receipt_and_refund_delay(
    render: Callable[[ReceiptDocument], Rendered],
) -> None:
    text = render(credit_note()).text
    assert "Avoir" in text
    assert "Reçu de paiement" not in text
    assert "A-2026-000007" in text
    assert "R-2026-000123" in text
    assert "45,00 €" in text
    assert "5 à 10 jours ouvrés" in text
    assert "MONTANT REMBOURSÉ" in text


def test_english_credit_note(render: Callable[[ReceiptDocument], Rendered]) -> None:
    rendered = render(credit_note(locale="en", tone="warm"))
    text = rendered.text
    assert "Credit note" in text
    assert "receipt no. R-2026-000123" in text
    assert "€45.00" in text
    assert "5 to 10 business days" in text
    with rendered.open() as pdf:
        assert str(pdf.docinfo["/Title"]) == "Credit note A-2026-000007"


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (
            PaymentMethod(
                kind="sepa_transfer",
                transfer_reference="VIR-F-2026-0456",
                iban_masked="FR76****1234",
                value_date=date(2026, 11, 24),
            ),
            ["Virement SEPA", "VIR-F-2026-0456", "FR76••••1234", "24 novembre 2026"],
        ),
        (
            PaymentMethod(kind="sepa_debit", mandate_reference="RUM-000042-DUPONT"),
            ["Prélèvement SEPA", "Référence du mandat", "RUM-000042-DUPONT"],
        ),
        (
            PaymentMethod(kind="cheque", cheque_number="0012345", cashing_date=date(2026, 11, 27)),
            ["Chèque n° 0012345", "Date d’encaissement 27 novembre 2026"],
        ),
        (
            PaymentMethod(kind="cash", received_by="Julie (caisse 2)"),
            ["Espèces", "Reçu par Julie (caisse 2)"],
        ),
        (
            PaymentMethod(kind="wallet", wallet_provider="apple_pay", transaction_id="APL-77812"),
            ["Portefeuille électronique", "Apple Pay", "APL-77812"],
        ),
        (
            PaymentMethod(
                kind="card", card_brand="mastercard", card_last4="5454", transaction_id="T-9"
            ),
            ["Carte bancaire", "Mastercard •••• 5454", "N° de transaction T-9"],
        ),
    ],
    ids=["sepa_transfer", "sepa_debit", "cheque", "cash", "wallet", "card"],
)
def test_payment_method_proof_fields(
    render: Callable[[ReceiptDocument], Rendered], method: PaymentMethod, expected: list[str]
) -> None:
    text = render(make_doc(method=method)).text
    for phrase in expected:
        assert phrase in text


def test_unsupported_language_falls_back_to_english_in_the_customer_timezone(
    render: Callable[[ReceiptDocument], Rendered],
) -> None:
    rendered = render(make_doc(locale="de_DE", timezone="America/New_York"))
    assert rendered.doc.locale == "en"
    text = rendered.text
    assert "Payment receipt" in text
    assert "€1,234.56" in text
    assert "23 November 2026 at 08:05" in text
    assert "New York time" in text
    with rendered.open() as pdf:
        assert str(pdf.Root.Lang) == "en"


def test_line_items_get_a_vat_breakdown(render: Callable[[ReceiptDocument], Rendered]) -> None:
    items = [
        LineItem(
            description="Chaise en chêne",
            quantity=Decimal(2),
            unit_price=eur(41000),
            vat_rate=Decimal(20),
        ),
        LineItem(
            description="Livre d’art",
            quantity=Decimal(1),
            unit_price=eur(1896),
            vat_rate=Decimal("5.5"),
        ),
    ]
    doc = make_doc(line_items=items, amount=eur(100400))
    breakdown = doc.vat_breakdown()
    assert [(line.rate, line.base.amount_minor, line.vat.amount_minor) for line in breakdown] == [
        (Decimal(20), 82000, 16400),
        (Decimal("5.5"), 1896, 104),
    ]
    text = render(doc).text
    assert "Chaise en chêne 2 410,00 € 20 % 820,00 €" in text
    assert "5,5 % 18,96 € 1,04 € 20,00 €" in text
    assert "Total TTC 1 004,00 €" in text


# ---- Hostile input -------------------------------------------------------------------------


def test_markup_and_css_in_customer_fields_are_printed_literally(
    renderer: ReceiptRenderer, hostile: Rendered
) -> None:
    text = hostile.text
    # The name is longer than the customer card is wide: join the wrapped lines, and every
    # character must still be there, in order, spaces included.
    assert HOSTILE_NAME in hostile.raw_text.replace("\n", "")
    assert "url(file:///etc/passwd) 42" in text
    html = renderer.render_html(hostile.doc)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;/style&gt;&lt;img" in html


def test_nothing_that_looks_like_a_card_number_is_printed(hostile: Rendered) -> None:
    digits_only = re.sub(r"[\s-]", "", hostile.raw_text)
    assert "4242424242424242" not in digits_only
    assert "4000056655665556" not in digits_only
    assert "•••• 5556" in hostile.text
    # Long numbers that are not card numbers are left alone.
    assert "1234567890123" in hostile.text


def test_rendering_requests_nothing_outside_the_package(
    renderer: ReceiptRenderer, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[str] = []
    refused: list[str] = []
    fetch = renderer.url_fetcher.fetch

    def spy(url: str, headers: Any = None) -> Any:
        try:
            response = fetch(url, headers)
        except AssetURLRefusedError:
            refused.append(url)
            raise
        served.append(url)
        return response

    monkeypatch.setattr(renderer.url_fetcher, "fetch", spy)
    doc = make_doc(
        receipt_number="R-2026-000999",
        seller=make_seller(logo_svg=HOSTILE_LOGO),
        customer_name=HOSTILE_NAME,
        customer_address=HOSTILE_ADDRESS,
    )
    out = renderer.render(doc)

    assert out.page_count == 1
    assert sorted(refused) == ["file:///etc/passwd", "http://169.254.169.254/latest/meta-data/"]
    package = PACKAGE_DIR.as_uri() + "/"
    assert served, "the logo should have been fetched as a data: URI"
    assert all(url.startswith(("data:", package)) for url in served), served


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com/font.ttf",
        "https://example.com/logo.svg",
        "ftp://example.com/x",
        "file://attacker.example/share/x.ttf",
        # Enough ".." to climb to / from wherever the package is installed.
        (PACKAGE_DIR / "fonts").as_uri() + "/.." * 40 + "/etc/passwd",
        (PACKAGE_DIR / "fonts").as_uri() + "/%2e%2e" * 40 + "/etc/passwd",
        (PACKAGE_DIR / "fonts").as_uri() + "/missing.ttf",
    ],
    ids=[
        "etc-passwd",
        "http",
        "https",
        "ftp",
        "remote-file-host",
        "dot-dot",
        "encoded-dot-dot",
        "missing-asset",
    ],
)
def test_fetcher_refuses_anything_but_package_assets(renderer: ReceiptRenderer, url: str) -> None:
    with pytest.raises(AssetURLRefusedError):
        renderer.url_fetcher.fetch(url)


def test_fetcher_serves_shipped_fonts_and_data_uris(renderer: ReceiptRenderer) -> None:
    font = renderer.url_fetcher.fetch((FONTS_DIR / "DejaVuSans.ttf").as_uri())
    assert font.read() == (FONTS_DIR / "DejaVuSans.ttf").read_bytes()
    data = renderer.url_fetcher.fetch("data:text/plain;base64,aGVsbG8=")
    assert data.read() == b"hello"


# ---- The document model --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [("fr", "fr"), ("fr_FR", "fr"), ("FR-ca", "fr"), ("en-GB", "en"), ("de", "en"), ("", "en")],
)
def test_locale_is_normalised_to_a_supported_language(given: str, expected: str) -> None:
    assert make_doc(locale=given).locale == expected


@pytest.mark.parametrize(
    "overrides",
    [
        {"timezone": "Europe/Nowhere"},
        {"timezone": "../../etc/passwd"},
        {"kind": "credit_note", "status": "refunded"},
        {"original_receipt_number": "R-1"},
        {"status": "refunded"},
        {"status": "paid", "balance_due": eur(100)},
        {"status": "partial", "balance_due": eur(0)},
        {"balance_due": Money(amount_minor=0, currency="USD")},
        {"locale": "fr", "is_translation": True},
        {"verify_url": "javascript:alert(1)"},
        {"verify_url": "file:///etc/passwd"},
        {"seller": {"siren": "123456789"}},
        {"seller": {"brand_colour": "red; background: url(x)"}},
        {"seller": {"logo_svg": "<html><body>not a logo</body></html>"}},
        {"unexpected": "field"},
    ],
)
def test_inconsistent_or_unsafe_documents_are_rejected(overrides: dict[str, Any]) -> None:
    if isinstance(overrides.get("seller"), dict):
        overrides = {"seller": make_seller().model_dump() | overrides["seller"]}
    with pytest.raises(ValidationError):
        make_doc(**overrides)
