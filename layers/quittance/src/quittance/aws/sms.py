"""SNS SMS: one transactional text to one E.164 number, under the stage's sender id."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_sns.client import SNSClient


class SnsSms:
    def __init__(self, client: SNSClient, sender_id: str) -> None:
        self._client = client
        self._sender_id = sender_id

    def send(self, phone_number: str, text: str) -> str:
        """Publish directly to the number (no topic); the provider's message id."""
        response = self._client.publish(
            PhoneNumber=phone_number,
            Message=text,
            MessageAttributes={
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": self._sender_id},
                # Transactional: delivered with priority, and allowed to opted-in
                # numbers outside marketing hours; our texts are never promotional.
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            },
        )
        return str(response["MessageId"])
