"""The seller's logo in the archive bucket, under its SHA-256
(``seller/logos/<sha256>.png``): written once, locked like the receipts that show it, so a
receipt re-rendered years later finds the very image it was issued with."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from quittance.aws.errors import error_code

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_s3.client import S3Client

LOGO_PREFIX = "seller/logos/"
_EXTENSIONS = {"image/png": "png", "image/svg+xml": "svg"}


def logo_key(sha256: str, media_type: str) -> str:
    return f"{LOGO_PREFIX}{sha256}.{_EXTENSIONS[media_type]}"


class LogoMismatch(Exception):
    """The stored bytes are not the image the profile names (never printed then)."""


class SellerLogos:
    def __init__(self, bucket: str, client: S3Client, kms_key_id: str | None = None) -> None:
        self._bucket = bucket
        self._client = client
        self._kms_key_id = kms_key_id
        self._cache: dict[str, bytes] = {}  # by hash: a key's content never changes

    def read(self, sha256: str, media_type: str) -> bytes:
        if sha256 not in self._cache:
            body = self._client.get_object(Bucket=self._bucket, Key=logo_key(sha256, media_type))
            data = body["Body"].read()
            if hashlib.sha256(data).hexdigest() != sha256:
                raise LogoMismatch(f"{logo_key(sha256, media_type)} does not hash to its name")
            self._cache[sha256] = data
        return self._cache[sha256]

    def put(self, data: bytes, media_type: str) -> str:
        """Store the image once (the bucket's default Object Lock applies); its key."""
        key = logo_key(hashlib.sha256(data).hexdigest(), media_type)
        try:
            self._client.head_object(Bucket=self._bucket, Key=key)
            return key  # the same bytes are already there
        except ClientError as exc:
            if error_code(exc) not in {"404", "NoSuchKey", "NotFound"}:
                raise
        extra = {"SSEKMSKeyId": self._kms_key_id} if self._kms_key_id else {}
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=data,
            ContentType=media_type,
            ServerSideEncryption="aws:kms",
            **extra,  # type: ignore[arg-type]
        )
        return key
