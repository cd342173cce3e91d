"""Right of access and portability (GDPR art. 15 and 20): everything held about a customer,
machine-readable, with their receipts as issued.

Found by keys only: the profile by its key, invoices through the ledger's customer index
(gsi3), each invoice's collection by its key, receipts' archive copies by key and version,
raw deliveries by their evidence key. Never a Scan.

The export is handed over as a zip in the exports bucket and a short-lived download link,
never inline: ten years of monthly receipts exceed the 6 MB a Lambda can answer."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from quittance.errors import CustomerErased, NotFound, SealInvalid
from quittance.exports import CUSTOMERS_PREFIX
from quittance.exports import export_key as export_key_in
from quittance.ledger.model import InvoiceRecord, InvoiceSummary, StoredReceipt
from quittance.privacy.evidence import DeliverySource

EXPORT_FORMAT = "quittance.customer-export/1"
EXPORT_PREFIX = CUSTOMERS_PREFIX
# Long enough to download a large zip, short enough that a leaked link soon stops working.
DOWNLOAD_LINK_LIFETIME = timedelta(minutes=15)
# Attributes of the stored profile that are bookkeeping, not data about the person.
_PROFILE_INTERNAL = frozenset({"pk"})


class Profiles(Protocol):
    def held(self, customer_id: str) -> dict[str, Any] | None:
        """Every attribute of the profile, contact fields opened; None if none is held."""
        ...


class Ledger(Protocol):
    def invoices_of_customer(self, customer_id: str) -> list[InvoiceSummary]: ...

    def load(self, number: str) -> InvoiceRecord | None: ...

    def messages(self, number: str) -> list[dict[str, Any]]: ...

    def stored_receipt(self, number: str, invoice_number: str | None = None) -> StoredReceipt: ...


class Archive(Protocol):
    def read(self, key: str, version_id: str) -> bytes: ...


@dataclass(frozen=True)
class CustomerExport:
    document: dict[str, Any]
    files: dict[str, bytes]
    """Path in the export → bytes (receipt PDFs as archived)."""

    def zip_bytes(self) -> bytes:
        """``customer.json`` and the receipt PDFs byte for byte, under their ``files`` names.
        Entries are dated at the export's generation time, so the same export gives the same
        bytes."""
        stamp = datetime.fromisoformat(self.document["generated_at"]).astimezone(UTC)
        date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            entries = [("customer.json", json.dumps(self.document, indent=2).encode())]
            entries += sorted(self.files.items())
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
        return buffer.getvalue()


class ExportStore(Protocol):
    def put_zip(self, key: str, body: bytes, sha256_hex: str) -> None: ...

    def presign_download(self, key: str, filename: str, seconds: int) -> str: ...


@dataclass(frozen=True)
class HandedOver:
    """Where a customer's export waits and how to check it once downloaded."""

    customer_id: str
    invoices: int
    files: int
    key: str
    size: int
    sha256: str
    download_url: str
    expires_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "invoices": self.invoices,
            "files": self.files,
            "key": self.key,
            "size": self.size,
            "sha256": self.sha256,
            "download_url": self.download_url,
            "expires_at": self.expires_at.isoformat(),
        }


def export_key(customer_id: str, request_id: str, now: datetime) -> str:
    """``exports/customers/<customer id>/<UTC time>-<request id>.zip``."""
    return export_key_in(f"{EXPORT_PREFIX}{customer_id}", request_id, now, "zip")


def hand_over(
    export: CustomerExport, store: ExportStore, *, request_id: str, now: datetime
) -> HandedOver:
    """Write the export's zip to the store and presign a download of it."""
    customer_id = str(export.document["customer_id"])
    body = export.zip_bytes()
    digest = hashlib.sha256(body).hexdigest()
    key = export_key(customer_id, request_id, now)
    store.put_zip(key, body, digest)
    seconds = int(DOWNLOAD_LINK_LIFETIME.total_seconds())
    url = store.presign_download(key, f"{customer_id}-export.zip", seconds)
    return HandedOver(
        customer_id=customer_id,
        invoices=len(export.document["invoices"]),
        files=len(export.files),
        key=key,
        size=len(body),
        sha256=digest,
        download_url=url,
        # ``now`` is before the link was signed: the link lives at least until then.
        expires_at=now.astimezone(UTC) + DOWNLOAD_LINK_LIFETIME,
    )


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def export_customer(
    customer_id: str,
    *,
    profiles: Profiles,
    ledger: Ledger,
    archive: Archive,
    evidence: DeliverySource,
    now: datetime,
) -> CustomerExport:
    """Raises NotFound when nothing at all is held about the id."""
    profile = profiles.held(customer_id)
    invoices = ledger.invoices_of_customer(customer_id)
    if profile is None and not invoices:
        raise NotFound(f"nothing is held about customer {customer_id}")
    files: dict[str, bytes] = {}
    invoice_docs: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    for summary in invoices:
        record = ledger.load(summary.number)
        if record is None:
            continue
        receipts = []
        for issued in record.documents:
            copy = ledger.stored_receipt(issued.receipt_number).archive
            archived = copy.as_record() if copy is not None else None
            entry = {**issued.model_dump(mode="json"), "archive": _plain(archived)}
            if copy is not None:
                name = f"receipts/{issued.receipt_number}.pdf"
                files[name] = archive.read(copy.key, copy.version_id)
                entry["file"] = name
            receipts.append(entry)
        for event in record.events:
            deliveries.append(
                _delivery(evidence, customer_id, event.provider, event.event_id, event.occurred_at)
            )
        invoice_docs.append(
            {
                "summary": summary.model_dump(mode="json"),
                "payments": [e.model_dump(mode="json") for e in record.events],
                "documents": receipts,
                "messages": [
                    {k: _plain(v) for k, v in message.items() if k not in {"pk", "type"}}
                    for message in ledger.messages(summary.number)
                ],
            }
        )
    consent = (profile or {}).get("marketing_consent")
    document = {
        "format": EXPORT_FORMAT,
        "customer_id": customer_id,
        "generated_at": now.isoformat(),
        "profile": None
        if profile is None
        else {k: _plain(v) for k, v in profile.items() if k not in _PROFILE_INTERNAL},
        "consents": {"marketing": _plain(consent)} if consent else {},
        "invoices": invoice_docs,
        "gateway_deliveries": [d for d in deliveries if d],
    }
    return CustomerExport(document=document, files=files)


def _delivery(
    evidence: DeliverySource, customer_id: str, provider: str, event_id: str, around: datetime
) -> dict[str, Any]:
    try:
        raw = evidence.fetch(provider, event_id, customer_id, received_at=around)
    except NotFound:
        return {}
    except (CustomerErased, SealInvalid) as exc:
        return {"provider": provider, "event_id": event_id, "unreadable": exc.code}
    return {
        "provider": raw.provider,
        "event_id": raw.event_id,
        "received_at": raw.received_at.isoformat(),
        "verification": raw.verification,
        "body": raw.body.decode("utf-8", errors="replace"),
    }
