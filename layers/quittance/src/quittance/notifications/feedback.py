"""What SES tells us after a send: record it on the message log, stop emailing an address that
hard-bounced or complained, and carry a message that never arrived to the customer by SMS.

SES publishes each event of the configuration set to an SNS topic, which delivers it to a queue
as an SNS notification whose ``Message`` is the SES event JSON (``eventType``; ``notificationType``
when it comes from identity feedback instead). Addresses in these events are compared in memory
and never stored or logged: the log holds statuses and SES's own codes only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from quittance.errors import QuittanceError
from quittance.models.customer import CustomerProfile
from quittance.models.messages import NotificationJob, parse_notification_job
from quittance.notifications.tags import MessageRef, TagInvalid, message_ref

EMAIL = "email"
SMS = "sms"

DeliveryStatus = Literal[
    "delayed", "delivered", "soft_bounced", "rejected", "bounced", "complained"
]
# A report replaces only a weaker one: a late "delivered" (or a retried "delayed") never hides a
# bounce or a complaint, while a bounce that a remote server sends after accepting the message
# does replace "delivered".
STRENGTH: dict[str, int] = {
    "delayed": 1,
    "delivered": 2,
    "soft_bounced": 3,
    "rejected": 3,
    "bounced": 4,
    "complained": 4,
}


class EmailEventInvalid(QuittanceError):
    """An SNS message that is not an SES event we can read; nothing was changed."""

    code = "email_event_invalid"


# ---------------------------------------------------------------- the SES event, as published


class _SesModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class SesRecipient(_SesModel):
    emailAddress: str


class SesBounce(_SesModel):
    bounceType: Literal["Permanent", "Transient", "Undetermined"]
    bounceSubType: str
    bouncedRecipients: list[SesRecipient] = Field(min_length=1)
    timestamp: AwareDatetime


class SesComplaint(_SesModel):
    complainedRecipients: list[SesRecipient] = Field(min_length=1)
    timestamp: AwareDatetime
    complaintFeedbackType: str | None = None


class SesDelivery(_SesModel):
    timestamp: AwareDatetime
    recipients: list[str]


class SesDeliveryDelay(_SesModel):
    timestamp: AwareDatetime
    delayType: str


class SesReject(_SesModel):
    reason: str


class SesMail(_SesModel):
    timestamp: AwareDatetime
    messageId: str = Field(min_length=1)
    destination: list[str]
    tags: dict[str, list[str]] = Field(default_factory=dict)


class SesEvent(_SesModel):
    eventType: Literal["Bounce", "Complaint", "Delivery", "Reject", "DeliveryDelay"] = Field(
        validation_alias=AliasChoices("eventType", "notificationType")
    )
    mail: SesMail
    bounce: SesBounce | None = None
    complaint: SesComplaint | None = None
    delivery: SesDelivery | None = None
    deliveryDelay: SesDeliveryDelay | None = None
    reject: SesReject | None = None

    @model_validator(mode="after")
    def _detail_of_its_type(self) -> SesEvent:
        field = self.eventType[0].lower() + self.eventType[1:]
        if getattr(self, field) is None:
            raise ValueError(f"a {self.eventType} event without its {field!r} object")
        return self


class SnsNotification(BaseModel):
    """The envelope SNS puts around a message it delivers to an SQS queue."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    Type: Literal["Notification"]
    MessageId: str
    TopicArn: str
    Message: str


def parse_sns_delivery(body: str) -> tuple[SnsNotification, SesEvent]:
    """The SNS envelope and the SES event inside it, or EmailEventInvalid. The error names the
    fields at fault and never quotes the input (it holds addresses)."""
    try:
        envelope = SnsNotification.model_validate_json(body)
        event = SesEvent.model_validate_json(envelope.Message)
    except ValidationError as exc:
        faults = sorted(
            {f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['type']}" for e in exc.errors()}
        )
        raise EmailEventInvalid(f"{exc.title}: {'; '.join(faults)}") from None
    return envelope, event


# ---------------------------------------------------------------- what the event means


@dataclass(frozen=True)
class Reading:
    status: DeliveryStatus
    at: datetime
    detail: str | None
    """SES's own code (bounce subtype, complaint feedback type, delay type): never an address."""
    suppress: Literal["hard_bounce", "complaint"] | None
    recipients: frozenset[str]
    """Casefolded addresses the event is about; compared, never kept."""


def read_event(event: SesEvent) -> Reading:
    if event.bounce is not None:
        bounce = event.bounce
        permanent = bounce.bounceType == "Permanent"
        return Reading(
            status="bounced" if permanent else "soft_bounced",
            at=bounce.timestamp,
            detail=f"{bounce.bounceType}:{bounce.bounceSubType}",
            suppress="hard_bounce" if permanent else None,
            recipients=frozenset(r.emailAddress.casefold() for r in bounce.bouncedRecipients),
        )
    if event.complaint is not None:
        complaint = event.complaint
        return Reading(
            status="complained",
            at=complaint.timestamp,
            detail=complaint.complaintFeedbackType,
            suppress="complaint",
            recipients=frozenset(r.emailAddress.casefold() for r in complaint.complainedRecipients),
        )
    if event.delivery is not None:
        return Reading("delivered", event.delivery.timestamp, None, None, frozenset())
    if event.deliveryDelay is not None:
        delay = event.deliveryDelay
        return Reading("delayed", delay.timestamp, delay.delayType, None, frozenset())
    assert event.reject is not None  # the model requires the object of its type
    return Reading("rejected", event.mail.timestamp, event.reject.reason, None, frozenset())


# ---------------------------------------------------------------- ports


class MessageLog(Protocol):
    def message(
        self, invoice_number: str, change_id: str, channel: str
    ) -> dict[str, Any] | None: ...

    def message_sent(self, invoice_number: str, change_id: str, channel: str) -> bool: ...

    def record_delivery(
        self,
        invoice_number: str,
        change_id: str,
        channel: str,
        *,
        status: str,
        provider_message_id: str,
        at: datetime,
        detail: str | None,
        replaceable: Any,
    ) -> Literal["recorded", "kept", "unknown"]: ...


class Customers(Protocol):
    def profile(self, customer_id: str) -> CustomerProfile | None: ...

    def suppress_email(self, customer_id: str, reason: str, at: datetime) -> bool: ...


class SmsFallback(Protocol):
    def queue_sms(self, job: NotificationJob) -> bool:
        """Queue ``job`` once per (invoice, change); False when it was queued before."""
        ...


@dataclass(frozen=True)
class FeedbackOutcome:
    event_type: str
    status: DeliveryStatus
    log: Literal["recorded", "kept", "unknown", "untracked"]
    """"untracked": the email carries none of our tags (not sent by notify)."""
    suppressed: bool = False
    sms: str = "not_needed"
    """queued, already_queued, or why not: no_phone, no_job, sms_already_sent, address_changed,
    no_customer, not_needed."""


def apply_email_event(
    event: SesEvent,
    *,
    log: MessageLog,
    customers: Customers,
    fallback: SmsFallback,
) -> FeedbackOutcome:
    """Record the event on its message log entry; on a permanent bounce or a complaint about
    the customer's current address, suppress that address; on a permanent bounce, send the
    same message again by SMS when the customer has a number and it did not go by SMS yet.

    A complaint does not trigger the SMS: the customer received the email (and objected to
    it), so the same news again on their phone would be a second copy, not a rescue. Their
    next messages go by SMS because the address is suppressed."""
    reading = read_event(event)
    try:
        ref = message_ref(event.mail.tags)
    except TagInvalid as exc:
        raise EmailEventInvalid(f"mail.tags: {exc}") from None
    if ref is None:
        return FeedbackOutcome(event.eventType, reading.status, "untracked")
    logged = log.record_delivery(
        ref.invoice_number,
        ref.change_id,
        EMAIL,
        status=reading.status,
        provider_message_id=event.mail.messageId,
        at=reading.at,
        detail=reading.detail,
        replaceable={s for s, rank in STRENGTH.items() if rank < STRENGTH[reading.status]},
    )
    if reading.suppress is None:
        return FeedbackOutcome(event.eventType, reading.status, logged)
    profile = customers.profile(ref.customer_id)
    if profile is None:
        return FeedbackOutcome(event.eventType, reading.status, logged, sms="no_customer")
    email = (profile.email or "").casefold()
    if not email or email not in reading.recipients:
        # The customer gave another address since this message left; that one is fine.
        return FeedbackOutcome(event.eventType, reading.status, logged, sms="address_changed")
    suppressed = customers.suppress_email(ref.customer_id, reading.suppress, reading.at)
    if reading.suppress != "hard_bounce":
        return FeedbackOutcome(event.eventType, reading.status, logged, suppressed)
    return FeedbackOutcome(
        event.eventType,
        reading.status,
        logged,
        suppressed,
        sms=_fall_back_to_sms(ref, profile, event.mail.messageId, log, fallback),
    )


def _fall_back_to_sms(
    ref: MessageRef,
    profile: CustomerProfile,
    provider_message_id: str,
    log: MessageLog,
    fallback: SmsFallback,
) -> str:
    if not profile.phone:
        return "no_phone"
    if log.message_sent(ref.invoice_number, ref.change_id, SMS):
        return "sms_already_sent"
    entry = log.message(ref.invoice_number, ref.change_id, EMAIL) or {}
    if entry.get("provider_message_id") != provider_message_id or not entry.get("job"):
        return "no_job"
    original = parse_notification_job(entry["job"])
    again = original.model_copy(update={"channels": (SMS,)})
    return "queued" if fallback.queue_sms(again) else "already_queued"
