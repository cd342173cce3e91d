"""What the compliance desk needs from storage, as ports it owns: the ledger's reads and its
message log, the receipt index, the Object Lock archive and the audit log. The adapters that
serve them live in :mod:`quittance.aws` (``LedgerTable``, ``ReceiptIndex``, ``StaffArchive``,
``AuditTrail``); tests may hand in anything with these methods."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import IO, Any, Protocol

from quittance.ledger.model import InvoiceRecord, InvoiceSummary, StoredReceipt


@dataclass(frozen=True)
class ProofVersion:
    key: str
    version_id: str
    size: int
    sha256_hex: str
    """S3's own stored checksum (ChecksumMode), empty if the object was written without one."""
    lock_mode: str
    retain_until: str
    legal_hold: bool
    is_latest: bool = True

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def proof_prefix(archive_key: str) -> str:
    """``receipts/2026/11/R-2026-000042.pdf`` → ``receipts/2026/11/R-2026-000042.``: the
    original and its translations (``….en.pdf``), never another number."""
    return archive_key.removesuffix(".pdf").rstrip(".") + "."


def sha256_file(handle: IO[bytes]) -> bytes:
    handle.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 16), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.digest()


class ProofArchive(Protocol):
    """The Object Lock archive as staff reach it: versions with their lock, legal holds,
    evidence bundles and short-lived download links."""

    def head(self, key: str, version_id: str, *, is_latest: bool = True) -> ProofVersion: ...

    def listed(self, prefix: str) -> Iterator[tuple[str, str, bool]]:
        """(key, version id, is latest) of every version under ``prefix``."""
        ...

    def versions(self, archive_key: str) -> list[ProofVersion]: ...

    def read(self, key: str, version_id: str) -> bytes: ...

    def set_legal_hold(self, key: str, version_id: str, on: bool) -> None: ...

    def put_bundle(self, name: str, body: IO[bytes], sha256: bytes) -> tuple[str, str]: ...

    def presign(self, key: str, version_id: str, filename: str, seconds: int) -> str: ...


class ReceiptFinder(Protocol):
    """Receipts and credit notes by number, invoice, payment, customer or collection day;
    each a stored document (its record and archived copies)."""

    def by_number(self, number: str) -> list[StoredReceipt]: ...

    def by_invoice(self, invoice_number: str) -> list[StoredReceipt]: ...

    def by_payment(self, payment_id: str) -> list[StoredReceipt]: ...

    def by_customer(self, customer_id: str) -> list[StoredReceipt]: ...

    def day_page(
        self, day: date, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[StoredReceipt], dict[str, Any] | None]: ...


class DeskLedger(Protocol):
    """The ledger as the desk reads it, and the message log a resend is written to."""

    def stored_receipt(self, number: str, invoice_number: str | None = None) -> StoredReceipt: ...

    def load(self, number: str) -> InvoiceRecord | None: ...

    def get_invoice(self, number: str) -> InvoiceSummary | None: ...

    def messages(self, number: str) -> list[dict[str, Any]]: ...

    def collection(self, number: str) -> list[dict[str, Any]]: ...

    def last_active_on(
        self, day: date, after: dict[str, Any] | None, limit: int
    ) -> tuple[list[str], dict[str, Any] | None]: ...

    def record_message(
        self,
        invoice_number: str,
        change_id: str,
        channel: str,
        values: dict[str, Any],
        expires_at: datetime,
    ) -> None: ...
