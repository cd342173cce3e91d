"""What staff need from the Object Lock archive beyond writing receipts: every version of a
proof with its lock and legal hold, legal holds on and off, evidence bundles, listings for
the end of retention. Removing versions is not here: see docs/compliance.md (disposal)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from quittance.archive.ports import ProofVersion, proof_prefix
from quittance.aws.errors import error_code
from quittance.errors import NotFound

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_s3.client import S3Client


BUNDLE_PREFIX = "evidence-bundles/"


class StaffArchive:
    def __init__(self, bucket: str, client: S3Client, kms_key_id: str | None = None) -> None:
        self.bucket = bucket
        self._client = client
        self._kms_key_id = kms_key_id

    def head(self, key: str, version_id: str, *, is_latest: bool = True) -> ProofVersion:
        try:
            head = self._client.head_object(
                Bucket=self.bucket, Key=key, VersionId=version_id, ChecksumMode="ENABLED"
            )
        except ClientError as exc:
            if error_code(exc) in {"404", "NoSuchKey", "NotFound", "NoSuchVersion", "400"}:
                raise NotFound(f"{key} version {version_id} is not archived") from None
            raise
        checksum = head.get("ChecksumSHA256")
        retain: datetime | None = head.get("ObjectLockRetainUntilDate")
        return ProofVersion(
            key=key,
            version_id=str(head.get("VersionId") or version_id),
            size=int(head["ContentLength"]),
            sha256_hex=base64.b64decode(checksum).hex() if checksum else "",
            lock_mode=str(head.get("ObjectLockMode", "")),
            retain_until=retain.isoformat() if retain else "",
            legal_hold=head.get("ObjectLockLegalHoldStatus") == "ON",
            is_latest=is_latest,
        )

    def listed(self, prefix: str) -> Iterator[tuple[str, str, bool]]:
        """(key, version id, is latest) of every version under ``prefix``."""
        paginator = self._client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for version in page.get("Versions", []):
                yield str(version["Key"]), str(version["VersionId"]), bool(version["IsLatest"])

    def versions(self, archive_key: str) -> list[ProofVersion]:
        """Every archived version of a proof: the original and any translation."""
        return [
            self.head(key, version_id, is_latest=latest)
            for key, version_id, latest in self.listed(proof_prefix(archive_key))
        ]

    def read(self, key: str, version_id: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key, VersionId=version_id)
        except ClientError as exc:
            if error_code(exc) in {"NoSuchKey", "NoSuchVersion", "404"}:
                raise NotFound(f"{key} version {version_id} is not archived") from None
            raise
        return bytes(response["Body"].read())

    def set_legal_hold(self, key: str, version_id: str, on: bool) -> None:
        self._client.put_object_legal_hold(
            Bucket=self.bucket,
            Key=key,
            VersionId=version_id,
            LegalHold={"Status": "ON" if on else "OFF"},
        )

    def put_bundle(self, name: str, body: IO[bytes], sha256: bytes) -> tuple[str, str]:
        """Store an evidence bundle (the bucket's default retention applies to it too)."""
        key = f"{BUNDLE_PREFIX}{name}"
        extra: dict[str, Any] = {}
        if self._kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key_id}
        response = self._client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType="application/zip",
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=base64.b64encode(sha256).decode(),
            **extra,
        )
        return key, str(response["VersionId"])

    def presign(self, key: str, version_id: str, filename: str, seconds: int) -> str:
        return str(
            self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "VersionId": version_id,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                },
                ExpiresIn=seconds,
            )
        )
