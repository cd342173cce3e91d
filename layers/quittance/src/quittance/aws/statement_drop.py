"""The bank statements bucket's drop prefix: what a bank sync (EBICS, SFTP) or staff (through
a presigned POST the staff API hands out) write, read back whole once its size is known to be
within the reader's limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quittance.bank.statement import MAX_BYTES, StatementRefused
from quittance.bank.uploads import PresignedUpload

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_s3.client import S3Client


class StatementDrop:
    def __init__(self, bucket: str, client: S3Client, kms_key_id: str | None = None) -> None:
        self.bucket = bucket
        self._client = client
        self._kms_key_id = kms_key_id

    def read(self, key: str, *, max_bytes: int = MAX_BYTES) -> tuple[bytes, dict[str, str]]:
        """The file's bytes and metadata; StatementRefused before downloading anything too
        large."""
        head = self._client.head_object(Bucket=self.bucket, Key=key)
        size = head["ContentLength"]
        if size > max_bytes:
            raise StatementRefused(
                f"statement is {size:,} bytes; the limit is {max_bytes:,} (split the period)"
            )
        body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read(max_bytes + 1)
        return body, dict(head.get("Metadata") or {})

    def presign_upload(
        self, key: str, *, size: int, metadata: dict[str, str], seconds: int
    ) -> PresignedUpload:
        """A presigned POST rather than PUT: its policy makes S3 itself refuse another key,
        a file of another size than announced (content-length-range), and an upload without
        the bucket's SSE-KMS key or without the metadata, each signed into the policy. (A
        presigned PUT carries SSE-KMS as signed headers the uploader must repeat exactly,
        and bounds no size.)"""
        if self._kms_key_id is None:
            raise RuntimeError("the bucket's KMS key is not configured: no upload is signed")
        fields = {
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": self._kms_key_id,
            **{f"x-amz-meta-{name}": value for name, value in metadata.items()},
        }
        conditions: list[object] = [
            ["content-length-range", size, size],
            *({name: value} for name, value in fields.items()),
        ]
        post = self._client.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields=fields, Conditions=conditions, ExpiresIn=seconds
        )
        return PresignedUpload(
            url=post["url"], fields={k: str(v) for k, v in post["fields"].items()}
        )
