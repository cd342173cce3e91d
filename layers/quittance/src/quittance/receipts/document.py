"""What a receipt or a credit note says, independently of how it is drawn.

The JSON form of :class:`ReceiptDocument` is embedded in the PDF and archived for ten
years, so it is a faithful, versioned dump of the model: reading it back with
``ReceiptDocument.model_validate_json`` gives the same document, which can be rendered
again.
"""

from __future__ import annotations

import base64
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fr import siren as fr_siren

from quittance.models.events import PaymentMethod, UtcDateTime
from quittance.models.money import Money
from quittance.models.timezone import TimeZoneName
from quittance.seller.profile import SellerProfile
from quittance.seller.published import PublishedProfile

Language = Literal["fr", "en"]
_FALLBACK_LANGUAGE: Language = "en"
# Babel needs a territory to pick the currency layout: ``1 234,56 €`` vs ``€1,234.56``.
_BABEL_LOCALES: dict[Language, str] = {"fr": "fr_FR", "en": "en_GB"}
_MAX_LOGO_SVG_CHARS = 200_000
_MAX_LOGO_PNG_BYTES = 256 * 1024
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _language(value: object) -> Language:
    if not isinstance(value, str):
        raise ValueError("locale must be a string such as 'fr', 'fr_FR' or 'en-GB'")
    language = value.strip().replace("-", "_").split("_", 1)[0].lower()
    if language == "fr":
        return "fr"
    # Customers get English whenever we have no copy in their language.
    return _FALLBACK_LANGUAGE


def _siren(value: str) -> str:
    try:
        return str(fr_siren.validate(value))
    except StdnumValidationError as exc:
        raise ValueError(f"invalid SIREN {value!r}") from exc


def _vat_number(value: str) -> str:
    try:
        return str(eu_vat.validate(value))
    except StdnumValidationError as exc:
        raise ValueError(f"invalid EU VAT number {value!r}") from exc


def _web_url(value: str) -> str:
    parts = urlsplit(value)
    # The link is printed and put in a QR code: a javascript: or file: link there would
    # be an attack on whoever scans it.
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError("verify_url must be an absolute http(s) URL")
    if any(char.isspace() for char in value):
        raise ValueError("verify_url must not contain whitespace")
    return value


def _svg_markup(value: str) -> str:
    head = value.lstrip()[:512].lower()
    if not (head.startswith("<svg") or (head.startswith("<?xml") and "<svg" in head)):
        raise ValueError("logo_svg must be SVG markup starting with <svg")
    return value


def _png_base64(value: str) -> str:
    try:
        data = base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise ValueError("logo_png must be base64") from exc
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("logo_png is not a PNG image")
    if len(data) > _MAX_LOGO_PNG_BYTES:
        raise ValueError(f"logo_png is larger than {_MAX_LOGO_PNG_BYTES} bytes")
    return value


SingleLine = Annotated[str, Field(min_length=1, max_length=200)]
Reference = Annotated[str, Field(min_length=1, max_length=64)]
HexColour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$"), AfterValidator(str.lower)]


class Seller(BaseModel):
    """The business issuing the receipt, with the identifiers French law asks for."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    name: SingleLine
    address: Annotated[str, Field(min_length=1, max_length=500)]
    siren: Annotated[str, AfterValidator(_siren)]
    # None for businesses outside VAT (franchise en base): nothing is printed then.
    vat_number: Annotated[str, AfterValidator(_vat_number)] | None = None
    # Printed, never sent to: a shape check is enough, and reserved test domains
    # (.example, .test) used by local stacks stay valid.
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
    phone: Annotated[str, Field(max_length=32)] | None = None
    brand_colour: HexColour = "#1f4e79"
    logo_svg: (
        Annotated[str, Field(max_length=_MAX_LOGO_SVG_CHARS), AfterValidator(_svg_markup)] | None
    ) = None
    opening_hours: Annotated[str, Field(max_length=200)] | None = None
    logo_png: Annotated[str, AfterValidator(_png_base64)] | None = None
    """Base64 of the PNG logo, kept in the archived JSON so a re-rendering shows the same."""
    profile: SellerProfile | None = None
    """The seller profile the document is issued under (quittance.seller): its legal
    mentions replace name, SIREN and VAT in the footer. Absent on documents issued before
    profiles existed."""
    profile_version: Annotated[int, Field(ge=1)] | None = None
    """The profile's storage version: a later copy of this receipt uses this one."""

    @classmethod
    def from_profile(cls, published: PublishedProfile, logo: bytes | None = None) -> Seller:
        """The document's seller from a published profile (and the logo's bytes, if any)."""
        profile = published.profile
        media = profile.logo.media_type if profile.logo else None
        return cls(
            name=profile.display_name,
            address=profile.address,
            siren=profile.siren,
            vat_number=profile.vat.number if profile.vat.regime == "vat" else None,
            email=profile.email,
            phone=profile.phone,
            brand_colour=profile.brand_colour,
            opening_hours=profile.opening_hours,
            logo_svg=logo.decode("utf-8") if logo and media == "image/svg+xml" else None,
            logo_png=base64.b64encode(logo).decode("ascii")
            if logo and media == "image/png"
            else None,
            profile=profile,
            profile_version=published.version,
        )


class LineItem(BaseModel):
    """One invoice line; ``unit_price`` excludes VAT and ``vat_rate`` is a percentage."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    description: Annotated[str, Field(min_length=1, max_length=500)]
    quantity: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=4)] = Decimal(1)
    unit_price: Money
    vat_rate: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]

    @property
    def total_excl_vat(self) -> Money:
        minor = (self.quantity * self.unit_price.amount_minor).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        return Money(amount_minor=int(minor), currency=self.unit_price.currency)


class VatLine(BaseModel):
    """The VAT due at one rate, computed on the sum of the lines at that rate."""

    model_config = ConfigDict(frozen=True)

    rate: Decimal
    base: Money
    vat: Money
    total: Money


class ReceiptDocument(BaseModel):
    """Everything printed on one receipt or credit note, in a single language."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    schema_version: Literal[1] = 1
    receipt_number: Reference
    invoice_number: Reference
    kind: Literal["receipt", "credit_note"] = "receipt"
    original_receipt_number: Reference | None = None
    issued_at: UtcDateTime
    paid_at: UtcDateTime
    timezone: TimeZoneName = "Europe/Paris"
    locale: Annotated[Language, BeforeValidator(_language)]
    tone: Literal["formal", "warm"]
    is_translation: bool = False
    seller: Seller
    customer_name: Annotated[str, Field(max_length=200)] | None = None
    customer_address: Annotated[str, Field(max_length=500)] | None = None
    amount: Money
    status: Literal["paid", "partial", "overpaid", "refunded"]
    balance_due: Money
    method: PaymentMethod
    verify_url: Annotated[str, Field(max_length=512), AfterValidator(_web_url)]
    next_steps: Annotated[str, Field(max_length=2000)] | None = None
    line_items: tuple[LineItem, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> ReceiptDocument:
        if self.kind == "credit_note":
            if self.original_receipt_number is None:
                raise ValueError("a credit note must name the receipt it refunds")
            if self.status != "refunded":
                raise ValueError("a credit note has status 'refunded'")
        else:
            if self.original_receipt_number is not None:
                raise ValueError("only a credit note refers to an original receipt")
            if self.status == "refunded":
                raise ValueError("a refund is documented by a credit note, not a receipt")
        if self.is_translation and self.locale == "fr":
            raise ValueError("the French copy is the legal original, never a translation")
        currencies = {self.amount.currency, self.balance_due.currency}
        currencies.update(item.unit_price.currency for item in self.line_items)
        if len(currencies) != 1:
            raise ValueError(f"one currency per document, got {sorted(currencies)}")
        if self.status == "paid" and self.balance_due.amount_minor != 0:
            raise ValueError("a receipt paid in full has no balance due")
        if self.status in ("partial", "overpaid") and self.balance_due.amount_minor == 0:
            raise ValueError(f"status {self.status!r} needs a non-zero balance_due")
        return self

    @property
    def babel_locale(self) -> str:
        return _BABEL_LOCALES[self.locale]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def vat_breakdown(self) -> tuple[VatLine, ...]:
        """VAT per rate, highest rate first; empty when the document has no line items."""
        bases: dict[Decimal, int] = {}
        for item in self.line_items:
            # Decimal("20") and Decimal("20.00") are equal and hash alike: one rate.
            rate = item.vat_rate
            bases[rate] = bases.get(rate, 0) + item.total_excl_vat.amount_minor
        currency = self.amount.currency
        lines = []
        for rate in sorted(bases, reverse=True):
            base = bases[rate]
            vat = int((base * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            lines.append(
                VatLine(
                    rate=rate,
                    base=Money(amount_minor=base, currency=currency),
                    vat=Money(amount_minor=vat, currency=currency),
                    total=Money(amount_minor=base + vat, currency=currency),
                )
            )
        return tuple(lines)

    def to_json_bytes(self) -> bytes:
        """The canonical machine-readable copy: sorted keys, compact, UTF-8.

        Amounts stay integer minor units with their currency; timestamps are UTC.
        """
        return json.dumps(
            self.model_dump(mode="json"),
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
