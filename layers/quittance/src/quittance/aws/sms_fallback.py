"""Queue a message again for SMS only, once per (invoice, change), through Powertools
Idempotency: SNS may deliver one SES event twice, and a bounce may be followed by a complaint
about the same message; the customer gets one SMS.

The idempotency record is written before the send and deleted by Powertools when the send
raises, so a fallback that could not be queued is queued by the event's redelivery."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from quittance.aws.idempotency import once_per_key
from quittance.aws.queue import SqsQueue
from quittance.models.messages import NotificationJob
from quittance.privacy.periods import REDELIVERY_WINDOW

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient


def _mark_repeat(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, "repeat": True}


def fallback_config() -> IdempotencyConfig:
    """Created at import by the feedback handler, which registers each Lambda context on it."""
    return IdempotencyConfig(
        event_key_jmespath="[invoice_number, change_id]",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=REDELIVERY_WINDOW,
        response_hook=_mark_repeat,
    )


class SmsFallbackQueue:
    def __init__(
        self, queue: SqsQueue, *, config: IdempotencyConfig, table: str, client: DynamoDBClient
    ) -> None:
        self._queue = queue
        self._send_once = once_per_key(
            self._send,
            data_keyword="job",
            config=config,
            table=table,
            client=client,
            operation="feedback.sms_fallback",
        )

    def _send(self, *, job: NotificationJob) -> dict[str, Any]:
        message_id = self._queue.send(job.model_dump_json(), correlation_id=job.correlation_id)
        return {"message_id": message_id, "repeat": False}

    def queue_sms(self, job: NotificationJob) -> bool:
        if job.channels != ("sms",):
            raise ValueError("an SMS fallback job must name the SMS channel only")
        return not bool(self._send_once(job=job).get("repeat"))
