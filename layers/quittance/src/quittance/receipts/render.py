"""Render a :class:`ReceiptDocument` to a PDF/A-3b file with its JSON copy attached.

A :class:`ReceiptRenderer` is built once per warm Lambda: the Jinja environment, the
font configuration and the parsed stylesheet (which loads the shipped fonts) are the
expensive parts and are reused by every :meth:`ReceiptRenderer.render` call. It is not
meant to be shared between threads.

Nothing a document contains can make the renderer read a file or a URL: the HTML is
autoescaped, and the URL fetcher handed to weasyprint only serves the files of this
package (fonts) and ``data:`` URIs (the seller's logo).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import segno
from babel.dates import format_date, format_datetime, get_timezone_location
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from stdnum.fr import siren as fr_siren
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration

from quittance.models.events import PaymentMethod
from quittance.models.money import Money
from quittance.receipts.assets import PackageAssetFetcher
from quittance.receipts.document import ReceiptDocument
from quittance.receipts.masking import mask_card_numbers
from quittance.receipts.wording import CARD_BRANDS, TEXT, WALLETS, pretty_name
from quittance.seller.colour import brand_palette

PACKAGE_DIR: Final = Path(__file__).resolve().parent
TEMPLATES_DIR: Final = PACKAGE_DIR / "templates"
FONTS_DIR: Final = PACKAGE_DIR / "fonts"
PDF_VARIANT: Final = "pdf/a-3b"
ATTACHMENT_NAME: Final = "receipt.json"


@dataclass(frozen=True, slots=True)
class RenderedReceipt:
    pdf: bytes
    receipt_json: bytes
    sha256_hex: str
    page_count: int


@dataclass(frozen=True, slots=True)
class _Row:
    label: str
    value: str
    mono: bool = False


class ReceiptRenderer:
    """Turns receipt documents into archivable PDF/A-3b files. Build once, reuse."""

    def __init__(self) -> None:
        self._fetcher = PackageAssetFetcher(PACKAGE_DIR)
        self._base_url = PACKAGE_DIR.as_uri() + "/"
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=True,
            undefined=StrictUndefined,
            finalize=mask_card_numbers,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self._template = self._env.get_template("receipt.html.j2")
        self._font_config = FontConfiguration()
        # Parsing the stylesheet registers the @font-face rules, which copies the
        # shipped fonts into fontconfig: done once, every render reuses the result.
        self._css = CSS(
            string=(TEMPLATES_DIR / "receipt.css").read_text(encoding="utf-8"),
            base_url=self._base_url,
            font_config=self._font_config,
            url_fetcher=self._fetcher,
        )

    @property
    def url_fetcher(self) -> PackageAssetFetcher:
        return self._fetcher

    def render_html(self, doc: ReceiptDocument) -> str:
        """The HTML handed to weasyprint; useful to debug a layout in a browser."""
        return self._template.render(_context(doc))

    def render(self, doc: ReceiptDocument) -> RenderedReceipt:
        receipt_json = doc.to_json_bytes()
        html = HTML(
            string=self.render_html(doc), base_url=self._base_url, url_fetcher=self._fetcher
        )
        attachment = Attachment(
            string=receipt_json,
            name=ATTACHMENT_NAME,
            description=TEXT[doc.locale][f"pdf_title.{doc.kind}"].format(number=doc.receipt_number),
            # Fixed dates keep the PDF byte-for-byte reproducible from its document.
            created=doc.issued_at,
            modified=doc.issued_at,
            relationship="Data",
            url_fetcher=self._fetcher,
        )
        options: dict[str, Any] = {
            "stylesheets": [self._css],
            "pdf_variant": PDF_VARIANT,
            "attachments": [attachment],
        }
        document = html.render(font_config=self._font_config, **options)
        pdf: bytes = document.write_pdf(**options)
        return RenderedReceipt(
            pdf=pdf,
            receipt_json=receipt_json,
            sha256_hex=hashlib.sha256(pdf).hexdigest(),
            page_count=len(document.pages),
        )


def _context(doc: ReceiptDocument) -> dict[str, Any]:
    text = TEXT[doc.locale]
    locale = doc.babel_locale
    kind = doc.kind

    def money(value: Money) -> str:
        return value.format(locale)

    def long_date(value: date) -> str:
        return str(format_date(value, "long", locale=locale))

    seller = doc.seller
    links: list[str] = []
    if seller.profile is not None:
        # Every mention that applies to the seller's form and VAT regime, and none other.
        legal = list(seller.profile.legal_mentions(doc.locale))
        if seller.profile.website:
            links.append(seller.profile.website)
        if seller.profile.terms_url:
            links.append(text["legal.terms"].format(url=seller.profile.terms_url))
    else:  # documents issued before seller profiles, re-rendered as they were
        legal = [seller.name, text["legal.siren"].format(siren=fr_siren.format(seller.siren))]
        if seller.vat_number:
            legal.append(text["legal.vat"].format(vat=seller.vat_number))

    refs = [_Row(text[f"number.{kind}"], doc.receipt_number, mono=True)]
    if doc.original_receipt_number is not None:
        refs.append(_Row(text["original_receipt"], doc.original_receipt_number, mono=True))
    refs.append(_Row(text["invoice_number"], doc.invoice_number, mono=True))
    refs.append(_Row(text["issued_at"], long_date(doc.issued_at.astimezone(doc.zone).date())))

    balance = money(doc.balance_due)
    amount = money(doc.amount)
    # The seller's refund delay for this payment method (its profile), 5 to 10 days if none.
    delays = (
        seller.profile.refund_delays.for_method(doc.method.kind.value) if seller.profile else None
    )
    low, high = delays or (5, 10)
    status_text = text[f"status.{doc.status}"].format(
        balance=balance, amount=amount, low=low, high=high
    )

    if kind == "credit_note":
        intro = text["credit_note.intro"].format(
            original=doc.original_receipt_number, invoice=doc.invoice_number
        )
    else:
        intro = None

    return {
        "lang": doc.locale,
        "pdf_title": text[f"pdf_title.{kind}"].format(number=doc.receipt_number),
        "created": doc.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "palette": brand_palette(seller.brand_colour),
        "translation_notice": text["translation"] if doc.is_translation else None,
        "kind": kind,
        "tone": doc.tone,
        "status": doc.status,
        "doc_title": text[f"title.{kind}"],
        "seller": {
            "name": seller.name,
            "address_lines": seller.address.splitlines(),
            "email": seller.email,
            "phone": seller.phone,
            "opening_hours": seller.opening_hours,
            "logo_src": _svg_data_uri(seller.logo_svg)
            if seller.logo_svg
            else ("data:image/png;base64," + seller.logo_png if seller.logo_png else None),
        },
        "hours_label": text["contact.hours"],
        "refs": refs,
        "amount_label": text[f"amount.{kind}"],
        "amount": amount,
        "paid_label": text[f"paid_at.{kind}"],
        "paid_at": str(
            format_datetime(doc.paid_at, text["datetime"], tzinfo=doc.zone, locale=locale)
        ),
        "timezone_label": _timezone_label(doc, text),
        "status_text": status_text,
        "intro": intro,
        "customer_label": text["customer"],
        "customer_name": doc.customer_name,
        "customer_address": doc.customer_address,
        "method_label": text[f"method.{kind}"],
        "method_rows": _method_rows(doc.method, text, long_date),
        "items": _items(doc, text) if doc.line_items else None,
        "thanks": text[f"thanks.{kind}.{doc.tone}"],
        "next_steps_label": text["next_steps"],
        "next_steps": doc.next_steps,
        "verify_title": text[f"verify.title.{kind}"],
        "verify_text": text["verify.text"],
        "verify_url": doc.verify_url,
        "verify_short": _short_link(doc.verify_url),
        "qr_svg": _qr_svg(doc.verify_url),
        "legal": legal,
        "legal_links": links,
        "legal_address": ", ".join(line.strip() for line in seller.address.splitlines()),
        "legal_electronic": text["legal.electronic"].format(attachment=ATTACHMENT_NAME),
    }


def _timezone_label(doc: ReceiptDocument, text: Mapping[str, str]) -> str:
    if doc.timezone in ("UTC", "Etc/UTC"):
        return text["tz.utc"]
    city = get_timezone_location(doc.zone, locale=doc.babel_locale, return_city=True)
    return text["tz.zone"].format(city=city)


def _method_rows(
    method: PaymentMethod, text: Mapping[str, str], long_date: Callable[[date], str]
) -> list[_Row]:
    # Every proof field the provider gave is printed, whatever the kind: an Apple Pay
    # payment legitimately carries the card's last four digits too.
    rows = [_Row(text["field.method"], text[f"kind.{method.kind.value}"])]
    if method.wallet_provider:
        rows.append(_Row(text["field.wallet"], pretty_name(WALLETS, method.wallet_provider)))
    if method.card_brand or method.card_last4:
        card = " ".join(
            part
            for part in (
                pretty_name(CARD_BRANDS, method.card_brand) if method.card_brand else None,
                f"•••• {method.card_last4}" if method.card_last4 else None,
            )
            if part
        )
        rows.append(_Row(text["field.card"], card))
    if method.transfer_reference:
        rows.append(_Row(text["field.transfer_reference"], method.transfer_reference, mono=True))
    if method.mandate_reference:
        rows.append(_Row(text["field.mandate"], method.mandate_reference, mono=True))
    if method.iban_masked:
        rows.append(_Row(text["field.iban"], method.iban_masked.replace("*", "•"), mono=True))
    if method.value_date:
        rows.append(_Row(text["field.value_date"], long_date(method.value_date)))
    if method.cheque_number:
        rows.append(_Row(text["field.cheque_number"], method.cheque_number, mono=True))
    if method.cheque_bank:
        rows.append(_Row(text["field.cheque_bank"], method.cheque_bank))
    if method.cashing_date:
        rows.append(_Row(text["field.cashing_date"], long_date(method.cashing_date)))
    if method.received_by:
        rows.append(_Row(text["field.received_by"], method.received_by))
    if method.transaction_id:
        rows.append(_Row(text["field.transaction"], method.transaction_id, mono=True))
    return rows


def _percent(rate: Decimal, locale: str) -> str:
    return str(format_percent(rate / 100, locale=locale, decimal_quantization=False))


def _items(doc: ReceiptDocument, text: Mapping[str, str]) -> dict[str, Any]:
    locale = doc.babel_locale
    rows = [
        {
            "description": item.description,
            "quantity": str(format_decimal(item.quantity, locale=locale)),
            "unit_price": item.unit_price.format(locale),
            "vat_rate": _percent(item.vat_rate, locale),
            "total": item.total_excl_vat.format(locale),
        }
        for item in doc.line_items
    ]
    breakdown = doc.vat_breakdown()
    currency = doc.amount.currency
    base = sum(line.base.amount_minor for line in breakdown)
    vat = sum(line.vat.amount_minor for line in breakdown)

    def fmt(minor: int) -> str:
        return Money(amount_minor=minor, currency=currency).format(locale)

    return {
        "title": text["invoice_details"],
        "columns": {
            key: text[f"col.{key}"]
            for key in ("description", "quantity", "unit_price", "vat_rate", "total")
        },
        "rows": rows,
        "vat_columns": {key: text[f"vat.{key}"] for key in ("rate", "base", "amount", "total")},
        "vat_lines": [
            {
                "rate": _percent(line.rate, locale),
                "base": line.base.format(locale),
                "amount": line.vat.format(locale),
                "total": line.total.format(locale),
            }
            for line in breakdown
        ],
        "totals": [
            _Row(text["total.excl"], fmt(base)),
            _Row(text["total.vat"], fmt(vat)),
            _Row(text["total.incl"], fmt(base + vat)),
        ],
    }


def _short_link(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc + parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")


def _qr_svg(url: str) -> Markup:
    qr = segno.make(url, error="m")
    # segno only emits path data (no text from the URL), so the markup is safe as is.
    return Markup(qr.svg_inline(border=0, omitsize=True, dark="#111111"))  # noqa: S704


# Logo text must be drawn with the shipped font, like the rest of the document, and not
# with whatever font the rendering machine happens to have (often none, on Lambda).
_LOGO_FONT_STYLE: Final = (
    '<style>text, tspan, textPath { font-family: "Quittance Sans" !important; }</style>'
)
_SVG_OPENING_TAG = re.compile(r"<svg\b[^>]*?(?<!/)>", re.IGNORECASE)


def _svg_data_uri(svg: str) -> str:
    # A data: URI, not inline markup: the logo stays an image, parsed by weasyprint's
    # SVG engine, and anything it references goes through the asset-only fetcher.
    styled = _SVG_OPENING_TAG.sub(lambda match: match[0] + _LOGO_FONT_STYLE, svg, count=1)
    return "data:image/svg+xml;base64," + base64.b64encode(styled.encode("utf-8")).decode("ascii")
