"""What compliance staff do with a proof: find it, check it, freeze it, hand it over.

Plain Python over small adapters (the ledger, its receipt index, the archive, the audit
trail, the kept gateway deliveries); the archive_api function only parses and answers."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from quittance.archive.ports import ProofArchive, ProofVersion, ReceiptFinder, sha256_file
from quittance.archive.retention import RetentionPolicy, lock_for
from quittance.errors import CustomerErased, NotFound, QuittanceError
from quittance.ledger.model import ReceiptRecord, StoredReceipt
from quittance.ledger.service import pseudonymous_customer_id
from quittance.privacy.evidence import DeliverySource, RawDelivery

MAX_PAGE = 200
DEFAULT_PAGE = 50
EVIDENCE_URL_SECONDS = 300
_PDFAID = re.compile(rb"pdfaid:(part|conformance)\s*(?:=\s*[\"']([^\"']+)[\"']|>\s*([^<\s]+)\s*<)")


class SearchRefused(QuittanceError):
    code = "search_invalid"


# ---------------------------------------------------------------------------- search
class ReceiptQuery(BaseModel):
    """Filters staff search by. One of the keys (receipt, invoice, payment, customer) or a
    date range picks the index; the others narrow what it returns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    receipt: str | None = Field(default=None, max_length=64)
    invoice: str | None = Field(default=None, max_length=64)
    payment: str | None = Field(default=None, max_length=255)
    customer: str | None = Field(default=None, pattern=r"^C-[0-9a-f]{20}$")
    provider: str | None = Field(default=None, max_length=32)
    reference: str | None = Field(default=None, max_length=255)
    date_from: date | None = Field(default=None, alias="from")
    date_to: date | None = Field(default=None, alias="to")
    method: str | None = Field(default=None, max_length=32)
    status: str | None = Field(default=None, max_length=32)
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(default=None, max_length=4096)

    @model_validator(mode="after")
    def _usable(self) -> ReceiptQuery:
        if (self.provider is None) != (self.reference is None):
            raise ValueError("a customer reference needs its provider (provider and reference)")
        if (self.date_from is None) != (self.date_to is None):
            raise ValueError("a date range needs both from and to")
        if self.date_from and self.date_to:
            if self.date_to < self.date_from:
                raise ValueError("to is before from")
            if (self.date_to - self.date_from).days > 366:
                raise ValueError("a date range spans at most 366 days")
        keyed = (self.receipt, self.invoice, self.payment, self.customer, self.reference)
        if not any(keyed) and self.date_from is None:
            raise ValueError(
                "give a receipt, invoice, payment id, customer (or provider and reference), "
                "or a date range (from, to); method and status narrow one of those"
            )
        return self

    @property
    def customer_id(self) -> str | None:
        if self.customer:
            return self.customer
        if self.provider and self.reference:
            return pseudonymous_customer_id(self.provider, self.reference)
        return None

    def served_by(self) -> str:
        if self.receipt:
            return "gsi1 RCPT#<number>"
        if self.payment:
            return "gsi1 PAY#<payment id>, then table key INV#<invoice>"
        if self.invoice:
            return "table key INV#<invoice> / RCPT#"
        if self.customer_id:
            return "gsi3 CUST#<customer id>, then table key INV#<invoice>"
        return "gsi2 DAY#<date>"

    def keeps(self, doc: StoredReceipt) -> bool:
        record = doc.record
        paid = record.paid_at.astimezone(UTC).date()
        method = record.method.kind.value if record.method else None
        return (
            (self.invoice is None or record.invoice_number == self.invoice)
            and (self.payment is None or record.payment_id == self.payment)
            and (self.customer_id is None or record.customer_id == self.customer_id)
            and (self.date_from is None or self.date_from <= paid)
            and (self.date_to is None or paid <= self.date_to)
            and (self.method is None or method == self.method)
            and (self.status is None or record.invoice_status.value == self.status)
        )


def hit(doc: StoredReceipt) -> dict[str, Any]:
    record = doc.record
    data = record.model_dump(mode="json")
    archive = doc.archive.as_record() if doc.archive else None
    return {
        "receipt_number": record.receipt_number,
        "kind": record.kind,
        "invoice_number": record.invoice_number,
        "payment_id": record.payment_id,
        "customer_id": record.customer_id,
        "amount": data["amount"],
        "method": record.method.kind.value if record.method else None,
        "status": record.invoice_status.value,
        "paid_at": data["paid_at"],
        "issued_at": data["issued_at"],
        "archived": bool(archive),
        "archive": archive or None,
    }


def encode_cursor(cursor: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise SearchRefused("cursor is not one this API gave") from None
    if not isinstance(value, dict):
        raise SearchRefused("cursor is not one this API gave")
    return value


def search(index: ReceiptFinder, query: ReceiptQuery) -> tuple[list[dict[str, Any]], str | None]:
    """One page of hits and the cursor of the next page (None at the end)."""
    cursor = decode_cursor(query.cursor)
    if any((query.receipt, query.payment, query.invoice, query.customer_id)):
        # Keyed searches return one invoice's or one customer's documents: a short list,
        # paged by position.
        if query.receipt:
            docs = [d for d in index.by_number(query.receipt) if query.keeps(d)]
        elif query.payment:
            docs = [d for d in index.by_payment(query.payment) if query.keeps(d)]
        elif query.invoice:
            docs = [d for d in index.by_invoice(query.invoice) if query.keeps(d)]
        else:
            docs = [d for d in index.by_customer(str(query.customer_id)) if query.keeps(d)]
        offset = int(cursor.get("offset", 0))
        page = docs[offset : offset + query.limit]
        more = offset + query.limit < len(docs)
        return [hit(d) for d in page], encode_cursor(
            {"offset": offset + query.limit}
        ) if more else None
    assert query.date_from and query.date_to
    day = date.fromisoformat(cursor["day"]) if "day" in cursor else query.date_from
    start: dict[str, Any] | None = cursor.get("start")
    found: list[dict[str, Any]] = []
    while day <= query.date_to:
        # Whole index pages only, so that the cursor (day, last key) resumes exactly.
        docs, start = index.day_page(day, query.limit - len(found), start)
        found.extend(hit(d) for d in docs if query.keeps(d))
        if not start:
            day += timedelta(days=1)
        if len(found) >= query.limit:
            break
    if day > query.date_to:
        return found, None
    return found, encode_cursor({"day": day.isoformat(), **({"start": start} if start else {})})


# ---------------------------------------------------------------------------- the PDF
@dataclass(frozen=True)
class PdfFacts:
    pdfa_part: str | None
    pdfa_conformance: str | None
    receipt_json: bytes | None


def pdf_facts(pdf: bytes) -> PdfFacts:
    """PDF/A identification from the XMP packet, and the embedded ``receipt.json``."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(pdf))
        root: Any = reader.trailer["/Root"].get_object()
        metadata: Any = root.get("/Metadata")
        xmp = metadata.get_object().get_data() if metadata is not None else b""
        attachments = reader.attachments
    except Exception:
        return PdfFacts(None, None, None)
    found = {
        m.group(1).decode(): (m.group(2) or m.group(3)).decode() for m in _PDFAID.finditer(xmp)
    }
    embedded = attachments.get("receipt.json") or []
    return PdfFacts(found.get("part"), found.get("conformance"), embedded[0] if embedded else None)


# Fields the embedded document and the ledger record both state, and how the document
# words the ledger's status.
_SHARED = ("receipt_number", "invoice_number", "kind", "amount", "balance_due")
_TIMES = ("paid_at", "issued_at")
_STATUS_WORDS = {"partially_paid": "partial", "overpaid": "overpaid", "refunded": "refunded"}


def embedded_differences(embedded: dict[str, Any], record: ReceiptRecord) -> list[str]:
    ledger = record.model_dump(mode="json")
    differences = [f for f in _SHARED if embedded.get(f) != ledger.get(f)]
    for name in _TIMES:
        try:
            same = datetime.fromisoformat(embedded[name]) == getattr(record, name)
        except (KeyError, TypeError, ValueError):
            same = False
        if not same:
            differences.append(name)
    if (embedded.get("original_receipt_number") or None) != record.original_receipt_number:
        differences.append("original_receipt_number")
    if record.method is not None and embedded.get("method") != ledger.get("method"):
        differences.append("method")
    if embedded.get("status") != _STATUS_WORDS.get(record.invoice_status, "paid"):
        differences.append("status")
    return differences


# ---------------------------------------------------------------------------- verify
@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def verify_proof(
    receipt: StoredReceipt, archive: ProofArchive, policy: RetentionPolicy
) -> list[Check]:
    """Every named check on one archived proof, read back by its version id."""
    record, stored = receipt.record, receipt.archive
    if stored is None:
        return [Check("archived", False, "the ledger has no archive record for this receipt")]
    checks = [Check("archived", True, f"{stored.key} version {stored.version_id}")]
    try:
        body = archive.read(stored.key, stored.version_id)
        head = archive.head(stored.key, stored.version_id)
    except NotFound as exc:
        return [*checks, Check("object_present", False, exc.detail)]
    actual = hashlib.sha256(body).hexdigest()
    checks.append(
        Check(
            "sha256_matches_ledger",
            actual == stored.sha256_hex,
            f"archived bytes {actual}, ledger {stored.sha256_hex}",
        )
    )
    checks.append(
        Check(
            "sha256_matches_s3_checksum",
            bool(head.sha256_hex) and actual == head.sha256_hex,
            f"archived bytes {actual}, S3 stored checksum {head.sha256_hex or 'none'}",
        )
    )
    checks.append(
        Check(
            "size_matches_ledger",
            len(body) == (stored.size if stored.size is not None else -1),
            f"{len(body)} bytes, ledger {stored.size}",
        )
    )
    checks.append(
        Check(
            "lock_mode",
            head.lock_mode == policy.mode.value,
            f"object {head.lock_mode or 'unlocked'}, policy {policy.mode.value}",
        )
    )
    required = lock_for(record.paid_at, policy, record.issued_at).retain_until
    retain = datetime.fromisoformat(head.retain_until) if head.retain_until else None
    checks.append(
        Check(
            "retain_until",
            # S3 keeps retain-until to the second; the floor is computed to the microsecond.
            retain is not None and retain >= required - timedelta(seconds=1),
            f"object until {head.retain_until or 'none'}, policy requires {required.isoformat()}",
        )
    )
    facts = pdf_facts(body)
    checks.append(
        Check(
            "pdfa_identification",
            facts.pdfa_part in {"1", "2", "3"} and bool(facts.pdfa_conformance),
            f"XMP pdfaid part {facts.pdfa_part}, conformance {facts.pdfa_conformance}",
        )
    )
    if facts.receipt_json is None:
        checks.append(Check("embedded_receipt_json", False, "no receipt.json attached"))
    else:
        try:
            differences = embedded_differences(json.loads(facts.receipt_json), record)
        except ValueError:
            differences = ["not JSON"]
        checks.append(
            Check(
                "embedded_receipt_json",
                not differences,
                "equals the ledger" if not differences else "differs: " + ", ".join(differences),
            )
        )
    return checks


# ---------------------------------------------------------------------------- evidence


@dataclass
class Bundle:
    files: dict[str, str] = field(default_factory=dict)
    """Name → SHA-256 hex, in the order written."""


README = """\
Dossier de preuve {number} / Evidence bundle {number}
=====================================================

FR — Ce dossier contient le reçu {number} tel qu'il est archivé (PDF/A, verrouillé en
écriture unique jusqu'au {retain_until}), sa copie lisible par machine (receipt.json),
l'historique de la facture {invoice} dans le registre, les messages envoyés au client et
leur statut de remise, le journal d'audit de ce reçu et, s'il a été conservé, le message
de la passerelle de paiement tel qu'il a été reçu ({delivery_fr}).
manifest.json donne l'empreinte SHA-256 de chaque fichier : `sha256sum` permet de le
vérifier sans nous faire confiance. Signature de la passerelle : recalculez-la sur
delivery/body.bin avec les en-têtes de delivery/headers.json et le secret de la passerelle.
Constitué le {generated_at} par {actor}.

EN — This bundle holds receipt {number} exactly as archived (PDF/A, write-once locked until
{retain_until}), its machine-readable copy (receipt.json), the ledger history of invoice
{invoice}, the messages sent to the customer with their delivery status, this receipt's
audit entries and, when it was kept, the payment gateway's delivery exactly as received
({delivery_en}).
manifest.json gives the SHA-256 of every file: check it with `sha256sum`, without trusting
us. Gateway signature: recompute it over delivery/body.bin with the headers in
delivery/headers.json and the gateway's signing secret.
Generated {generated_at} by {actor}.
"""


def _canonical(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str).encode()


@dataclass(frozen=True)
class Evidence:
    """Everything an evidence bundle holds about one document, gathered by the desk."""

    receipt: StoredReceipt
    """The receipt's ledger record as stored."""
    pdfs: list[tuple[ProofVersion, bytes]]
    """Every archived version of the document, with its bytes."""
    history: dict[str, Any]
    messages: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    delivery: tuple[str, RawDelivery | None]
    """(state, raw delivery), state one of ``kept``, ``erased``, ``not_kept``,
    ``not_available``."""


def write_bundle(out: IO[bytes], evidence: Evidence, *, actor: str, now: datetime) -> Bundle:
    """The evidence zip of ``evidence``, as ``actor`` asked for it at ``now``."""
    receipt, pdfs, delivery = evidence.receipt, evidence.pdfs, evidence.delivery
    record, stored = receipt.record, receipt.archive
    bundle = Bundle()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, data: bytes) -> None:
            archive.writestr(name, data)
            bundle.files[name] = hashlib.sha256(data).hexdigest()

        for version, body in pdfs:
            suffix = "" if version.is_latest else f".{version.version_id}"
            add(f"documents/{version.key.rsplit('/', 1)[-1]}{suffix}", body)
        original = next((b for v, b in pdfs if stored is not None and v.key == stored.key), None)
        embedded = pdf_facts(original).receipt_json if original else None
        if embedded is not None:
            add("receipt.json", embedded)
        add(
            "ledger/receipt-record.json",
            _canonical(receipt.as_item()),
        )
        add("ledger/invoice-history.json", _canonical(evidence.history))
        add("messages.json", _canonical(evidence.messages))
        add("audit.json", _canonical(evidence.audit))
        state, raw = delivery
        if state == "kept" and raw is not None:
            add("delivery/body.bin", raw.body)
            add("delivery/headers.json", _canonical(raw.headers))
            add(
                "delivery/delivery.json",
                _canonical(
                    {
                        "provider": raw.provider,
                        "event_id": raw.event_id,
                        "received_at": raw.received_at.astimezone(UTC).isoformat(),
                        "verification": raw.verification,
                    }
                ),
            )
        else:
            notes = {
                "erased": "Données du client effacées : le message de la passerelle est illisible "
                "(clé détruite).\nCustomer erased: the gateway delivery is unreadable (key "
                "destroyed).\n",
                "not_kept": "Aucun message de passerelle conservé pour ce paiement.\nNo gateway "
                "delivery was kept for this payment.\n",
                "not_available": "Message de passerelle non disponible dans cette version.\n"
                "Raw delivery not available in this version.\n",
            }
            add(f"delivery/{state.upper().replace('_', '-')}.txt", notes.get(state, state).encode())
        delivery_words = {
            "kept": ("inclus", "included"),
            "erased": ("effacé à la demande du client", "erased at the customer's request"),
            "not_kept": ("non conservé", "not kept"),
            "not_available": ("non disponible", "not available"),
        }.get(state, (state, state))
        add(
            "README.txt",
            README.format(
                number=record.receipt_number,
                invoice=record.invoice_number,
                retain_until=stored.retain_until
                if stored and stored.retain_until is not None
                else "?",
                delivery_fr=delivery_words[0],
                delivery_en=delivery_words[1],
                generated_at=now.astimezone(UTC).isoformat(),
                actor=actor,
            ).encode(),
        )
        archive.writestr(
            "manifest.json",
            _canonical(
                {
                    "receipt_number": record.receipt_number,
                    "generated_at": now.astimezone(UTC).isoformat(),
                    "algorithm": "SHA-256",
                    "files": bundle.files,
                }
            ),
        )
    return bundle


def source_event(
    history_events: list[dict[str, Any]], outcomes: dict[str, list[str]], number: str
) -> dict[str, Any] | None:
    """The gateway event that produced this document."""
    for event in history_events:
        if number in outcomes.get(str(event["event_id"]), []):
            return event
    return None


def delivery_for(
    source: DeliverySource | None, event: dict[str, Any] | None, customer_id: str
) -> tuple[str, RawDelivery | None]:
    if source is None:
        return "not_available", None
    if event is None:
        return "not_kept", None
    try:
        occurred = event.get("occurred_at")
        hint = datetime.fromisoformat(occurred) if isinstance(occurred, str) else None
        delivery = source.fetch(
            str(event["provider"]), str(event["event_id"]), customer_id, received_at=hint
        )
        return "kept", delivery
    except CustomerErased:
        return "erased", None
    except NotFound:
        return "not_kept", None


def spooled() -> SpooledTemporaryFile[bytes]:
    """Bundles are built in memory up to 8 MiB, on disk beyond."""
    return SpooledTemporaryFile(max_size=8 << 20)


__all__ = [
    "EVIDENCE_URL_SECONDS",
    "Check",
    "Evidence",
    "ReceiptQuery",
    "SearchRefused",
    "delivery_for",
    "search",
    "sha256_file",
    "source_event",
    "spooled",
    "verify_proof",
    "write_bundle",
]
