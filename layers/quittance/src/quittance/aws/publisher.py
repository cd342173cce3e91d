"""Queue a payment event at most once per (provider, event id), through Powertools Idempotency.

The dedupe record is written before the send and deleted by Powertools when the send raises,
so an event that could not be queued leaves nothing behind and its redelivery is accepted."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from quittance.aws.queue import SqsQueue
from quittance.errors import DeliveryInProgress
from quittance.models.lookups import GatewayLookupMessage
from quittance.models.messages import PaymentEventMessage

# Both go through one dedupe record per (provider, event id): an event is queued once, either
# for the ledger or for the lookup stage.
QueuedMessage = PaymentEventMessage | GatewayLookupMessage


def _mark_duplicate(response: Any, idempotent_data: DataRecord) -> Any:
    return {**response, "duplicate": True}


class DedupedPublisher:
    def __init__(
        self, queue: SqsQueue, persistence: DynamoDBPersistenceLayer, window_seconds: int
    ) -> None:
        self._queue = queue
        self.persistence = persistence
        self._in_progress_backoff = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
        self.config = IdempotencyConfig(
            event_key_jmespath="[event.provider, event.event_id]",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=window_seconds,
            response_hook=_mark_duplicate,
        )
        self._send_once = idempotent_function(
            data_keyword_argument="message",
            persistence_store=persistence,
            config=self.config,
        )(self._send)

    def _send(self, *, message: QueuedMessage) -> dict[str, Any]:
        message_id = self._queue.send(
            message.model_dump_json(), correlation_id=message.correlation_id
        )
        return {"message_id": message_id, "duplicate": False}

    def publish_once(self, message: QueuedMessage) -> bool:
        # A concurrent delivery of the same event is being queued: wait for its outcome. If it
        # succeeds this one is a duplicate; if it fails its record is gone and this one sends.
        for delay in self._in_progress_backoff:
            try:
                result = self._send_once(message=message)
            except IdempotencyAlreadyInProgressError:
                time.sleep(delay)
                continue
            return not bool(result.get("duplicate"))
        raise DeliveryInProgress(
            f"event {message.event.event_id} is still being queued by another delivery; retry"
        )
