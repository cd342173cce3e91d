"""Play SES's part locally: moto sends no email events, so these build the records SES would
publish (the shape of the SES Developer Guide's examples) and publish them to the stack's email
events topic, from where SNS, the queue and the feedback function take over as in AWS.

``report_bounce`` is the demo scene: the last email about a ledger change hard-bounces."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.ledger_table import LedgerTable
from quittance.models.customer import CustomerProfile
from quittance.notifications.tags import email_tags

EventKind = Literal["bounce", "soft_bounce", "complaint", "delivery"]


class Stack(Protocol):
    """What of quittance_ops.localstack.stack.LocalStack these use."""

    def client(self, service: str) -> Any: ...

    def resource(self, logical_id: str, attribute: str = "Ref") -> Any: ...

    def wait_until_drained(self, timeout: float = 60.0, interval: float = 0.05) -> bool: ...


def ses_event(
    kind: EventKind,
    *,
    message_id: str,
    recipient: str,
    tags: dict[str, str],
    at: datetime,
    sender: str = "receipts@example.com",
) -> dict[str, Any]:
    """An SES event record for one message to ``recipient``, carrying our ``tags``."""
    stamp = at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event: dict[str, Any] = {
        "mail": {
            "timestamp": stamp,
            "source": sender,
            "messageId": message_id,
            "destination": [recipient],
            "tags": {
                "ses:configuration-set": ["local"],
                **{t["Name"]: [t["Value"]] for t in email_tags(tags)},
            },
        }
    }
    if kind in ("bounce", "soft_bounce"):
        event["eventType"] = "Bounce"
        event["bounce"] = {
            "bounceType": "Permanent" if kind == "bounce" else "Transient",
            "bounceSubType": "General" if kind == "bounce" else "MailboxFull",
            "bouncedRecipients": [{"emailAddress": recipient, "action": "failed"}],
            "timestamp": stamp,
            "feedbackId": f"local-{message_id}",
        }
    elif kind == "complaint":
        event["eventType"] = "Complaint"
        event["complaint"] = {
            "complainedRecipients": [{"emailAddress": recipient}],
            "timestamp": stamp,
            "feedbackId": f"local-{message_id}",
            "complaintFeedbackType": "abuse",
        }
    else:
        event["eventType"] = "Delivery"
        event["delivery"] = {"timestamp": stamp, "recipients": [recipient]}
    return event


def publish(stack: Stack, event: dict[str, Any]) -> str:
    response = stack.client("sns").publish(
        TopicArn=stack.resource("EmailEventsTopic"), Message=json.dumps(event)
    )
    return str(response["MessageId"])


def report_event(
    stack: Stack, kind: EventKind, invoice_number: str, change_id: str
) -> dict[str, Any]:
    """SES reports ``kind`` for the email sent about (invoice, change): publishes the event
    and waits for the stack to settle; returns the message log entry and the profile's
    suppression as they are afterwards. Raises LookupError when no such email was sent."""
    dynamodb = stack.client("dynamodb")
    ledger = LedgerTable(stack.resource("LedgerTable"), dynamodb)
    table = stack.resource("CustomersTable")
    keyring = CustomerKeyring(table, dynamodb, stack.client("kms"), None)
    customers = CustomersTable(table, dynamodb, keyring)
    entry = ledger.message(invoice_number, change_id, "email")
    if not entry or entry.get("status") != "sent" or not entry.get("provider_message_id"):
        raise LookupError(f"no email was sent about {invoice_number} {change_id}")
    invoice = ledger.get_invoice(invoice_number)
    if invoice is None or not invoice.customer_id:
        raise LookupError(f"invoice {invoice_number} names no customer")
    customer_id = invoice.customer_id
    profile = customers.profile(customer_id)
    event = ses_event(
        kind,
        message_id=str(entry["provider_message_id"]),
        recipient=(profile.email if profile else None) or "",
        tags={
            "invoice": invoice_number,
            "change": change_id,
            "customer": customer_id,
            "kind": str(entry.get("kind") or ""),
        },
        at=datetime.now(UTC),
    )
    publish(stack, event)
    stack.wait_until_drained(timeout=30)
    after = ledger.message(invoice_number, change_id, "email") or {}
    return {
        "delivery_status": after.get("delivery_status"),
        "email_suppressed": _suppression(customers.profile(customer_id)),
    }


def _suppression(profile: CustomerProfile | None) -> dict[str, Any] | None:
    """Why the address is no longer emailed, as the demo's JSON shows it."""
    if profile is None or profile.email_suppressed is None:
        return None
    return profile.email_suppressed.model_dump()


def report_bounce(stack: Stack, invoice_number: str, change_id: str) -> dict[str, Any]:
    """Demo scene: the confirmation about (invoice, change) hard-bounces."""
    return report_event(stack, "bounce", invoice_number, change_id)
