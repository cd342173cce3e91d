"""Tell the customer about a ledger change on their channel, and log that it was sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Literal, Protocol

from quittance.links.tokens import LinkSigner
from quittance.links.urls import receipt_link
from quittance.models.messages import NotificationJob
from quittance.notifications.confirmation import Sender, compose_payment_confirmation

NOTIFICATION_LOG_RETENTION = timedelta(days=396)  # about 13 months


class Profiles(Protocol):
    def profile(self, customer_id: str) -> dict[str, Any] | None: ...


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str: ...


class MessageLog(Protocol):
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
    status: Literal["sent", "skipped"]
    provider_message_id: str | None
    reason: str | None = None


def notify_payment_confirmed(
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
) -> Delivery:
    profile = profiles.profile(job.customer_id) or {}
    email = profile.get("email")
    expires = now + NOTIFICATION_LOG_RETENTION
    if not email:
        log.record_message(
            job.invoice_number,
            job.change_id,
            "email",
            {"kind": job.kind, "status": "skipped", "reason": "no_email", "at": now.isoformat()},
            expires,
        )
        return Delivery("email", "skipped", None, reason="no_email")
    locale = str(profile.get("locale") or "fr")
    message = compose_payment_confirmation(
        sender=sender,
        to_email=email,
        to_name=profile.get("name"),
        locale=locale,
        tone="formal" if profile.get("segment") == "b2b" else "warm",
        receipt_number=job.receipt_number,
        invoice_number=job.invoice_number,
        amount=job.amount,
        paid_at=job.paid_at,
        timezone=str(profile.get("timezone") or "Europe/Paris"),
        receipt_url=receipt_link(public_base_url, signer, job.receipt_number, now + link_ttl),
        seller_name=seller.name,
        seller_email=seller.email,
        seller_phone=seller.phone,
        message_id_domain=sender.email.rpartition("@")[2],
    )
    message_id = mailer.send(message)
    log.record_message(
        job.invoice_number,
        job.change_id,
        "email",
        {
            "kind": job.kind,
            "status": "sent",
            "provider_message_id": message_id,
            "receipt_number": job.receipt_number,
            "at": now.isoformat(),
        },
        expires,
    )
    return Delivery("email", "sent", message_id)
