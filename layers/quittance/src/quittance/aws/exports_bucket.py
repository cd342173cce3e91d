"""The exports bucket: customers' export zips, SSE-KMS, gone after a day (bucket lifecycle),
handed over by presigned GET."""

from __future__ import annotations

import base64
from typing import Any


class ExportsBucket:
    def __init__(self, name: str, client: Any, kms_key_id: str) -> None:
        self.name = name
        self._client = client
        self._kms_key_id = kms_key_id

    def put_zip(self, key: str, body: bytes, sha256_hex: str) -> None:
        # S3 checks the body against the checksum, so a corrupted upload is refused, not kept.
        self._client.put_object(
            Bucket=self.name,
            Key=key,
            Body=body,
            ContentType="application/zip",
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256_hex)).decode(),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=self._kms_key_id,
            BucketKeyEnabled=True,
        )

    def presign_download(self, key: str, filename: str, seconds: int) -> str:
        return str(
            self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.name,
                    "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                    "ResponseContentType": "application/zip",
                },
                ExpiresIn=seconds,
            )
        )
