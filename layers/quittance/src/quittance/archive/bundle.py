"""Handing a proof over: one zip with the PDF, its record, the audit of it, the gateway's
kept delivery and a README saying how to check each part without quittance."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from quittance.archive.ports import ProofVersion
from quittance.archive.verification import pdf_facts
from quittance.errors import CustomerErased, NotFound
from quittance.ledger.model import StoredReceipt
from quittance.privacy.evidence import DeliverySource, RawDelivery, signature_headers


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
vérifier sans nous faire confiance. {signature_fr}
Constitué le {generated_at} par {actor}.

EN — This bundle holds receipt {number} exactly as archived (PDF/A, write-once locked until
{retain_until}), its machine-readable copy (receipt.json), the ledger history of invoice
{invoice}, the messages sent to the customer with their delivery status, this receipt's
audit entries and, when it was kept, the payment gateway's delivery exactly as received
({delivery_en}).
manifest.json gives the SHA-256 of every file: check it with `sha256sum`, without trusting
us. {signature_en}
Generated {generated_at} by {actor}.
"""


def _signature_words(raw: RawDelivery | None) -> tuple[str, str]:
    """How to check the kept delivery: a signed webhook is re-verified with the gateway's
    secret; what the lookup stage read from the gateway's API carries no signature, and the
    README must not send a reader looking for one."""
    if raw is None:
        return "", ""
    # content-type is kept with the signing headers but signs nothing by itself.
    if not set(signature_headers(raw.headers)) - {"content-type"}:
        return (
            "Le message conservé est la réponse de l'API de la passerelle lue par quittance "
            "(pas un message signé : aucune signature à recalculer ; voir "
            "delivery/delivery.json).",
            "The kept delivery is what quittance read from the gateway's API (not a signed "
            "delivery: there is no signature to recompute; see delivery/delivery.json).",
        )
    return (
        "Signature de la passerelle : recalculez-la sur delivery/body.bin avec les en-têtes "
        "de delivery/headers.json et le secret de la passerelle.",
        "Gateway signature: recompute it over delivery/body.bin with the headers in "
        "delivery/headers.json and the gateway's signing secret.",
    )


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
        signature_fr, signature_en = _signature_words(raw if state == "kept" else None)
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
                signature_fr=signature_fr,
                signature_en=signature_en,
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
