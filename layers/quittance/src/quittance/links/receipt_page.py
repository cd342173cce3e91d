"""The customer's receipt page and its download, reached by a signed link: the token names
the receipt, the ledger says what it states, the seller's identity signs the page, and the
archived original is handed over through a short-lived link made only on the click."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from quittance.errors import NotFound
from quittance.ledger.model import StoredReceipt, document_status
from quittance.links.page import (
    ReceiptView,
    render_expired_page,
    render_not_found_page,
    render_receipt_page,
)
from quittance.links.tokens import LinkSigner
from quittance.seller.identity import SellerIdentity


class StoredReceipts(Protocol):
    def stored_receipt(self, number: str, invoice_number: str | None = None) -> StoredReceipt: ...


class Downloads(Protocol):
    def presign_download(self, key: str, version_id: str, filename: str, seconds: int) -> str: ...


class Sellers(Protocol):
    def current(self) -> SellerIdentity: ...


@dataclass(frozen=True)
class ReceiptPages:
    signer: Callable[[], LinkSigner]
    """Read on each request: the link keys rotate (the secret is cached by its adapter)."""
    receipts: StoredReceipts
    downloads: Downloads
    sellers: Sellers
    download_seconds: int

    def receipt(self, token: str, now: datetime) -> StoredReceipt:
        """The receipt a genuine, unexpired token names (LinkInvalid, LinkExpired, NotFound)."""
        return self.receipts.stored_receipt(self.signer().verify(token, now).receipt_number)

    def page(self, token: str, now: datetime, locale: str, pdf_href: str) -> str:
        record = self.receipt(token, now).record
        seller = self.sellers.current()
        view = ReceiptView(
            receipt_number=record.receipt_number,
            invoice_number=record.invoice_number,
            status=document_status(record.invoice_status),
            amount=record.amount,
            balance_due=record.balance_due,
            paid_at=record.paid_at,
            locale=locale,
            seller_name=seller.name,
            seller_email=seller.email,
            seller_phone=seller.phone,
            seller_address=seller.address,
            seller_legal=seller.legal,
            brand_colour=seller.brand_colour,
        )
        return render_receipt_page(view, pdf_href=pdf_href)

    def download_url(self, token: str, now: datetime) -> str:
        """A fresh presigned link to the archived original (NotFound until it is archived)."""
        stored = self.receipt(token, now)
        if stored.archive is None:
            raise NotFound("receipt not archived yet")
        return self.downloads.presign_download(
            stored.archive.key,
            stored.archive.version_id,
            filename=f"{stored.record.receipt_number}.pdf",
            seconds=self.download_seconds,
        )

    def expired_page(self, locale: str) -> str:
        seller = self.sellers.current()
        return render_expired_page(locale, seller.name, seller.email)

    def not_found_page(self, locale: str) -> str:
        # Tampered token and unknown receipt look the same: the page leaks nothing.
        return render_not_found_page(locale)

    def seller_name(self) -> str:
        return self.sellers.current().name
