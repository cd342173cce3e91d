"""Tell the customer about a ledger change on their channel, and log that it was sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Literal, Protocol

from quittance.ledger.state import AnomalyKind
from quittance.links.tokens import LinkSigner
from quittance.links.urls import receipt_link
from quittance.models.messages import NotificationJob
from quittance.notifications.confirmation import Sender, compose_payment_confirmation
from quittance.notifications.notices import compose_anomaly_notice, compose_refund_issued
from quittance.notifications.reminder import compose_invoice_reminder
from quittance.reminders import Standings, why_not_send

NOTIFICATION_LOG_RETENTION = timedelta(days=396)  # about 13 months


class Profiles(Protocol):
    def profile(self, customer_id: str) -> dict[str, Any] | None: ...


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str: ...


class MessageLog(Protocol):
    def message_sent(self, invoice_number: str, change_id: str, channel: str) -> bool: ...

    def record_message(
        self,
        invoice_number: str,
        change_id: str,
        channel: str,
        values: dict[str, Any],
        expires_at: datetime,
    ) -> None: ...


@dataclass(frozen=True)
class SellerContact:
    name: str
    email: str
    phone: str


@dataclass(frozen=True)
class Delivery:
    channel: Literal["email"]
    status: Literal["sent", "skipped", "failed"]
    provider_message_id: str | None
    reason: str | None = None


def notify_customer(
    job: NotificationJob,
    *,
    profiles: Profiles,
    mailer: Mailer,
    log: MessageLog,
    signer: LinkSigner,
    sender: Sender,
    seller: SellerContact,
    public_base_url: str,
    link_ttl: timedelta,
    now: datetime,
    invoices: Standings | None = None,
) -> Delivery:
    """Compose the message the job asks for, send it once, and log what happened (never the
    message itself: the log holds no personal data)."""
    if log.message_sent(job.invoice_number, job.change_id, "email"):
        # Sent before, whenever the job comes back (the idempotency window is not forever).
        return Delivery("email", "sent", None, reason="already_sent")
    profile = profiles.profile(job.customer_id) or {}
    email = profile.get("email")
    expires = now + NOTIFICATION_LOG_RETENTION
    base = {"kind": job.kind, "receipt_number": job.receipt_number, "at": now.isoformat()}
    if not email:
        log.record_message(
            job.invoice_number,
            job.change_id,
            "email",
            {**base, "status": "skipped", "reason": "no_email"},
            expires,
        )
        return Delivery("email", "skipped", None, reason="no_email")
    link = (
        receipt_link(public_base_url, signer, job.receipt_number, now + link_ttl)
        if job.receipt_number
        else None
    )
    try:
        message = _compose(
            job, profile=profile, email=email, link=link, sender=sender, seller=seller
        )
    except ValueError as refused:  # an address or a value no message can carry: not retried
        log.record_message(
            job.invoice_number,
            job.change_id,
            "email",
            {**base, "status": "failed", "reason": type(refused).__name__},
            expires,
        )
        return Delivery("email", "failed", None, reason=type(refused).__name__)
    if job.kind == "invoice_reminder":
        # A payment may have landed since the reminder was queued: look again, last thing.
        if invoices is None:
            raise ValueError("an invoice reminder needs the ledger to check the invoice")
        reason = why_not_send(job, invoices)
        if reason:
            log.record_message(
                job.invoice_number,
                job.change_id,
                "email",
                {**base, "status": "skipped", "reason": reason},
                expires,
            )
            return Delivery("email", "skipped", None, reason=reason)
    message_id = mailer.send(message)
    log.record_message(
        job.invoice_number,
        job.change_id,
        "email",
        {**base, "status": "sent", "provider_message_id": message_id},
        expires,
    )
    return Delivery("email", "sent", message_id)


def _compose(
    job: NotificationJob,
    *,
    profile: dict[str, Any],
    email: str,
    link: str | None,
    sender: Sender,
    seller: SellerContact,
) -> EmailMessage:
    timezone = str(profile.get("timezone") or "Europe/Paris")
    common: dict[str, Any] = {
        "sender": sender,
        "to_email": email,
        "to_name": profile.get("name"),
        "locale": str(profile.get("locale") or "fr"),
        "tone": "formal" if profile.get("segment") == "b2b" else "warm",
        "seller_name": seller.name,
        "seller_email": seller.email,
        "seller_phone": seller.phone,
        "message_id_domain": sender.email.rpartition("@")[2],
    }
    if job.kind == "payment_confirmed" and job.receipt_number and link:
        return compose_payment_confirmation(
            **common,
            receipt_number=job.receipt_number,
            invoice_number=job.invoice_number,
            amount=job.amount,
            paid_at=job.paid_at,
            timezone=timezone,
            receipt_url=link,
        )
    if job.kind == "refund_issued" and job.receipt_number and link:
        return compose_refund_issued(
            **common,
            credit_note_number=job.receipt_number,
            receipt_number=job.original_receipt_number,
            invoice_number=job.invoice_number,
            refunded=job.amount,
            refunded_at=job.paid_at,
            timezone=timezone,
            method_label=None,
            credit_note_url=link,
            survey_url=None,
        )
    if job.kind == "anomaly_notice" and job.anomaly:
        return compose_anomaly_notice(
            **common,
            kind=AnomalyKind(job.anomaly),
            invoice_number=job.invoice_number,
            amount=job.amount,
            difference=job.difference,
            paid_at=job.paid_at,
            timezone=timezone,
            receipt_url=link,
            invoice_currency=job.invoice_currency,
        )
    if job.kind == "invoice_reminder" and job.due_date:
        return compose_invoice_reminder(
            **common,
            invoice_number=job.invoice_number,
            amount_due=job.amount,
            due_date=job.due_date,
            sent_at=job.paid_at,
            timezone=timezone,
        )
    raise ValueError(f"a {job.kind} job without what its message needs")
