"""SNS SMS: one transactional text to one E.164 number, under the seller's sender id (its
profile's ``sms_sender``) or, without one, the stage's (template parameter ``SmsSenderId``).
SNS takes the sender id per message, so a profile change applies without a cold start."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_sns.client import SNSClient


class SnsSms:
    def __init__(self, client: SNSClient, sender_id: str) -> None:
        self._client = client
        self._sender_id = sender_id

    def send(self, phone_number: str, text: str, *, sender_id: str | None = None) -> str:
        """Publish directly to the number (no topic); the provider's message id."""
        sender = sender_id or self._sender_id
        response = self._client.publish(
            PhoneNumber=phone_number,
            Message=text,
            MessageAttributes={
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": sender},
                # Transactional: delivered with priority, and allowed to opted-in
                # numbers outside marketing hours; our texts are never promotional.
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            },
        )
        return str(response["MessageId"])
