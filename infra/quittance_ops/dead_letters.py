"""The stack's dead-letter queues over the real SQS API: each one with its source queue and
counts, a peek that prints nothing personal, and the redrive.

Redrive is at-least-once, never at-most-once. Each message is received from the DLQ, sent to
its source queue with the same body and message attributes, and deleted from the DLQ only
once SQS has accepted that copy; a message whose send fails stays in the DLQ and is reported.
A crash (or a refused delete) between the send and the delete leaves the message in both
queues, so it is delivered twice; the consumers are idempotent on what makes their effect
unique (docs/ledger.md §7) and absorb the duplicate. A redriven message that fails again is
a new message of the source queue: after the source's ``maxReceiveCount`` receives its own
redrive policy puts it back in the DLQ. Nothing is dropped.

AWS also moves messages server-side with ``StartMessageMoveTask``
(``aws sqs start-message-move-task --source-arn <DLQ ARN>``), the better tool for a DLQ of
very many messages; moto does not implement it, so this module uses the receive / send /
delete path, which behaves the same locally and on AWS. Standard queues only (ours): a FIFO
queue would need each message's group and deduplication ids carried over.

No personal data reaches the terminal: ``show`` prints a message's ids, counts and dates and
an allow-list of non-personal body fields (``SHOWN_FIELDS``), never the body itself."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from quittance.privacy.redaction import mask_text

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        MessageAttributeValueTypeDef,
        MessageTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )

# A long poll (any wait > 0) asks every SQS server; a short poll samples some of them and can
# answer "empty" while messages remain, which would end a redrive or a peek too early.
WAIT_SECONDS = 1
# How long a peeked message stays hidden if this process dies before making it visible again.
PEEK_HOLD_SECONDS = 30
# How long a message being redriven stays hidden: long enough for its send and delete. If the
# run dies in between, the message reappears in the DLQ after this and is redriven again.
REDRIVE_HOLD_SECONDS = 120
# SendMessageBatch refuses a batch whose messages together exceed the queue's limit (256 KiB
# on older queues); a received batch is split so that each send stays well under it.
SEND_BATCH_BYTES = 200_000
BATCH = 10  # SQS's most messages per receive and per batch call

# Body fields that name a message without naming a person: ids, numbers, kinds. Anything
# else in a body (the customer's name, email, phone, address…) is never printed.
SHOWN_FIELDS = (
    "correlation_id",
    "kind",
    "change_id",
    "receipt_number",
    "original_receipt_number",
    "invoice_number",
    "event.event_id",
    "event.provider",
    "event.type",
    "event.invoice_number",
    "today",
)
# SES events reach EmailEventsQueue wrapped in an SNS notification whose Message is the event
# (which names the recipients: only these fields of it are shown).
SHOWN_SES_FIELDS = ("eventType", "notificationType", "mail.messageId")
# Message attributes worth showing: our correlation id, and the error code that Lambda
# (ErrorCode) and EventBridge Scheduler (ERROR_CODE) attach to what they dead-letter. Their
# error *messages* may quote an input, so they are left out.
SHOWN_ATTRIBUTES = ("correlation_id", "ErrorCode", "ERROR_CODE", "RETRY_ATTEMPTS")
SHOWN_VALUE_CHARS = 80

NO_SOURCE_HINTS = {
    "RemindersDLQ": (
        "its messages are failed deliveries of the daily reminders run (EventBridge Scheduler"
        " and the function's async retries), not queue messages: the next daily run catches"
        " up, or replay a day with `quittance local remind --today YYYY-MM-DD` (local) or by"
        ' invoking RemindersFunction with {"today": "YYYY-MM-DD"} (AWS)'
    ),
}


class SourceQueue(NamedTuple):
    name: str  # logical id when the queue is the stack's, else its SQS name
    url: str


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str  # logical id in template.yaml, e.g. PaymentEventsDLQ
    url: str
    sources: tuple[SourceQueue, ...] = ()
    """Queues whose RedrivePolicy targets this one (ours: one, or none for RemindersDLQ)."""

    @property
    def alias(self) -> str:
        """``PaymentEventsDLQ`` → ``payment-events``."""
        stem = self.name.removesuffix("DLQ")
        return re.sub(r"(?<!^)(?=[A-Z])", "-", stem).lower()

    @property
    def source(self) -> SourceQueue | None:
        """The one queue to send messages back to, or None when there is no single one."""
        return self.sources[0] if len(self.sources) == 1 else None

    def why_not_redrivable(self) -> str | None:
        if len(self.sources) == 1:
            return None
        if not self.sources:
            hint = NO_SOURCE_HINTS.get(self.name, "nothing sends messages back to it")
            return f"{self.name} has no source queue (no RedrivePolicy targets it): {hint}"
        names = ", ".join(s.name for s in self.sources)
        return (
            f"{self.name} is the DLQ of {len(self.sources)} queues ({names}): which one a "
            "message came from is not known, so it is not redriven"
        )


class UnknownQueue(ValueError):
    def __init__(self, wanted: str, queues: Sequence[DeadLetterQueue]) -> None:
        valid = ", ".join(f"{q.name} ({q.alias})" for q in queues) or "none"
        super().__init__(f"no dead-letter queue {wanted!r}; the stack's are: {valid}")


class NotRedrivable(ValueError):
    """A DLQ without exactly one source queue."""


@dataclass(frozen=True)
class Counts:
    visible: int
    in_flight: int


@dataclass(frozen=True)
class Received:
    """One message as ReceiveMessage gave it."""

    message_id: str
    receipt_handle: str
    body: str
    attributes: Mapping[str, str]
    message_attributes: Mapping[str, Any]

    @classmethod
    def of(cls, message: MessageTypeDef) -> Received:
        return cls(
            message_id=message["MessageId"],
            receipt_handle=message["ReceiptHandle"],
            body=message.get("Body", ""),
            attributes={str(k): v for k, v in message.get("Attributes", {}).items()},
            message_attributes=dict(message.get("MessageAttributes", {})),
        )

    def resend_attributes(self) -> dict[str, MessageAttributeValueTypeDef]:
        """The message attributes as SendMessage takes them: each value's type and value
        (ReceiveMessage may add empty list fields that sending does not accept)."""
        kept: dict[str, MessageAttributeValueTypeDef] = {}
        for name, value in self.message_attributes.items():
            attribute: MessageAttributeValueTypeDef = {"DataType": value["DataType"]}
            if "StringValue" in value:
                attribute["StringValue"] = value["StringValue"]
            if "BinaryValue" in value:
                attribute["BinaryValue"] = value["BinaryValue"]
            kept[name] = attribute
        return kept

    @property
    def size(self) -> int:
        attributes = sum(
            len(name) + len(str(v.get("StringValue", v.get("BinaryValue", ""))))
            for name, v in self.message_attributes.items()
        )
        return len(self.body.encode()) + attributes


@dataclass(frozen=True)
class Peeked:
    message_id: str
    receive_count: int
    sent_at: str | None
    first_received_at: str | None
    summary: dict[str, str]

    @classmethod
    def of(cls, message: Received) -> Peeked:
        return cls(
            message_id=message.message_id,
            receive_count=int(message.attributes.get("ApproximateReceiveCount", 0)),
            sent_at=_timestamp(message.attributes.get("SentTimestamp")),
            first_received_at=_timestamp(
                message.attributes.get("ApproximateFirstReceiveTimestamp")
            ),
            summary=summarize(message.body, message.message_attributes),
        )


@dataclass(frozen=True)
class PeekResult:
    messages: list[Peeked]
    still_hidden: int
    """Peeked messages that could not be made visible again at once (they come back when
    their PEEK_HOLD_SECONDS end)."""


@dataclass
class RedriveReport:
    queue: str
    source: str
    moved_ids: set[str] = field(default_factory=set)
    """Sent to the source queue and deleted from the DLQ."""
    failed_to_send: dict[str, str] = field(default_factory=dict)
    """Message id → SQS's error code; each of these is still in the DLQ."""
    sent_not_deleted: dict[str, str] = field(default_factory=dict)
    """Message id → error code of the refused delete: the copy is in the source queue and
    the original still in the DLQ, so it will be delivered twice (consumers are idempotent)."""
    left: int | None = None
    """Messages in the DLQ after the run (visible and in flight, as SQS approximates)."""
    still_hidden: int = 0
    error: str | None = None
    """Why the run stopped early (SQS refused a receive), if it did."""

    @property
    def moved(self) -> int:
        return len(self.moved_ids)

    @property
    def ok(self) -> bool:
        return not self.failed_to_send and not self.sent_not_deleted and self.error is None

    def as_json(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "source": self.source,
            "moved": self.moved,
            "failed_to_send": self.failed_to_send,
            "sent_not_deleted": self.sent_not_deleted,
            "left": self.left,
            "error": self.error,
        }


def _timestamp(millis: str | None) -> str | None:
    if not millis:
        return None
    return datetime.fromtimestamp(int(millis) / 1000, tz=UTC).isoformat(timespec="seconds")


def _pick(document: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document


def _shown(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None  # an object or a list is not an identifier: not shown
    # mask_text as a second guard: an allowed field that holds an email is still masked.
    return mask_text(str(value))[:SHOWN_VALUE_CHARS]


def summarize(body: str, message_attributes: Mapping[str, Any]) -> dict[str, str]:
    """The allow-listed, non-personal fields of a message: never its body as a whole."""
    summary: dict[str, str] = {}
    for name in SHOWN_ATTRIBUTES:
        value = _shown((message_attributes.get(name) or {}).get("StringValue"))
        if value is not None:
            summary[f"attr.{name}"] = value
    try:
        document = json.loads(body)
    except ValueError:
        summary["body"] = f"not JSON ({len(body.encode())} bytes)"
        return summary
    for path in SHOWN_FIELDS:
        value = _shown(_pick(document, path))
        if value is not None:
            summary.setdefault(path, value)
    if summary.get("attr.correlation_id") == summary.get("correlation_id"):
        summary.pop("attr.correlation_id", None)  # the same id twice says nothing more
    if isinstance(document, dict) and isinstance(document.get("Message"), str):
        try:
            inner = json.loads(document["Message"])
        except ValueError:
            inner = None
        for path in SHOWN_SES_FIELDS:
            value = _shown(_pick(inner, path))
            if value is not None:
                summary[f"ses.{path}"] = value
    return summary


def _chunks(
    messages: Sequence[Received], limit: int = SEND_BATCH_BYTES
) -> Iterator[list[Received]]:
    """Consecutive runs of at most BATCH messages and ``limit`` bytes (a bigger message alone)."""
    chunk: list[Received] = []
    size = 0
    for message in messages:
        if chunk and (len(chunk) == BATCH or size + message.size > limit):
            yield chunk
            chunk, size = [], 0
        chunk.append(message)
        size += message.size
    if chunk:
        yield chunk


def aws_error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


class DeadLetters:
    """The SQS side of ``quittance dlq``, on an injected SQS client."""

    def __init__(
        self,
        sqs: SQSClient,
        queues: Sequence[DeadLetterQueue],
        *,
        wait_seconds: int = WAIT_SECONDS,
    ) -> None:
        self.sqs = sqs
        self.queues = list(queues)
        self.wait_seconds = wait_seconds

    def select(self, wanted: str | None) -> list[DeadLetterQueue]:
        """Every DLQ, or the one named by logical id or alias (case-insensitive)."""
        if wanted is None:
            return list(self.queues)
        key = wanted.strip().lower()
        for queue in self.queues:
            if key in {queue.name.lower(), queue.alias}:
                return [queue]
        raise UnknownQueue(wanted, self.queues)

    def counts(self, queue: DeadLetterQueue) -> Counts:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return Counts(
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        )

    def _receive(self, url: str, most: int, hold_seconds: int) -> list[Received]:
        answer = self.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=max(1, min(BATCH, most)),
            VisibilityTimeout=hold_seconds,
            WaitTimeSeconds=self.wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return [Received.of(m) for m in answer.get("Messages", [])]

    def _make_visible(self, url: str, handles: Sequence[str]) -> int:
        """Make received messages visible again at once; returns how many SQS refused (those
        come back on their own when their visibility timeout ends: nothing is lost)."""
        refused = 0
        for start in range(0, len(handles), BATCH):
            batch = handles[start : start + BATCH]
            try:
                answer = self.sqs.change_message_visibility_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                        for i, handle in enumerate(batch)
                    ],
                )
            except (ClientError, BotoCoreError):
                # Counted and reported: these stay hidden until their timeout ends, no more.
                refused += len(batch)
                continue
            refused += len(answer.get("Failed", []))
        return refused

    def peek(self, queue: DeadLetterQueue, limit: int) -> PeekResult:
        """Up to ``limit`` messages of ``queue``, left in it.

        Not a receive with VisibilityTimeout=0: such a message is visible again at once, so
        the next receive of the same pass can return it again, and a pass over more than ten
        messages would keep seeing the same ones and never reach the rest. Each message is
        held for PEEK_HOLD_SECONDS instead, so that successive receives walk through distinct
        messages, and all are made visible again at once (ChangeMessageVisibility 0) at the
        end; if this process dies first, they come back by themselves when the hold ends.
        Each peek adds one to a message's ApproximateReceiveCount, which is harmless: a DLQ
        has no redrive policy of its own."""
        held: dict[str, Received] = {}
        try:
            while len(held) < limit:
                batch = self._receive(queue.url, limit - len(held), PEEK_HOLD_SECONDS)
                fresh = [m for m in batch if m.message_id not in held]
                # A message seen again (standard queues may repeat one) is kept with its
                # newest receipt handle, the one that can make it visible again.
                held.update({m.message_id: m for m in batch})
                if not fresh:
                    break
        finally:
            still_hidden = self._make_visible(queue.url, [m.receipt_handle for m in held.values()])
        return PeekResult([Peeked.of(m) for m in held.values()][:limit], still_hidden)

    def redrive(self, queue: DeadLetterQueue, max_messages: int | None = None) -> RedriveReport:
        """Move ``queue``'s messages (at most ``max_messages``) back to its source queue: send
        first, delete from the DLQ only what the send accepted (see the module docstring)."""
        source = queue.source
        if source is None:
            raise NotRedrivable(queue.why_not_redrivable())
        run = _RedriveRun(self.sqs, queue, source, RedriveReport(queue.name, source.name))
        try:
            while max_messages is None or run.attempted < max_messages:
                most = BATCH if max_messages is None else max_messages - run.attempted
                batch = self._receive(queue.url, most, REDRIVE_HOLD_SECONDS)
                fresh = run.sort_out(batch)
                if not fresh or not run.move(fresh):
                    break
        except (ClientError, BotoCoreError) as exc:
            # A receive failed (sends and deletes report their own failures): this queue
            # stops, with what is done so far reported and nothing received left hidden.
            run.report.error = aws_error_code(exc)
        run.report.still_hidden = self._make_visible(
            queue.url, [m.receipt_handle for m in run.held.values()]
        )
        try:
            counts = self.counts(queue)
            run.report.left = counts.visible + counts.in_flight
        except (ClientError, BotoCoreError) as exc:
            run.report.error = run.report.error or aws_error_code(exc)  # left stays unknown
        return run.report


@dataclass
class _RedriveRun:
    """One DLQ's redrive: what was sent, and what is held but stays in the DLQ."""

    sqs: SQSClient
    queue: DeadLetterQueue
    source: SourceQueue
    report: RedriveReport
    sent: set[str] = field(default_factory=set)
    held: dict[str, Received] = field(default_factory=dict)
    """Received, not sent (refused, or never tried once the run stopped): made visible again
    at the end, under their newest receipt handle."""

    @property
    def attempted(self) -> int:
        return len(self.sent) + len(self.report.failed_to_send)

    def sort_out(self, batch: Sequence[Received]) -> list[Received]:
        """The messages of ``batch`` not seen yet in this run. One seen again (a standard
        queue may repeat one, and a held one reappears once its hold ends) is not sent a
        second time; if its copy was sent, it is deleted, as it should have been."""
        fresh, sent_before = [], []
        for message in batch:
            if message.message_id in self.sent:
                sent_before.append(message)
            elif message.message_id in self.held:
                self.held[message.message_id] = message
            else:
                fresh.append(message)
        self.delete(sent_before)
        return fresh

    def move(self, messages: Sequence[Received]) -> bool:
        """Send ``messages`` to the source, delete what it accepted; False to stop the run."""
        chunks = list(_chunks(messages))
        for done, chunk in enumerate(chunks):
            entries: list[SendMessageBatchRequestEntryTypeDef] = []
            for i, message in enumerate(chunk):
                entry: SendMessageBatchRequestEntryTypeDef = {
                    "Id": str(i),
                    "MessageBody": message.body,
                }
                if message.message_attributes:
                    entry["MessageAttributes"] = message.resend_attributes()
                entries.append(entry)
            try:
                answer = self.sqs.send_message_batch(QueueUrl=self.source.url, Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                # The whole call was refused (access, a missing queue, a batch too big): the
                # source would refuse the rest alike, so the run stops here; this chunk is
                # reported, and nothing received stays deleted or hidden.
                for message in chunk:
                    self.report.failed_to_send[message.message_id] = aws_error_code(exc)
                for message in (m for rest in chunks[done:] for m in rest):
                    self.held[message.message_id] = message
                return False
            for failure in answer.get("Failed", []):
                message = chunk[int(failure["Id"])]
                self.report.failed_to_send[message.message_id] = failure.get("Code", "Failed")
                self.held[message.message_id] = message
            accepted = [chunk[int(s["Id"])] for s in answer.get("Successful", [])]
            answered = {s["Id"] for s in answer.get("Successful", [])}
            answered |= {f["Id"] for f in answer.get("Failed", [])}
            for i, message in enumerate(chunk):
                if str(i) not in answered:  # SQS names every entry; one it did not is unsent
                    self.report.failed_to_send[message.message_id] = "NoAnswer"
                    self.held[message.message_id] = message
            self.sent.update(m.message_id for m in accepted)
            self.delete(accepted)
        return True

    def delete(self, messages: Sequence[Received]) -> None:
        """Delete from the DLQ messages whose copy the source accepted."""
        if not messages:
            return
        try:
            answer = self.sqs.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m.receipt_handle}
                    for i, m in enumerate(messages)
                ],
            )
        except (ClientError, BotoCoreError) as exc:
            for message in messages:
                self.report.sent_not_deleted[message.message_id] = aws_error_code(exc)
            return
        for failure in answer.get("Failed", []):
            message = messages[int(failure["Id"])]
            self.report.sent_not_deleted[message.message_id] = failure.get("Code", "Failed")
        for success in answer.get("Successful", []):
            message = messages[int(success["Id"])]
            # A repeat whose earlier delete was refused is deleted at last: moved, no duplicate.
            self.report.sent_not_deleted.pop(message.message_id, None)
            self.report.moved_ids.add(message.message_id)


# ------------------------------------------------------------------------- finding the DLQs
def source_queues(sqs: SQSClient, dlq_url: str) -> tuple[str, ...]:
    """URLs of the queues whose RedrivePolicy targets ``dlq_url``, as SQS knows them."""
    urls: list[str] = []
    for page in sqs.get_paginator("list_dead_letter_source_queues").paginate(QueueUrl=dlq_url):
        urls.extend(page.get("queueUrls", []))
    return tuple(urls)


def describe_dead_letters(sqs: SQSClient, queues: Mapping[str, str]) -> list[DeadLetterQueue]:
    """The DLQs among ``queues`` (logical id → queue URL), each with its source queues."""
    logical_by_name = {
        url.rstrip("/").rsplit("/", 1)[-1]: logical for logical, url in queues.items()
    }
    found = []
    for logical, url in queues.items():
        if not logical.endswith("DLQ"):
            continue
        sources = []
        for source_url in source_queues(sqs, url):
            name = source_url.rstrip("/").rsplit("/", 1)[-1]
            sources.append(SourceQueue(logical_by_name.get(name, name), source_url))
        found.append(DeadLetterQueue(logical, url, tuple(sources)))
    return found
