"""The bank statements bucket's drop prefix: what a bank sync (EBICS, SFTP) writes, read
back whole once its size is known to be within the reader's limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quittance.bank.statement import MAX_BYTES, StatementRefused

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_s3.client import S3Client

DROP_PREFIX = "inbox/"


class StatementDrop:
    def __init__(self, bucket: str, client: S3Client) -> None:
        self.bucket = bucket
        self._client = client

    def read(self, key: str, *, max_bytes: int = MAX_BYTES) -> bytes:
        """The file's bytes; StatementRefused before downloading anything too large."""
        size = self._client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        if size > max_bytes:
            raise StatementRefused(
                f"statement is {size:,} bytes; the limit is {max_bytes:,} (split the period)"
            )
        return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read(max_bytes + 1)
