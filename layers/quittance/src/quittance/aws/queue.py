"""SQS queue adapter: send one message or raise QueueUnavailable."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from quittance.errors import QueueUnavailable

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_sqs.client import SQSClient


class SqsQueue:
    def __init__(self, url: str, client: SQSClient) -> None:
        self.url = url
        self._client = client

    def send(self, body: str, *, correlation_id: str) -> str:
        try:
            response = self._client.send_message(
                QueueUrl=self.url,
                MessageBody=body,
                MessageAttributes={
                    "correlation_id": {"DataType": "String", "StringValue": correlation_id}
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise QueueUnavailable(f"could not queue message: {type(exc).__name__}") from exc
        return str(response["MessageId"])

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        """Keep a received message hidden for ``seconds`` (at most 12 h) before it is
        delivered again: a back-off longer than the queue's visibility timeout."""
        try:
            self._client.change_message_visibility(
                QueueUrl=self.url,
                ReceiptHandle=receipt_handle,
                VisibilityTimeout=max(0, min(seconds, 43200)),
            )
        except (ClientError, BotoCoreError) as exc:
            # The message then comes back after the queue's own visibility timeout.
            raise QueueUnavailable(f"could not delay the message: {type(exc).__name__}") from exc
