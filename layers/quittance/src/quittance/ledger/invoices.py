"""Invoices the business registers: what is due, by when, for what, at which VAT rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal, Protocol

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from quittance.errors import CustomerErased, InvoiceCancelled
from quittance.ledger.model import InvoiceRecord, InvoiceSummary
from quittance.ledger.service import WriteConflict, pseudonymous_customer_id
from quittance.ledger.state import InvoiceTerms, derive
from quittance.ledger.taxation import Nature, Taxation, VatShare
from quittance.models.events import CustomerDetails
from quittance.models.money import Currency, Money
from quittance.models.phone import InvalidPhoneNumber, to_e164
from quittance.models.timezone import TimeZoneName
from quittance.providers import provider_names

INVOICE_NUMBER = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"
MAX_ATTEMPTS = 8


class InvoiceLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    description: str = Field(min_length=1, max_length=200)
    quantity: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3)]
    unit_price_minor: int = Field(ge=0, description="Excluding VAT, in minor units")
    vat_rate: Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
    """Percent: 20, 10, 5.5, 2.1 in France."""


class InvoiceRegistration(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_reference: str = Field(min_length=1, max_length=128)
    currency: Currency
    lines: tuple[InvoiceLine, ...] = Field(min_length=1, max_length=500)
    issue_date: date
    due_date: date
    nature: Nature
    """What France's e-reporting asks of each operation."""
    cancelled: bool = False

    @model_validator(mode="after")
    def _due_after_issue(self) -> InvoiceRegistration:
        if self.due_date < self.issue_date:
            raise ValueError("due_date is before issue_date")
        return self

    def vat_breakdown(self) -> dict[Decimal, tuple[int, int]]:
        """Per VAT rate: (taxable base, VAT), in minor units, VAT rounded half up per rate."""
        bases: dict[Decimal, Decimal] = {}
        for line in self.lines:
            bases[line.vat_rate] = bases.get(line.vat_rate, Decimal(0)) + (
                line.quantity * line.unit_price_minor
            )
        breakdown = {}
        for rate, base in bases.items():
            whole = base.quantize(Decimal(1), rounding=ROUND_HALF_UP)
            vat = (whole * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            breakdown[rate] = (int(whole), int(vat))
        return breakdown

    @property
    def amount_due(self) -> Money:
        total = sum(base + vat for base, vat in self.vat_breakdown().values())
        return Money(amount_minor=total, currency=self.currency)

    def taxation(self) -> Taxation:
        """The whole invoice as France's e-reporting sees it: nature, base and VAT per rate."""
        return Taxation(
            nature=self.nature,
            currency=self.currency,
            shares=tuple(
                VatShare(rate=rate, taxable_base_minor=base, vat_minor=vat)
                for rate, (base, vat) in sorted(self.vat_breakdown().items())
            ),
        )


class InvoiceContact(BaseModel):
    """Who the invoice is for and how to reach them, as staff register it: what reminders
    need before the customer has ever paid through a gateway.

    Sealed into the customer's profile with their own key; never stored on the invoice. The
    customer is the one the payment gateway knows by the invoice's ``customer_reference``,
    so that a later payment event lands on the same pseudonymous customer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    """The gateway whose customer reference the invoice carries (stripe, gocardless, …)."""
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone_region: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    """Where a national phone number (without +country) is read."""
    phone: str | None = Field(default=None, max_length=32)
    """Stored as E.164."""
    address: str | None = Field(default=None, max_length=500)
    locale: str | None = Field(default=None, pattern=r"^[a-z]{2}(?:[-_][A-Za-z]{2})?$")
    timezone: TimeZoneName | None = None
    segment: Literal["b2b", "b2c"] | None = None
    channel: Literal["email", "sms", "both"] | None = None

    @field_validator("provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value not in provider_names():
            raise ValueError(f"unknown provider; expected one of {', '.join(provider_names())}")
        return value

    @field_validator("email")
    @classmethod
    def _deliverable_syntax(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            checked = validate_email(value, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError:
            raise ValueError("not an email address") from None
        return str(checked.normalized)

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        try:
            return to_e164(value, str(info.data.get("phone_region", "FR")))
        except InvalidPhoneNumber as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _reachable(self) -> InvoiceContact:
        if self.email is None and self.phone is None:
            raise ValueError("an email or a phone number is needed to reach the customer")
        if self.channel in ("sms", "both") and self.phone is None:
            raise ValueError(f"channel {self.channel} needs a phone number")
        if self.channel in ("email", "both") and self.email is None:
            raise ValueError(f"channel {self.channel} needs an email address")
        return self

    def customer_id(self, reference: str) -> str:
        return pseudonymous_customer_id(self.provider, reference)

    def details(self, reference: str) -> CustomerDetails:
        return CustomerDetails(
            reference=reference,
            name=self.name,
            email=self.email,
            phone=self.phone,
            address=self.address,
            locale=self.locale,
        )


class InvoiceRequest(InvoiceRegistration):
    """The body of ``PUT /admin/invoices/{number}``: the invoice's terms and, optionally,
    the customer's contact details (kept apart from the terms)."""

    customer: InvoiceContact | None = None

    def terms(self) -> InvoiceRegistration:
        return InvoiceRegistration.model_validate(self.model_dump(exclude={"customer"}))


class InvoiceBook(Protocol):
    def load(self, invoice_number: str) -> InvoiceRecord | None: ...

    def save_registration(
        self,
        number: str,
        *,
        version_before: int | None,
        registration: InvoiceRegistration,
        summary: InvoiceSummary,
        now: datetime,
        activity_at: datetime,
    ) -> None:
        """Raises WriteConflict when the invoice changed since it was read. ``activity_at``
        is the invoice's newest activity, this registration included."""


def register_invoice(
    number: str,
    registration: InvoiceRegistration,
    *,
    book: InvoiceBook,
    now: datetime,
    customer_id: str | None = None,
) -> InvoiceSummary:
    """Create or replace the invoice's terms. Payments already received are settled against
    the new terms at once in the summary; documents they now owe come with the next event.
    ``customer_id`` names the customer before any payment does (a payment's own customer,
    once one arrived, stays). A cancelled invoice cannot be revived (``InvoiceCancelled``)."""
    for _ in range(MAX_ATTEMPTS):
        record = book.load(number)
        was = record.registered_terms if record is not None else None
        if was is not None and was.cancelled and not registration.cancelled:
            raise InvoiceCancelled(f"invoice {number} is cancelled; register a new invoice")
        terms = InvoiceTerms(
            number=number,
            amount_due=registration.amount_due,
            registered=True,
            cancelled=registration.cancelled,
            due_date=registration.due_date,
        )
        view = derive(
            terms, record.events if record else (), receipted=record.receipted if record else ()
        )
        summary = InvoiceSummary(
            number=number,
            status=view.status,
            amount_due=terms.amount_due,
            amount_paid=view.paid,
            refunded=view.refunded,
            balance_due=view.balance_due,
            registered=True,
            customer_id=(record.customer_id if record else None) or customer_id,
        )
        try:
            book.save_registration(
                number,
                version_before=record.version if record else None,
                registration=registration,
                summary=summary,
                now=now,
                activity_at=record.newest_activity(now) if record else now,
            )
        except WriteConflict:
            continue
        return summary
    raise WriteConflict(f"invoice {number}: gave up after {MAX_ATTEMPTS} conflicting writes")


ContactKept = Literal["kept", "erased", "not_given"]


class ContactBook(Protocol):
    """Customers' profiles, contact fields sealed with the customer's own key."""

    def remember(
        self,
        customer_id: str,
        details: CustomerDetails,
        now: datetime,
        *,
        as_of: datetime | None = None,
    ) -> object: ...

    def set_preferences(
        self,
        customer_id: str,
        *,
        channel: str | None = None,
        segment: str | None = None,
        timezone: str | None = None,
        only_existing: bool = True,
    ) -> bool: ...


@dataclass(frozen=True)
class Registered:
    summary: InvoiceSummary
    customer_id: str | None
    contact: ContactKept


def register_request(
    number: str,
    request: InvoiceRequest,
    *,
    book: InvoiceBook,
    profiles: ContactBook,
    now: datetime,
) -> Registered:
    """``PUT /admin/invoices/{number}``: the terms registered (``register_invoice``), then
    the contact staff gave kept in the customer's profile, never on the invoice."""
    customer_id = (
        request.customer.customer_id(request.customer_reference)
        if request.customer is not None
        else None
    )
    summary = register_invoice(number, request.terms(), book=book, now=now, customer_id=customer_id)
    contact: ContactKept = "not_given"
    if request.customer is not None and customer_id is not None:
        contact = keep_contact(
            profiles, customer_id, request.customer, request.customer_reference, now
        )
    return Registered(summary=summary, customer_id=customer_id, contact=contact)


def keep_contact(
    profiles: ContactBook,
    customer_id: str,
    given: InvoiceContact,
    reference: str,
    now: datetime,
) -> ContactKept:
    """Seal what staff gave into the customer's profile: "kept", or "erased" for a customer
    who asked to be forgotten (nothing is kept; the invoice still counts)."""
    try:
        profiles.remember(customer_id, given.details(reference), now, as_of=now)
    except CustomerErased:
        return "erased"
    profiles.set_preferences(
        customer_id, channel=given.channel, segment=given.segment, timezone=given.timezone
    )
    return "kept"
