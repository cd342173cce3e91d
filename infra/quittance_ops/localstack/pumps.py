"""One pump per SQS event source, as Lambda's event source mapping behaves: long-poll, hand the
function a batch of at most BatchSize records, delete only the records it did not report in
``batchItemFailures``; leave the rest to the queue's visibility timeout and redrive policy."""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

from quittance_ops.localstack.runtime import LocalFunction

log = logging.getLogger("quittance.local.pumps")


class QueuePump:
    def __init__(
        self,
        *,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        function: LocalFunction,
        batch_size: int,
        report_failures: bool,
        region: str,
        wait_seconds: int = 1,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.function = function
        self.batch_size = batch_size
        self.report_failures = report_failures
        self.region = region
        self.wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._busy = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"pump-{function.name}", daemon=True)
        self.delivered = 0
        self.failed_records = 0

    @property
    def busy(self) -> bool:
        return self._busy.is_set()

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the pump to stop after its current poll, without waiting for it."""
        self._stop.set()

    def stop(self) -> None:
        self.request_stop()
        if self._thread.is_alive():
            self._thread.join(timeout=self.wait_seconds + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # a pump must outlive any one bad batch
                log.exception("pump for %s failed a poll", self.function.name)
                self._stop.wait(0.5)

    def poll_once(self) -> int:
        # Lambda reads at most 10 messages per ReceiveMessage call.
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        self._busy.set()
        try:
            return self._deliver(messages)
        finally:
            self._busy.clear()

    def _deliver(self, messages: list[dict[str, Any]]) -> int:
        event = {"Records": [self._record(m) for m in messages]}
        try:
            result = self.function.invoke(event)
        except Exception:
            log.exception("%s raised; the batch returns to the queue", self.function.name)
            self.failed_records += len(messages)
            return 0
        failed: set[str] = set()
        if self.report_failures and isinstance(result, dict):
            failed = {
                str(item.get("itemIdentifier")) for item in result.get("batchItemFailures") or []
            }
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        self.delivered += len(done)
        self.failed_records += len(failed)
        return len(done)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        }
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": attributes,
            "md5OfBody": message.get("MD5OfBody")
            or hashlib.md5(message["Body"].encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
