"""Checking a proof: the archived PDF is the one recorded (hash, version, lock), is PDF/A,
and its embedded receipt.json agrees with the ledger's record."""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from quittance.archive.ports import ProofArchive
from quittance.archive.retention import RetentionPolicy, lock_for
from quittance.errors import NotFound
from quittance.ledger.model import ReceiptRecord, StoredReceipt

_PDFAID = re.compile(rb"pdfaid:(part|conformance)\s*(?:=\s*[\"']([^\"']+)[\"']|>\s*([^<\s]+)\s*<)")


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
