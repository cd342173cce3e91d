"""Notification jobs: one shape per kind (version 2), and the version 1 jobs already on the
queue or in the message log when version 2 is deployed still read, each moment under its
own name."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from quittance.models.events import MethodKind, PaymentMethod
from quittance.models.messages import (
    AnomalyNoticeJob,
    InvoiceReminderJob,
    PartialPaymentJob,
    PaymentConfirmedJob,
    PaymentFailedJob,
    ReceiptJob,
    RefundIssuedJob,
    parse_notification_job,
)
from quittance.models.money import Money
from quittance.receipts.issuance import notification_for

AT = "2026-11-23T09:00:00Z"
AT_UTC = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EUR_12 = {"amount_minor": 1200, "currency": "EUR"}


def v1(kind: str, **fields: Any) -> str:
    """A job as version 1 wrote it: every field of every kind, empty where unused."""
    return json.dumps(
        {
            "schema_version": 1,
            "correlation_id": "c-1",
            "kind": kind,
            "channels": None,
            "change_id": f"F-1:{kind}",
            "customer_id": "C-1",
            "receipt_number": None,
            "original_receipt_number": None,
            "invoice_number": "F-1",
            "amount": EUR_12,
            "paid_at": AT,
            "anomaly": None,
            "difference": None,
            "invoice_currency": None,
            "failure": None,
            "payment_update_url": None,
            "due_date": None,
        }
        | fields
    )


@pytest.mark.parametrize(
    ("raw", "cls", "moment"),
    [
        (v1("payment_confirmed", receipt_number="R-1"), PaymentConfirmedJob, "paid_at"),
        (
            v1("refund_issued", receipt_number="AV-1", original_receipt_number="R-1"),
            RefundIssuedJob,
            "refunded_at",
        ),
        (v1("payment_failed", failure="expired_card"), PaymentFailedJob, "failed_at"),
        (v1("invoice_reminder", due_date="2026-12-01"), InvoiceReminderJob, "queued_at"),
        (
            v1(
                "partial_payment",
                receipt_number="R-1",
                anomaly="partial_payment",
                difference={"amount_minor": 800, "currency": "EUR"},
            ),
            PartialPaymentJob,
            "paid_at",
        ),
        (
            v1("anomaly_notice", anomaly="overpayment", difference=EUR_12),
            AnomalyNoticeJob,
            "paid_at",
        ),
    ],
    ids=["confirmed", "refund", "failed", "reminder", "partial", "anomaly"],
)
def test_a_version_1_job_reads_as_its_kinds_shape(raw: str, cls: type, moment: str) -> None:
    job = parse_notification_job(raw)
    assert type(job) is cls
    assert job.schema_version == 2
    assert getattr(job, moment) == AT_UTC
    assert job.invoice_number == "F-1" and job.amount == Money.model_validate(EUR_12)
    # …and it goes on the wire again as version 2, which reads back the same.
    assert parse_notification_job(job.model_dump_json()) == job


def test_a_version_1_partial_payment_keeps_its_balance_and_a_reminder_its_due_date() -> None:
    partial = parse_notification_job(
        v1(
            "partial_payment",
            receipt_number="R-1",
            anomaly="partial_payment",
            difference={"amount_minor": 800, "currency": "EUR"},
        )
    )
    assert isinstance(partial, PartialPaymentJob)
    assert partial.balance_due == Money(amount_minor=800, currency="EUR")
    reminder = parse_notification_job(v1("invoice_reminder", due_date="2026-12-01"))
    assert isinstance(reminder, InvoiceReminderJob)
    assert reminder.due_date == date(2026, 12, 1)
    assert reminder.document_number is None


def test_a_logged_version_1_job_still_falls_back_to_sms() -> None:
    # The message log keeps the job for SES feedback's SMS fallback: it names the channel.
    job = parse_notification_job(v1("payment_confirmed", receipt_number="R-1", channels=["sms"]))
    assert job.channels == ("sms",)


def test_a_version_1_job_with_a_field_its_kind_cannot_carry_is_refused() -> None:
    # A failure on a confirmation is not something version 1 producers wrote: refused, named.
    with pytest.raises(ValidationError, match="failure"):
        parse_notification_job(
            v1("payment_confirmed", receipt_number="R-1", failure="expired_card")
        )


def test_a_version_2_job_with_a_version_1_moment_is_refused() -> None:
    with pytest.raises(ValidationError, match="paid_at"):
        parse_notification_job(
            {
                "correlation_id": "c-1",
                "kind": "payment_failed",
                "change_id": "F-1#failed#e",
                "customer_id": "C-1",
                "invoice_number": "F-1",
                "amount": EUR_12,
                "paid_at": AT,
                "failure": "expired_card",
            }
        )


@pytest.mark.parametrize(
    ("kind", "anomaly", "cls"),
    [
        ("receipt", None, PaymentConfirmedJob),
        ("receipt", "partial_payment", PartialPaymentJob),
        ("receipt", "overpayment", AnomalyNoticeJob),
        ("credit_note", None, RefundIssuedJob),
    ],
)
def test_the_notice_a_document_triggers_carries_its_payment_method(
    kind: str, anomaly: str | None, cls: type
) -> None:
    transfer = PaymentMethod(
        kind=MethodKind.SEPA_TRANSFER,
        transfer_reference="VIR-2026-1123-0042",
        iban_masked="FR76 **** **** **** **** ***0 189",
        value_date=date(2026, 11, 23),
    )
    job = notification_for(
        ReceiptJob(
            correlation_id="c-1",
            kind=kind,  # type: ignore[arg-type]
            receipt_number="AV-1" if kind == "credit_note" else "R-1",
            original_receipt_number="R-1" if kind == "credit_note" else None,
            anomaly=anomaly,
            invoice_number="F-1",
            payment_id="p-1",
            customer_id="C-1",
            paid_at=AT_UTC,
            issued_at=AT_UTC,
            amount=Money.model_validate(EUR_12),
            method=transfer,
            invoice_status="paid",
            balance_due=Money(amount_minor=800, currency="EUR"),
        )
    )
    assert type(job) is cls
    assert job.method == transfer  # type: ignore[union-attr]
    # No message kind reads its moment from another's field.
    moment = "refunded_at" if kind == "credit_note" else "paid_at"
    assert getattr(job, moment) == AT_UTC
