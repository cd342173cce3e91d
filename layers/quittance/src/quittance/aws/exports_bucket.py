"""The exports bucket: customers' export zips and the accountant's CSVs, SSE-KMS, gone after a
day (bucket lifecycle), handed over by presigned GET."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_s3.client import S3Client


class ExportsBucket:
    def __init__(self, name: str, client: S3Client, kms_key_id: str) -> None:
        self.name = name
        self._client = client
        self._kms_key_id = kms_key_id

    def put_zip(self, key: str, body: bytes, sha256_hex: str) -> None:
        self.put(key, body, sha256_hex, "application/zip")

    def put(self, key: str, body: bytes, sha256_hex: str, content_type: str) -> None:
        # S3 checks the body against the checksum, so a corrupted upload is refused, not kept.
        self._client.put_object(
            Bucket=self.name,
            Key=key,
            Body=body,
            ContentType=content_type,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256_hex)).decode(),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=self._kms_key_id,
            BucketKeyEnabled=True,
        )

    def presign_download(
        self, key: str, filename: str, seconds: int, content_type: str = "application/zip"
    ) -> str:
        return str(
            self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.name,
                    "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                    "ResponseContentType": content_type,
                },
                ExpiresIn=seconds,
            )
        )
