"""Tell the customer about a ledger change on their channels, and log what happened.

Channels come from the job when it names them (e.g. an SMS fallback after a hard bounce),
else from the profile's preference (email, sms or both). Each (ledger change, channel) is
sent at most once: the message log is read before a send and written after it, so a
redelivered job sends only what is still missing. The log holds no contact data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Literal, Protocol
from urllib.parse import quote

from quittance.errors import NotFound, SentNotLogged
from quittance.ledger.state import AnomalyKind, InvoiceStatus
from quittance.links.tokens import LinkSigner
from quittance.links.urls import receipt_link
from quittance.models.customer import Channel, CustomerProfile
from quittance.models.events import FailureCategory, MethodKind, PaymentMethod
from quittance.models.messages import (
    AnomalyNoticeJob,
    InvoiceReminderJob,
    NotificationJob,
    PartialPaymentJob,
    PaymentConfirmedJob,
    PaymentFailedJob,
    RefundIssuedJob,
)
from quittance.models.money import Money
from quittance.models.phone import InvalidPhoneNumber, to_e164
from quittance.notifications.anomaly import PaymentAnomaly, compose_anomaly_notice
from quittance.notifications.confirmation import PaymentConfirmed, compose_payment_confirmation
from quittance.notifications.email_kit import (
    BABEL_LOCALES,
    Attachment,
    Language,
    Letterhead,
    Recipient,
    SellerContact,
    Sender,
    business_days_text,
    language_of,
    single_line,
)
from quittance.notifications.extras import MarketingExtras
from quittance.notifications.payment_failed import FailedPayment, compose_payment_failed
from quittance.notifications.refund import (
    CARD_REFUND_DELAY_DAYS,
    SEPA_REFUND_DELAY_DAYS,
    RefundIssued,
    compose_refund_issued,
)
from quittance.notifications.reminder import DueInvoice, compose_invoice_reminder
from quittance.notifications.sms_messages import SmsFacts, sms_text
from quittance.notifications.unsubscribe import unsubscribe_url
from quittance.reminders import Standings, why_not_send
from quittance.seller.identity import SellerIdentity
from quittance.seller.profile import RefundDelays
from quittance.settings import NotifySettings

NOTIFICATION_LOG_RETENTION = timedelta(days=396)  # about 13 months

# Only the good news carries marketing: never a failure, a notice or a refund.
MARKETING_KINDS = frozenset({"payment_confirmed"})
# Invoices that count as a payment towards the loyalty threshold.
_PAID_STATUSES = frozenset(
    {InvoiceStatus.PAID, InvoiceStatus.OVERPAID, InvoiceStatus.PARTIALLY_REFUNDED}
)


class Profiles(Protocol):
    def profile(self, customer_id: str) -> CustomerProfile | None: ...


class Mailer(Protocol):
    def send(self, message: EmailMessage, tags: Mapping[str, str] | None = None) -> str: ...


class SmsSender(Protocol):
    def send(self, phone_number: str, text: str, *, sender_id: str | None = None) -> str:
        """``sender_id``: the seller's alphanumeric sender id; the stage's when None."""


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


class Documents(Protocol):
    """The ledger's receipt records and the customer's invoices (read only)."""

    def receipt_item(self, number: str, invoice_number: str | None = None) -> dict[str, Any]: ...

    def invoices_of_customer(self, customer_id: str) -> list[Any]: ...


class Archive(Protocol):
    def read(self, key: str, version_id: str) -> bytes: ...


@dataclass(frozen=True)
class MessageOptions:
    """Configuration of what messages offer beyond the facts (settings → here)."""

    payment_update_url_template: str | None = None
    """e.g. ``https://pay.example/update?invoice={invoice_number}``."""
    balance_payment_url_template: str | None = None
    refund_survey_url_template: str | None = None
    loyalty_promo_code: str | None = None
    loyalty_min_payments: int = 5
    offer_text: Mapping[str, str] = field(default_factory=dict)
    """Per language ("fr", "en")."""
    offer_url: str | None = None
    sms_brand: str = "Quittance"
    sms_sender_id: str | None = None
    """The seller profile's SMS sender id (``sms_sender``); the stage's when None."""
    refund_delays: RefundDelays | None = None
    """The seller's refund delays per payment method (its profile); quittance's if None."""
    attach_pdf: bool = False
    """The seller's default for attaching the receipt PDF to the confirmation email; the
    customer's own choice (``attach_pdf`` in their preferences), when they made one, wins."""
    default_phone_region: str = "FR"
    unsubscribe_ttl: timedelta = timedelta(days=3 * 365)


def message_options(settings: NotifySettings, seller: SellerIdentity | None) -> MessageOptions:
    """What the stage's settings and the seller's profile offer beyond the facts: the
    profile's SMS sender id, refund delays and PDF default win over the stage's."""
    s = settings
    return MessageOptions(
        payment_update_url_template=s.payment_update_url_template,
        balance_payment_url_template=s.balance_payment_url_template,
        refund_survey_url_template=s.refund_survey_url_template,
        loyalty_promo_code=s.loyalty_promo_code,
        loyalty_min_payments=s.loyalty_min_payments,
        offer_text={
            lang: text for lang, text in (("fr", s.offer_text_fr), ("en", s.offer_text_en)) if text
        },
        offer_url=s.offer_url,
        sms_brand=(seller.sms_sender if seller else None) or s.sms_sender_id,
        sms_sender_id=seller.sms_sender if seller else None,
        refund_delays=seller.refund_delays if seller else None,
        attach_pdf=seller.attach_pdf if seller else False,
        default_phone_region=s.default_phone_region,
    )


def seller_letterhead(sender_email: str, seller: SellerIdentity) -> Letterhead:
    """Messages go out from the stage's verified address under the seller's name, and
    replies go to the seller."""
    return Letterhead.of(
        Sender(email=sender_email, name=seller.name),
        SellerContact(name=seller.name, email=seller.email, phone=seller.phone),
    )


@dataclass(frozen=True)
class NotifyPorts:
    """What notify reads and writes: the customer's profile, the mail and SMS senders, the
    message log, and (read only) the ledger's documents and invoices and the archive."""

    profiles: Profiles
    mailer: Mailer
    log: MessageLog
    sms: SmsSender | None = None
    documents: Documents | None = None
    """The receipt records (the archived PDF's key) and the customer's invoices (loyalty)."""
    archive: Archive | None = None
    invoices: Standings | None = None
    """The invoices' standing, which an invoice reminder checks last thing."""


@dataclass(frozen=True)
class CustomerLinks:
    """How the links in a message are made: signed with the link keys, under the public
    base URL, valid for ``ttl``."""

    signer: LinkSigner
    public_base_url: str
    ttl: timedelta


@dataclass(frozen=True)
class Delivery:
    channel: Channel
    status: Literal["sent", "skipped", "failed"]
    provider_message_id: str | None
    reason: str | None = None


def notify_customer(
    job: NotificationJob,
    ports: NotifyPorts,
    *,
    letterhead: Letterhead,
    links: CustomerLinks,
    now: datetime,
    options: MessageOptions | None = None,
) -> tuple[Delivery, ...]:
    """Compose the message the job asks for on each channel, send each once, and log what
    happened (never the message itself, nor an address or a number)."""
    log = ports.log
    profile = ports.profiles.profile(job.customer_id) or CustomerProfile()
    channels = _channels(job, profile)
    expires = now + NOTIFICATION_LOG_RETENTION
    document = job.document_number
    # The job itself (no contact data in it) lets SES feedback resend it by SMS after a bounce.
    base = {
        "kind": job.kind,
        "receipt_number": document,
        "at": now.isoformat(),
        "job": job.model_dump_json(),
    }
    if isinstance(job, InvoiceReminderJob):
        # A payment may have landed since the reminder was queued: look again, last thing.
        if ports.invoices is None:
            raise ValueError("an invoice reminder needs the ledger to check the invoice")
        reason = why_not_send(job, ports.invoices)
        if reason:
            deliveries: list[Delivery] = []
            for channel in channels:
                if not log.message_sent(job.invoice_number, job.change_id, channel):
                    log.record_message(
                        job.invoice_number,
                        job.change_id,
                        channel,
                        {**base, "channel": channel, "status": "skipped", "reason": reason},
                        expires,
                    )
                deliveries.append(Delivery(channel, "skipped", None, reason=reason))
            return tuple(deliveries)
    sending = _Sending(
        job=job,
        profile=profile,
        link=(
            receipt_link(
                links.public_base_url,
                links.signer,
                document,
                now + links.ttl,
                locale=profile.locale or None,
            )
            if document
            else None
        ),
        ports=ports,
        letterhead=letterhead,
        links=links,
        options=options or MessageOptions(),
        now=now,
    )
    return tuple(sending.send(channel, base, expires) for channel in channels)


@dataclass(frozen=True)
class _Sending:
    """One job on its way: what each channel's message is made from."""

    job: NotificationJob
    profile: CustomerProfile
    link: str | None
    ports: NotifyPorts
    letterhead: Letterhead
    links: CustomerLinks
    options: MessageOptions
    now: datetime

    def send(self, channel: Channel, base: Mapping[str, Any], expires: datetime) -> Delivery:
        """Send on one channel unless the log says it was sent, and log the outcome."""
        job, log = self.job, self.ports.log
        if log.message_sent(job.invoice_number, job.change_id, channel):
            # Sent before, whenever the job comes back (the idempotency window is not forever).
            return Delivery(channel, "sent", None, reason="already_sent")
        try:
            delivery = self.email() if channel == "email" else self.sms()
        except ValueError as refused:  # an address or a value no message can carry: not retried
            delivery = Delivery(channel, "failed", None, reason=type(refused).__name__)
        values: dict[str, Any] = {**base, "channel": channel, "status": delivery.status}
        if delivery.provider_message_id:
            values["provider_message_id"] = delivery.provider_message_id
        if delivery.reason:
            values["reason"] = delivery.reason
        _log_delivery(log, job, values, expires, sent=delivery.status == "sent")
        return delivery

    def email(self) -> Delivery:
        job, profile, options = self.job, self.profile, self.options
        if not profile.email:
            return Delivery("email", "skipped", None, reason="no_email")
        if profile.email_suppressed:
            return Delivery("email", "skipped", None, reason="suppressed")
        extras = (
            marketing_extras(
                job,
                profile,
                options=options,
                links=self.links,
                documents=self.ports.documents,
                now=self.now,
            )
            if job.kind in MARKETING_KINDS
            else None
        )
        attachment = (
            _archived_pdf(job, self.ports.documents, self.ports.archive)
            if isinstance(job, PaymentConfirmedJob)
            and (options.attach_pdf if profile.attach_pdf is None else profile.attach_pdf)
            else None
        )
        message = compose_email(
            job,
            profile=profile,
            link=self.link,
            letterhead=self.letterhead,
            options=options,
            extras=extras,
            attachment=attachment,
        )
        message_id = self.ports.mailer.send(message, tags=_tags(job))
        return Delivery("email", "sent", message_id)

    def sms(self) -> Delivery:
        phone, sms, opts = self.profile.phone, self.ports.sms, self.options
        if not phone:
            return Delivery("sms", "skipped", None, reason="no_phone")
        if sms is None:
            return Delivery("sms", "skipped", None, reason="sms_unavailable")
        try:
            number = to_e164(str(phone), opts.default_phone_region)
        except InvalidPhoneNumber:
            return Delivery("sms", "failed", None, reason="invalid_phone")
        text = compose_sms(self.job, profile=self.profile, link=self.link, options=opts)
        return Delivery("sms", "sent", sms.send(number, text, sender_id=opts.sms_sender_id))


def _log_delivery(
    log: MessageLog, job: NotificationJob, values: dict[str, Any], expires: datetime, *, sent: bool
) -> None:
    channel = values["channel"]
    try:
        log.record_message(job.invoice_number, job.change_id, channel, values, expires)
    except Exception as unlogged:
        if not sent:
            raise
        raise SentNotLogged(channel) from unlogged


def _channels(job: NotificationJob, profile: CustomerProfile) -> tuple[Channel, ...]:
    if job.channels:
        return tuple(dict.fromkeys(job.channels))
    preferred = profile.preferred_channels
    if "email" in preferred and profile.email_suppressed and profile.phone:
        # The address bounced or complained: the customer still hears, by SMS.
        return tuple(dict.fromkeys((*[c for c in preferred if c != "email"], "sms")))
    return preferred


def compose_email(
    job: NotificationJob,
    *,
    profile: CustomerProfile,
    link: str | None,
    letterhead: Letterhead,
    options: MessageOptions,
    extras: MarketingExtras | None = None,
    attachment: Attachment | None = None,
) -> EmailMessage:
    """The email a job calls for, by the composer its kind has in ``EMAIL_COMPOSERS`` (a new
    kind adds its composer there); ValueError for a job without what its message needs.
    Public for tests and tools that build the message a job would get, without sending it."""
    lang = language_of(profile.locale or "fr")
    context = _EmailContext(
        letterhead=letterhead,
        recipient=Recipient(
            email=profile.email or "",
            name=profile.name,
            locale=lang,
            tone=profile.tone,
            timezone=profile.timezone or "Europe/Paris",
        ),
        link=link,
        options=options,
        extras=extras,
        attachment=attachment,
    )
    message = EMAIL_COMPOSERS[job.kind](job, context)
    if message is None:
        raise ValueError(f"a {job.kind} job without what its message needs")
    return message


@dataclass(frozen=True)
class _EmailContext:
    """What every email composer is given beside the job."""

    letterhead: Letterhead
    recipient: Recipient
    link: str | None
    options: MessageOptions
    extras: MarketingExtras | None
    attachment: Attachment | None


def _payment_confirmed(job: PaymentConfirmedJob, e: _EmailContext) -> EmailMessage | None:
    if not e.link:
        return None
    payment = PaymentConfirmed(
        receipt_number=job.receipt_number,
        invoice_number=job.invoice_number,
        amount=job.amount,
        paid_at=job.paid_at,
        receipt_url=e.link,
        method=job.method,
    )
    return compose_payment_confirmation(
        e.letterhead, e.recipient, payment, attachment=e.attachment, extras=e.extras
    )


def _refund_issued(job: RefundIssuedJob, e: _EmailContext) -> EmailMessage | None:
    if not e.link:
        return None
    refund = RefundIssued(
        credit_note_number=job.receipt_number,
        receipt_number=job.original_receipt_number,
        invoice_number=job.invoice_number,
        refunded=job.amount,
        refunded_at=job.refunded_at,
        method=job.method,
        credit_note_url=e.link,
        survey_url=_invoice_url(e.options.refund_survey_url_template, job.invoice_number),
        delay_days=_refund_delay(job.method, e.options.refund_delays),
    )
    return compose_refund_issued(e.letterhead, e.recipient, refund)


def _partial_payment(
    job: PartialPaymentJob | AnomalyNoticeJob, e: _EmailContext
) -> EmailMessage | None:
    anomaly = PaymentAnomaly(
        kind=AnomalyKind.PARTIAL_PAYMENT,
        invoice_number=job.invoice_number,
        amount=job.amount,
        difference=_balance(job),
        paid_at=job.paid_at,
        receipt_url=e.link,
        payment_url=_invoice_url(e.options.balance_payment_url_template, job.invoice_number),
        method=job.method,
    )
    return compose_anomaly_notice(e.letterhead, e.recipient, anomaly)


def _payment_failed(job: PaymentFailedJob, e: _EmailContext) -> EmailMessage | None:
    failure = FailedPayment(
        invoice_number=job.invoice_number,
        amount=job.amount,
        failed_at=job.failed_at,
        reason=job.failure,
        update_url=_update_url(job, e.options),
    )
    return compose_payment_failed(e.letterhead, e.recipient, failure)


def _anomaly_notice(job: AnomalyNoticeJob, e: _EmailContext) -> EmailMessage | None:
    if job.anomaly == AnomalyKind.PARTIAL_PAYMENT.value:
        # One clear message with the balance and how to pay it, as for partial_payment.
        return _partial_payment(job, e)
    anomaly = PaymentAnomaly(
        kind=AnomalyKind(job.anomaly),
        invoice_number=job.invoice_number,
        amount=job.amount,
        difference=job.difference,
        paid_at=job.paid_at,
        receipt_url=e.link,
        invoice_currency=job.invoice_currency,
        method=job.method,
    )
    return compose_anomaly_notice(e.letterhead, e.recipient, anomaly)


def _invoice_reminder(job: InvoiceReminderJob, e: _EmailContext) -> EmailMessage | None:
    invoice_due = DueInvoice(
        invoice_number=job.invoice_number,
        amount_due=job.amount,
        due_date=job.due_date,
        sent_at=job.queued_at,
    )
    return compose_invoice_reminder(e.letterhead, e.recipient, invoice_due)


# Each composer takes its own kind's job class: the registry is keyed by the kind, which
# picks that class (the discriminated union), so the call is typed at each composer.
EmailComposer = Callable[[Any, _EmailContext], EmailMessage | None]
EMAIL_COMPOSERS: Mapping[str, EmailComposer] = {
    "payment_confirmed": _payment_confirmed,
    "refund_issued": _refund_issued,
    "partial_payment": _partial_payment,
    "payment_failed": _payment_failed,
    "anomaly_notice": _anomaly_notice,
    "invoice_reminder": _invoice_reminder,
}
"""One email composer per notification kind (tests/unit/test_notify_dispatch.py checks that
every kind has one). A composer answers None when the job lacks what its message needs."""


def compose_sms(
    job: NotificationJob,
    *,
    profile: CustomerProfile,
    link: str | None,
    options: MessageOptions,
) -> str:
    """The SMS text a job calls for (one GSM-7 segment for realistic values)."""
    lang: Language = language_of(profile.locale or "fr")
    babel_locale = BABEL_LOCALES[lang]
    kind: str = job.kind
    anomaly = AnomalyKind(job.anomaly) if isinstance(job, AnomalyNoticeJob) else None
    if anomaly is AnomalyKind.PARTIAL_PAYMENT:
        kind = "partial_payment"
    sms_link: str | None = link
    fallback_link: str | None = None
    balance = ""
    failure: FailureCategory | None = None
    if isinstance(job, PartialPaymentJob | AnomalyNoticeJob) and kind == "partial_payment":
        balance_due = _balance(job)
        balance = balance_due.format(babel_locale) if balance_due else ""
        sms_link = _invoice_url(options.balance_payment_url_template, job.invoice_number)
    elif isinstance(job, PaymentFailedJob):
        sms_link = _update_url(job, options)
        fallback_link = _invoice_url(options.payment_update_url_template, job.invoice_number)
        failure = job.failure
    elif kind != "payment_confirmed":
        sms_link = None
    method = job.method if isinstance(job, RefundIssuedJob) else None
    low, high = _refund_delay(method, options.refund_delays)
    facts = SmsFacts(
        brand=options.sms_brand,
        invoice=single_line(job.invoice_number),
        amount=job.amount.format(babel_locale),
        receipt=job.document_number or "",
        balance=balance,
        delay=business_days_text(lang, low, high),
        reason=failure,
        anomaly=anomaly,
        link=sms_link,
        fallback_link=fallback_link,
    )
    return sms_text(kind, lang, facts)


def marketing_extras(
    job: NotificationJob,
    profile: CustomerProfile,
    *,
    options: MessageOptions,
    links: CustomerLinks,
    documents: Documents | None,
    now: datetime,
) -> MarketingExtras | None:
    """The extras this customer may get: None without recorded consent (or with nothing
    configured to offer); otherwise always with their one-click unsubscribe link."""
    if not profile.consents_to_marketing:
        return None
    lang = language_of(profile.locale or "fr")
    promo = None
    if options.loyalty_promo_code:
        count = _payments_count(job.customer_id, profile, documents)
        if count >= options.loyalty_min_payments:
            promo = options.loyalty_promo_code
    offer = options.offer_text.get(lang)
    if promo is None and not offer:
        return None
    return MarketingExtras(
        unsubscribe_url=unsubscribe_url(
            links.public_base_url, links.signer, job.customer_id, now + options.unsubscribe_ttl
        ),
        promo_code=promo,
        offer_text=offer or None,
        offer_url=options.offer_url if offer else None,
    )


def _payments_count(customer_id: str, profile: CustomerProfile, documents: Documents | None) -> int:
    if profile.payments_count is not None:
        return profile.payments_count
    if documents is None:
        return 0
    return sum(1 for s in documents.invoices_of_customer(customer_id) if s.status in _PAID_STATUSES)


def _balance(job: PartialPaymentJob | AnomalyNoticeJob) -> Money | None:
    return job.balance_due if isinstance(job, PartialPaymentJob) else job.difference


def _refund_delay(method: PaymentMethod | None, delays: RefundDelays | None) -> tuple[int, int]:
    chosen = delays.for_method(method.kind.value) if delays and method else None
    if chosen is not None:
        return chosen
    if method and method.kind in (MethodKind.SEPA_TRANSFER, MethodKind.SEPA_DEBIT):
        return SEPA_REFUND_DELAY_DAYS
    return CARD_REFUND_DELAY_DAYS


def _archived_pdf(
    job: PaymentConfirmedJob, documents: Documents | None, archive: Archive | None
) -> Attachment | None:
    """The archived original, byte for byte, or None when it is not archived (yet)."""
    if documents is None or archive is None:
        return None
    try:
        # The job names the invoice: the receipt is read by its key, not looked up by number.
        record = documents.receipt_item(job.receipt_number, job.invoice_number)
    except NotFound:
        return None
    stored = record.get("archive")
    if not stored:
        return None
    content = archive.read(str(stored["key"]), str(stored["version_id"]))
    return Attachment(filename=f"{job.receipt_number}.pdf", content=content)


def _update_url(job: PaymentFailedJob, options: MessageOptions) -> str | None:
    """The gateway's own page for this invoice first: it knows the attempt and the card."""
    return job.payment_update_url or _invoice_url(
        options.payment_update_url_template, job.invoice_number
    )


def _invoice_url(template: str | None, invoice_number: str) -> str | None:
    if not template:
        return None
    return template.replace("{invoice_number}", quote(invoice_number, safe=""))


def _tags(job: NotificationJob) -> dict[str, str]:
    """SES message tags, as plain values: the mailer escapes them reversibly to SES's tag
    alphabet, so that SES feedback finds the very invoice and change again."""
    return {
        "invoice": job.invoice_number,
        "change": job.change_id,
        "customer": job.customer_id,
        "kind": job.kind,
    }
