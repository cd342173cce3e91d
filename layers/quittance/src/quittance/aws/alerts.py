"""The ops alerts topic: anomalies for people who fix them. No personal data goes in."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_sns.client import SNSClient


class OpsAlerts:
    def __init__(self, topic_arn: str, client: SNSClient) -> None:
        self.topic_arn = topic_arn
        self._client = client

    def publish(self, subject: str, details: dict[str, Any], *, dedupe_key: str) -> str:
        response = self._client.publish(
            TopicArn=self.topic_arn,
            Subject=subject[:100],
            Message=json.dumps(details, sort_keys=True),
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": str(details.get("anomaly", "-"))},
                "dedupe_key": {"DataType": "String", "StringValue": dedupe_key},
            },
        )
        return str(response["MessageId"])
