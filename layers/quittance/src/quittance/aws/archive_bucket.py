"""The Object Lock archive bucket: write once, read by version, presign downloads."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from quittance.archive.retention import Lock
from quittance.aws.errors import error_code
from quittance.errors import AlreadyExists, NotFound

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_s3.client import S3Client


@dataclass(frozen=True)
class ArchivedObject:
    key: str
    version_id: str
    sha256_hex: str
    size: int
    lock_mode: str
    retain_until: str

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


class ArchiveBucket:
    def __init__(self, name: str, client: S3Client, kms_key_id: str | None = None) -> None:
        self.name = name
        self._client = client
        self._kms_key_id = kms_key_id

    def put_once(
        self, key: str, body: bytes, lock: Lock, *, content_type: str, metadata: dict[str, str]
    ) -> ArchivedObject:
        """Write a new object, never a second version: S3 refuses (412) if the key exists,
        so a retried job cannot add another 10-year-locked copy."""
        digest = hashlib.sha256(body).digest()
        extra: dict[str, Any] = {}
        if self._kms_key_id:
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key_id}
        try:
            response = self._client.put_object(
                Bucket=self.name,
                Key=key,
                Body=body,
                IfNoneMatch="*",
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(digest).decode(),
                ObjectLockMode=lock.mode.value,
                ObjectLockRetainUntilDate=lock.retain_until,
                Metadata=metadata,
                **extra,
            )
        except ClientError as exc:
            if error_code(exc) in {"PreconditionFailed", "ConditionalRequestConflict"}:
                raise AlreadyExists(f"{key} is archived already") from None
            raise
        return ArchivedObject(
            key=key,
            version_id=str(response["VersionId"]),
            sha256_hex=digest.hex(),
            size=len(body),
            lock_mode=lock.mode.value,
            retain_until=lock.retain_until.isoformat(),
        )

    def head(self, key: str, version_id: str | None = None) -> ArchivedObject:
        kwargs: dict[str, Any] = {"Bucket": self.name, "Key": key, "ChecksumMode": "ENABLED"}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            head = self._client.head_object(**kwargs)
        except ClientError as exc:
            if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                raise NotFound(f"{key} is not archived") from None
            raise
        checksum = head.get("ChecksumSHA256")
        retain: datetime | None = head.get("ObjectLockRetainUntilDate")
        return ArchivedObject(
            key=key,
            version_id=str(head.get("VersionId")),
            sha256_hex=base64.b64decode(checksum).hex() if checksum else "",
            size=int(head["ContentLength"]),
            lock_mode=str(head.get("ObjectLockMode", "")),
            retain_until=retain.isoformat() if retain else "",
        )

    def read(self, key: str, version_id: str) -> bytes:
        response = self._client.get_object(Bucket=self.name, Key=key, VersionId=version_id)
        return bytes(response["Body"].read())

    def presign_download(self, key: str, version_id: str, filename: str, seconds: int) -> str:
        return str(
            self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.name,
                    "Key": key,
                    "VersionId": version_id,
                    "ResponseContentDisposition": f'inline; filename="{filename}"',
                    "ResponseContentType": "application/pdf",
                },
                ExpiresIn=seconds,
            )
        )
