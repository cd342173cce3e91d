"""Messages between functions (one queue each). Versioned so that producers and consumers can
be deployed one after the other; contract tests pin their shape."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from quittance.models.events import FailureCategory, PaymentEvent, PaymentMethod, UtcDateTime
from quittance.models.money import Money


class PaymentEventMessage(BaseModel):
    """intake → ledger, on the payment-events queue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    correlation_id: str
    received_at: UtcDateTime
    event: PaymentEvent


class ReceiptJob(BaseModel):
    """ledger → receipts, on the receipt-jobs queue: render and archive one numbered document
    (a receipt, or a credit note for a refund)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    correlation_id: str
    kind: Literal["receipt", "credit_note"] = "receipt"
    receipt_number: str
    original_receipt_number: str | None = None
    refund_id: str | None = None
    anomaly: str | None = None
    """The anomaly this payment raised (partial_payment, overpayment, …), if any."""
    invoice_number: str
    payment_id: str
    customer_id: str
    paid_at: UtcDateTime
    issued_at: UtcDateTime
    amount: Money
    method: PaymentMethod
    invoice_status: str
    balance_due: Money
    next_steps: str | None = None


JobTime = Literal["paid_at", "refunded_at", "failed_at", "queued_at"]


class _NotificationJobBase(BaseModel):
    """What every notification job carries: receipts (or ledger, or reminders) → notify, on
    the notifications queue: tell the customer once.

    Version 2 gives each kind its own shape (the classes below, one per ``kind``).
    Version 1 jobs, one flat shape whose ``paid_at`` also meant failed-at, refunded-at and
    queued-at, are upgraded on parsing (``_upgrade_v1``): a job already in flight when
    version 2 is deployed, or logged for an SMS fallback, still reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    _time_field: ClassVar[JobTime] = "paid_at"
    """Where a version 1 job's ``paid_at`` goes in this kind."""
    _renamed_v1: ClassVar[Mapping[str, str]] = {}
    """Other version 1 fields this kind names differently."""
    _dropped_v1: ClassVar[frozenset[str]] = frozenset()
    """Version 1 fields this kind had filled in but never used."""

    schema_version: Literal[1, 2] = 2
    correlation_id: str
    # Overrides the profile's preference (e.g. SMS fallback after a hard bounce).
    channels: tuple[Literal["email", "sms"], ...] | None = None
    change_id: str = Field(description="The ledger change this message is about; unique per send")
    customer_id: str
    invoice_number: str
    amount: Money

    @property
    def document_number(self) -> str | None:
        """The document the message links to (a receipt, a credit note), if any."""
        return None

    @model_validator(mode="before")
    @classmethod
    def _upgrade_v1(cls, data: Any) -> Any:
        # Only an explicit version 1 is upgraded: every version 1 job on the wire carries
        # its schema_version (pydantic serialises defaults), a new job need not.
        if not isinstance(data, Mapping) or data.get("schema_version") != 1:
            return data
        renamed: dict[str, str] = {"paid_at": cls._time_field, **cls._renamed_v1}
        upgraded: dict[str, Any] = {"schema_version": 2}
        for v1_name, value in data.items():
            name = renamed.get(str(v1_name), str(v1_name))
            # Version 1 listed every kind's fields; those this kind has not are empty there.
            if name in cls._dropped_v1 or name == "schema_version":
                continue
            if name not in cls.model_fields and value is None:
                continue
            upgraded[name] = value
        return upgraded


class PaymentConfirmedJob(_NotificationJobBase):
    """An invoice settled: the confirmation with the receipt link."""

    kind: Literal["payment_confirmed"]
    receipt_number: str
    paid_at: UtcDateTime
    method: PaymentMethod | None = None
    """How it was paid, with its proof fields (None only in a version 1 job)."""

    @property
    def document_number(self) -> str | None:
        return self.receipt_number


class PartialPaymentJob(_NotificationJobBase):
    """Part of the invoice paid: the receipt of that part, the balance and how to pay it."""

    kind: Literal["partial_payment"]
    _renamed_v1: ClassVar[Mapping[str, str]] = {"difference": "balance_due"}
    # Version 1 named the anomaly again (always partial_payment).
    _dropped_v1: ClassVar[frozenset[str]] = frozenset({"anomaly"})

    receipt_number: str
    paid_at: UtcDateTime
    balance_due: Money | None = None
    """What is left to pay after this payment."""
    method: PaymentMethod | None = None

    @property
    def document_number(self) -> str | None:
        return self.receipt_number


class RefundIssuedJob(_NotificationJobBase):
    """Money given back: the credit note's link, where it goes and how long it takes.
    ``amount`` is the amount refunded."""

    kind: Literal["refund_issued"]
    _time_field: ClassVar[JobTime] = "refunded_at"
    # Version 1 copied the credit note job's anomaly field.
    _dropped_v1: ClassVar[frozenset[str]] = frozenset({"anomaly"})

    receipt_number: str
    """The credit note's number."""
    original_receipt_number: str | None = None
    """The receipt of the refunded payment, when there was one."""
    refunded_at: UtcDateTime
    method: PaymentMethod | None = None
    """The payment method refunded to (its kind sets the usual delay)."""

    @property
    def document_number(self) -> str | None:
        return self.receipt_number


class AnomalyNoticeJob(_NotificationJobBase):
    """A payment that did not simply settle its invoice (overpayment, a second payment,
    another currency, a cancelled invoice), with its receipt when it has one."""

    kind: Literal["anomaly_notice"]
    # Version 1 copied the receipt job's (a receipt's: none).
    _dropped_v1: ClassVar[frozenset[str]] = frozenset({"original_receipt_number"})

    receipt_number: str | None = None
    """None for an anomaly with no receipt (the ledger returns the money)."""
    paid_at: UtcDateTime
    anomaly: str
    """The anomaly kind (``ledger.state.AnomalyKind``)."""
    difference: Money | None = None
    """What is missing or in excess, for the kinds that state it."""
    invoice_currency: str | None = None
    """The invoice's currency, which a currency-mismatch notice names."""
    method: PaymentMethod | None = None

    @property
    def document_number(self) -> str | None:
        return self.receipt_number


class PaymentFailedJob(_NotificationJobBase):
    """An attempt that failed on an invoice still waiting for the money."""

    kind: Literal["payment_failed"]
    _time_field: ClassVar[JobTime] = "failed_at"

    failed_at: UtcDateTime
    failure: FailureCategory
    """Why the attempt failed, in the canonical categories."""
    payment_update_url: str | None = Field(default=None, pattern=r"^https://\S+$", max_length=2048)
    """Where the gateway lets the customer pay again or change the card (Stripe's hosted
    invoice page, a Checkout recovery link). A failed-payment message prefers it to the
    seller's static ``PaymentUpdateUrlTemplate``, which cannot know the gateway's page."""
    method: PaymentMethod | None = None
    """The method of the failed attempt, when the gateway said."""


class InvoiceReminderJob(_NotificationJobBase):
    """A reminder step of an unpaid invoice; ``amount`` is the balance due when it was
    queued (notify checks it again before sending)."""

    kind: Literal["invoice_reminder"]
    _time_field: ClassVar[JobTime] = "queued_at"

    queued_at: UtcDateTime
    due_date: date


NotificationJob = Annotated[
    PaymentConfirmedJob
    | PartialPaymentJob
    | RefundIssuedJob
    | AnomalyNoticeJob
    | PaymentFailedJob
    | InvoiceReminderJob,
    Field(discriminator="kind"),
]
"""One notification job, its shape chosen by its ``kind``."""

NotificationKind = Literal[
    "payment_confirmed",
    "partial_payment",
    "refund_issued",
    "anomaly_notice",
    "payment_failed",
    "invoice_reminder",
]

_NOTIFICATION_JOB: TypeAdapter[NotificationJob] = TypeAdapter(NotificationJob)


def parse_notification_job(raw: str | bytes | Mapping[str, Any]) -> NotificationJob:
    """A notification job from its JSON (the queue, the message log) or a mapping; a
    version 1 job is upgraded. Raises pydantic's ValidationError for anything else."""
    if isinstance(raw, str | bytes):
        return _NOTIFICATION_JOB.validate_json(raw)
    return _NOTIFICATION_JOB.validate_python(raw)
