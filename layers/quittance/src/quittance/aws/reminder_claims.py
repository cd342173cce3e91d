"""Reminders over the ledger table: the open invoices by due month (sparse index gsi4), an
invoice's standing as a reminder reads it, and each reminder step claimed once
(``REM#<step>``) in the same transaction that checks the invoice is still as read."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from quittance.aws.errors import cancellation_codes, error_code
from quittance.aws.items import to_item
from quittance.aws.ledger_items import INVOICE_SK, LedgerItems, invoice_pk
from quittance.ledger.model import InvoiceSummary
from quittance.ledger.service import WriteConflict
from quittance.ledger.state import InvoiceStatus
from quittance.reminders import InvoiceStanding


class ReminderClaims(LedgerItems):
    """Serves ``reminders.ReminderBook`` and ``reminders.Standings``."""

    def open_invoices_due(self, first_month: date, last_day: date) -> list[tuple[date, str]]:
        """Registered invoices still waiting for money, due between the first day of
        ``first_month`` and ``last_day`` (sparse index gsi4, one partition per due month)."""
        found: list[tuple[date, str]] = []
        month = first_month.replace(day=1)
        while month <= last_day:
            for item in self._query_index("gsi4", "gsi4pk", f"OPEN#{month:%Y-%m}"):
                due_text, number = str(item["gsi4sk"]).split("#", 1)
                due = date.fromisoformat(due_text)
                if due <= last_day:
                    found.append((due, number))
            month = (month + timedelta(days=32)).replace(day=1)
        return found

    def invoice_standing(self, number: str) -> InvoiceStanding | None:
        """The invoice as a reminder needs it, read consistently from ``#INVOICE``."""
        item = self._get(invoice_pk(number), INVOICE_SK)
        if item is None:
            return None
        summary = InvoiceSummary.model_validate_json(item["summary"])
        terms = item.get("terms") or {}
        return InvoiceStanding(
            number=number,
            version=int(item["version"]),
            status=InvoiceStatus(item["status"]),
            cancelled=bool(terms.get("cancelled", False)),
            due_date=date.fromisoformat(terms["due_date"]) if terms.get("due_date") else None,
            balance_due=summary.balance_due,
            customer_id=item.get("customer_id"),
        )

    def claim_reminder(
        self, number: str, step: str, *, version: int, at: datetime, expires_at: datetime
    ) -> bool:
        """One transaction: the invoice is still at ``version`` and open, and this step has
        not been queued yet (a claim left by a crashed run may be taken again)."""
        pk = invoice_pk(number)
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self.name,
                            "Key": to_item({"pk": pk, "sk": INVOICE_SK}),
                            "ConditionExpression": (
                                "#version = :version AND #status IN (:open, :partial)"
                            ),
                            "ExpressionAttributeNames": {
                                "#version": "version",
                                "#status": "status",
                            },
                            "ExpressionAttributeValues": to_item(
                                {
                                    ":version": version,
                                    ":open": InvoiceStatus.OPEN.value,
                                    ":partial": InvoiceStatus.PARTIALLY_PAID.value,
                                }
                            ),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.name,
                            "Item": to_item(
                                {
                                    "pk": pk,
                                    "sk": f"REM#{step}",
                                    "type": "reminder",
                                    "step": step,
                                    "state": "claimed",
                                    "invoice_version": version,
                                    "claimed_at": at.isoformat(),
                                    "expires_at": int(expires_at.timestamp()),
                                }
                            ),
                            "ConditionExpression": "attribute_not_exists(pk) OR #state = :claimed",
                            "ExpressionAttributeNames": {"#state": "state"},
                            "ExpressionAttributeValues": to_item({":claimed": "claimed"}),
                        }
                    },
                ]
            )
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                # Only the step's own condition failed: the invoice is as read, the step taken.
                if cancellation_codes(exc)[:2] == ["None", "ConditionalCheckFailed"]:
                    return False
                raise WriteConflict(f"invoice {number} changed") from None
            if error_code(exc) == "TransactionConflictException":
                raise WriteConflict(f"invoice {number} changed") from None
            raise
        return True

    def reminder_queued(self, number: str, step: str, at: datetime) -> None:
        self._client.update_item(
            TableName=self.name,
            Key=to_item({"pk": invoice_pk(number), "sk": f"REM#{step}"}),
            UpdateExpression="SET #state = :queued, queued_at = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues=to_item({":queued": "queued", ":at": at.isoformat()}),
        )

    def reminders(self, number: str) -> list[dict[str, Any]]:
        """The invoice's reminder steps: claimed or queued, and when."""
        return [i for i in self._collection(number) if i.get("type") == "reminder"]
