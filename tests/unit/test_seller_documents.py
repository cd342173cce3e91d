"""Every document kind for three seller profiles: an SAS with a VAT number and a PNG logo, a
micro-entrepreneur under art. 293 B with no logo, and an SARL whose colour fails WCAG AA
(refused before any document exists). Mentions are read back from the PDF text (pypdf), the
email and the receipt page."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pypdf import PdfReader

from quittance.links.page import ReceiptView, render_receipt_page
from quittance.links.tokens import LinkSigner
from quittance.models.customer import CustomerProfile
from quittance.models.money import Money
from quittance.notifications.dispatch import (
    CustomerLinks,
    MessageOptions,
    NotifyPorts,
    notify_customer,
)
from quittance.notifications.email_kit import Letterhead, SellerContact, Sender
from quittance.notifications.unsubscribe import render_unsubscribe_page
from quittance.receipts.document import ReceiptDocument, Seller
from quittance.receipts.render import ReceiptRenderer
from quittance.seller import PublishedProfile, SellerProfile
from quittance.seller.identity import SellerIdentity
from quittance_ops.samples import SAMPLES
from quittance_ops.seller_file import ProfileFile, read_profile_file
from tests.unit.jobs import notification_job

PROFILES = Path(__file__).resolve().parents[2] / "infra" / "profiles"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SAS_MENTIONS = (
    "SAS au capital de 10",
    "RCS Paris 732 829 320",
    "SIRET 732 829 320 00074",
    "TVA intracommunautaire FR44732829320",
)
SAS_MENTIONS_EN = (
    "SAS with a share capital of €10,000",
    "RCS Paris 732 829 320",
    "SIRET 732 829 320 00074",
    "VAT no. FR44732829320",
)
MICRO_MENTIONS = (
    "Camille Martin EI",
    "RM Lyon 912 345 675",
    "SIRET 912 345 675 00017",
    "TVA non applicable, art. 293 B du CGI",
)


@cache
def profile_file(name: str) -> ProfileFile:
    return read_profile_file(PROFILES / name)


def seller(name: str, version: int = 1) -> Seller:
    read = profile_file(name)
    return Seller.from_profile(PublishedProfile(version=version, profile=read.profile), read.logo)


@cache
def renderer() -> ReceiptRenderer:
    return ReceiptRenderer()


def pdf_of(document: ReceiptDocument) -> PdfReader:
    return PdfReader(io.BytesIO(renderer().render(document).pdf))


def text_of(reader: PdfReader) -> str:
    # Footer lines wrap anywhere: compare on single spaces, no-break spaces included.
    raw = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(raw.replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_an_sas_prints_form_capital_registry_and_vat_number_and_its_logo(kind: str) -> None:
    reader = pdf_of(SAMPLES[kind](seller("demo-seller.yaml")))
    text = text_of(reader)
    for mention in SAS_MENTIONS_EN if kind.startswith("en-") else SAS_MENTIONS:
        assert mention in text, mention
    assert "293 B" not in text
    assert "https://atelier-quittance.example/cgv" in text
    # The PNG logo is the page's one raster image (the QR code is vector).
    assert [image.name.rsplit(".", 1)[-1] for image in reader.pages[0].images] == ["png"]


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_a_micro_entrepreneur_prints_293_b_and_no_vat_number_capital_or_logo(kind: str) -> None:
    reader = pdf_of(SAMPLES[kind](seller("micro-entrepreneur.yaml")))
    text = text_of(reader)
    for mention in MICRO_MENTIONS:
        assert mention in text, mention
    assert "intracommunautaire" not in text and "VAT no." not in text
    assert "capital" not in text
    assert len(reader.pages[0].images) == 0


def test_the_archived_json_records_the_profile_and_its_version() -> None:
    document = SAMPLES["fr-b2c-card"](seller("micro-entrepreneur.yaml", version=7))
    back = ReceiptDocument.model_validate_json(document.to_json_bytes())
    assert back.seller.profile_version == 7
    assert back.seller.profile == profile_file("micro-entrepreneur.yaml").profile


def test_an_sarl_whose_colour_fails_contrast_is_refused_before_any_document() -> None:
    sarl = {
        "legal_name": "Ferronnerie Dubois",
        "legal_form": "SARL",
        "share_capital": "5000",
        "registry": {"kind": "RCS", "city": "Nantes"},
        "siren": "850000126",
        "siret": "85000012600019",
        "vat": {"regime": "vat", "number": "FR79850000126"},
        "address": "3 quai de la Fosse\n44000 Nantes",
        "email": "contact@ferronnerie.example",
        "phone": "+33 2 40 00 00 00",
        "brand_colour": "#ffcc00",
    }
    with pytest.raises(ValidationError, match=r"brand_colour\n.*contrast of 1\.51:1"):
        SellerProfile.model_validate(sarl)
    # The same business with a readable colour is accepted, with an SARL's mentions.
    accepted = SellerProfile.model_validate(sarl | {"brand_colour": "#8a5a00"})
    assert "SARL au capital de 5\u202f000\u00a0€" in accepted.legal_mentions("fr")


def test_a_credit_note_says_the_sellers_refund_delay_for_the_payment_method() -> None:
    read = profile_file("micro-entrepreneur.yaml")
    slow = read.profile.model_copy(
        update={"refund_delays": read.profile.refund_delays.model_copy(update={"card": (2, 4)})}
    )
    own = Seller.from_profile(PublishedProfile(version=1, profile=slow))
    assert "sous 2 à 4 jours ouvrés" in text_of(pdf_of(SAMPLES["fr-credit-note"](own)))
    # Without a profile (documents from before issue 17), quittance's own 5 to 10 days.
    legacy = own.model_copy(update={"profile": None, "profile_version": None})
    assert "sous 5 à 10 jours ouvrés" in text_of(pdf_of(SAMPLES["fr-credit-note"](legacy)))


# --- emails, SMS options and pages ----------------------------------------------------


class _Profiles:
    def __init__(self, profile: dict[str, Any]) -> None:
        self._profile = profile

    def profile(self, customer_id: str) -> CustomerProfile | None:
        return CustomerProfile.model_validate(self._profile)


class _Mailer:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage, tags: Mapping[str, str] | None = None) -> str:
        self.sent.append(message)
        return "ses-1"


class _Log:
    def message_sent(self, invoice_number: str, change_id: str, channel: str) -> bool:
        return False

    def record_message(self, *args: Any) -> None:
        return None


class _Archive:
    def read(self, key: str, version_id: str) -> bytes:
        return b"%PDF-1.7 archived"


class _Documents:
    def receipt_item(self, number: str, invoice_number: str | None = None) -> dict[str, Any]:
        return {"archive": {"key": "receipts/2026/11/R-1.pdf", "version_id": "v1"}}


def _email(identity: SellerIdentity, customer: dict[str, Any], kind: str) -> EmailMessage:
    mailer = _Mailer()
    method = {"kind": "card", "card_brand": "visa", "card_last4": "4242"}
    notify_customer(
        notification_job(
            NOW - timedelta(minutes=5),
            correlation_id="c-1",
            kind=kind,
            change_id=f"R-1:{kind}",
            customer_id="C-1",
            receipt_number="R-1",
            original_receipt_number="R-0" if kind == "refund_issued" else None,
            invoice_number="F-1",
            amount=Money(amount_minor=12345, currency="EUR"),
            method=method,
        ),
        NotifyPorts(
            profiles=_Profiles({"email": "lea@example.com", "locale": "fr", **customer}),
            mailer=mailer,
            log=_Log(),
            documents=_Documents(),  # type: ignore[arg-type]
            archive=_Archive(),
        ),
        letterhead=Letterhead.of(
            Sender(email="receipts@example.com", name=identity.name),
            SellerContact(name=identity.name, email=identity.email, phone=identity.phone),
        ),
        links=CustomerLinks(
            LinkSigner({"k1": b"k" * 32}, "k1"), "https://pay.example.com", timedelta(days=396)
        ),
        now=NOW,
        options=MessageOptions(
            refund_delays=identity.refund_delays, attach_pdf=identity.attach_pdf
        ),
    )
    (message,) = mailer.sent
    return message


def _identity(name: str, **changes: Any) -> SellerIdentity:
    profile = profile_file(name).profile.model_copy(update=changes)
    return SellerIdentity.from_profile(PublishedProfile(version=3, profile=profile))


@pytest.mark.parametrize(
    ("name", "shown", "phone"),
    [
        ("demo-seller.yaml", "Atelier Quittance", "+33 1 23 45 67 89"),
        ("micro-entrepreneur.yaml", "Camille Martin Céramique", "+33 6 12 34 56 78"),
    ],
)
@pytest.mark.parametrize("kind", ["payment_confirmed", "refund_issued"])
def test_every_email_is_sent_and_signed_in_the_profiles_name(
    name: str, shown: str, phone: str, kind: str
) -> None:
    message = _email(_identity(name), {}, kind)
    assert str(message["From"]).startswith(f'"{shown}"') or str(message["From"]).startswith(shown)
    assert shown in str(message["Reply-To"])
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert phone in text and shown in text


def test_the_seller_attaches_the_pdf_by_default_and_a_customer_may_decline() -> None:
    attaching = _identity("micro-entrepreneur.yaml", attach_pdf=True)
    with_pdf = _email(attaching, {}, "payment_confirmed")
    assert [a.get_filename() for a in with_pdf.iter_attachments()] == ["R-1.pdf"]
    declined = _email(attaching, {"attach_pdf": False}, "payment_confirmed")
    assert list(declined.iter_attachments()) == []
    # and the default off, a customer who asked for it still gets it
    asked = _email(_identity("micro-entrepreneur.yaml"), {"attach_pdf": True}, "payment_confirmed")
    assert len(list(asked.iter_attachments())) == 1


def test_the_refund_email_says_the_sellers_delay() -> None:
    read = profile_file("micro-entrepreneur.yaml").profile
    identity = _identity(
        "micro-entrepreneur.yaml",
        refund_delays=read.refund_delays.model_copy(update={"card": (3, 4)}),
    )
    body = _email(identity, {}, "refund_issued").get_body(("plain",))
    assert body is not None
    assert "3 à 4 jours ouvrés" in " ".join(body.get_content().split())


@pytest.mark.parametrize(
    ("name", "present", "absent"),
    [
        ("demo-seller.yaml", SAS_MENTIONS[1:], "293 B"),
        ("micro-entrepreneur.yaml", MICRO_MENTIONS, "intracommunautaire"),
    ],
)
def test_the_receipt_page_shows_the_profiles_legal_mentions(
    name: str, present: tuple[str, ...], absent: str
) -> None:
    identity = _identity(name)
    html = render_receipt_page(
        ReceiptView(
            receipt_number="R-1",
            invoice_number="F-1",
            status="paid",
            amount=Money(amount_minor=12345, currency="EUR"),
            balance_due=Money(amount_minor=0, currency="EUR"),
            paid_at=NOW,
            locale="fr",
            seller_name=identity.name,
            seller_email=identity.email,
            seller_phone=identity.phone,
            seller_address=identity.address,
            seller_legal=identity.legal,
            brand_colour=identity.brand_colour,
        ),
        pdf_href="/r/x/pdf",
    )
    flat = " ".join(html.replace("\u00a0", " ").replace("\u202f", " ").split())
    for mention in present:
        assert mention.replace("\u00a0", " ").replace("\u202f", " ") in flat, mention
    assert absent not in flat
    assert identity.name in flat


def test_the_unsubscribe_page_names_the_seller() -> None:
    html = render_unsubscribe_page("fr", "/u/x", done=False, seller_name="Camille Martin Céramique")
    assert 'id="seller-name"' in html and "Camille Martin Céramique" in html
