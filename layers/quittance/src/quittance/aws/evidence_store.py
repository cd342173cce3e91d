"""Raw gateway deliveries in the Object Lock archive, sealed with the customer's own key.

``evidence/{provider}/{YYYY}/{MM}/{event_id}.bin``, written once (If-None-Match), locked like
the receipts they prove. The object holds only the AES-GCM envelope: S3's own SSE-KMS is a
second layer, but the customer's key is what erasure destroys."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from quittance.archive.retention import Lock
from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.errors import error_code
from quittance.errors import NotFound
from quittance.privacy.evidence import (
    EVIDENCE_CONTEXT,
    RawDelivery,
    decode,
    encode,
    evidence_key,
)

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_s3.client import S3Client


def _context(provider: str, event_id: str) -> str:
    # Bound to the event: an envelope copied under another event's key does not open.
    return f"{EVIDENCE_CONTEXT}|{provider}|{event_id}"


class EvidenceStore:
    def __init__(self, archive: ArchiveBucket, s3: S3Client, keyring: CustomerKeyring) -> None:
        self._archive = archive
        self._s3 = s3
        self._keyring = keyring

    def keep(self, delivery: RawDelivery, customer_id: str, lock: Lock) -> dict[str, Any]:
        """Raises AlreadyExists when this event was kept before (a redelivery), and
        CustomerErased for an erased customer (nothing is written)."""
        sealed = self._keyring.seal(
            customer_id, encode(delivery), _context(delivery.provider, delivery.event_id)
        )
        archived = self._archive.put_once(
            evidence_key(delivery.provider, delivery.event_id, delivery.received_at),
            sealed,
            lock,
            content_type="application/octet-stream",
            metadata={"customer": customer_id, "format": "quittance-sealed-1"},
        )
        return {
            "key": archived.key,
            "version_id": archived.version_id,
            "sha256_hex": archived.sha256_hex,
            "size": archived.size,
        }

    def fetch(
        self,
        provider: str,
        event_id: str,
        customer_id: str,
        *,
        received_at: datetime | None = None,
    ) -> RawDelivery:
        """The kept delivery; CustomerErased once the key is destroyed, NotFound if none.

        ``received_at`` (or the event's own time: a delivery arrives within days of it) names
        the month to look in first, then the next month; only then is the provider's prefix
        listed."""
        sealed = None
        if received_at is not None:
            after = (received_at.replace(day=1) + timedelta(days=32)).replace(day=1)
            for month in (received_at, after):
                sealed = self._get(evidence_key(provider, event_id, month))
                if sealed is not None:
                    break
        if sealed is None:
            sealed = self._get(self._find(f"evidence/{provider}/", f"/{event_id}.bin"))
        if sealed is None:
            raise NotFound(f"no evidence for {provider} event {event_id}")
        return decode(self._keyring.open(customer_id, sealed, _context(provider, event_id)))

    def _get(self, key: str) -> bytes | None:
        try:
            return bytes(self._s3.get_object(Bucket=self._archive.name, Key=key)["Body"].read())
        except ClientError as exc:
            if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise

    def _find(self, prefix: str, suffix: str) -> str:
        """The month is not known from the event id alone: list the provider's prefix."""
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._archive.name, Prefix=prefix):
            for entry in page.get("Contents", []):
                if str(entry["Key"]).endswith(suffix):
                    return str(entry["Key"])
        raise NotFound(f"no evidence under {prefix}*{suffix}")
