"""An invoice's registered terms (the ``terms`` of its ``#INVOICE`` item): what staff
registered (``PUT /admin/invoices/{number}``), read back for the documents that list them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from quittance.aws.errors import error_code
from quittance.aws.invoice_indexes import activity_index, customer_index, open_index
from quittance.aws.items import to_item
from quittance.aws.ledger_items import INVOICE_SK, LedgerItems, invoice_pk
from quittance.ledger.invoices import InvoiceRegistration
from quittance.ledger.model import InvoiceSummary
from quittance.ledger.service import WriteConflict


class InvoiceRegistrations(LedgerItems):
    """Serves ``ledger.invoices.InvoiceBook.save_registration`` and the registration reads of
    ``receipts.issuance.ReceiptLedger``."""

    def registration(self, number: str) -> InvoiceRegistration | None:
        item = self._get(invoice_pk(number), INVOICE_SK)
        terms = (item or {}).get("terms") or {}
        raw = terms.get("registration")
        return InvoiceRegistration.model_validate_json(raw) if raw else None

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
        values: dict[str, Any] = {
            ":version": (version_before or 0) + 1,
            ":terms": {
                "amount_due": registration.amount_due.model_dump(mode="json"),
                "cancelled": registration.cancelled,
                "due_date": registration.due_date.isoformat(),
                "registration": registration.model_dump_json(),
            },
            ":summary": summary.model_dump_json(),
            ":status": summary.status.value,
            ":type": "invoice",
            ":at": now.isoformat(),
        }
        condition = "attribute_not_exists(pk)"
        if version_before is not None:
            condition = "#version = :before"
            values[":before"] = version_before
        # Named by staff before any payment; a payment's own customer, once known, stays.
        customer = customer_index(number, summary.customer_id, values)
        try:
            self._client.update_item(
                TableName=self.name,
                Key=to_item({"pk": invoice_pk(number), "sk": INVOICE_SK}),
                UpdateExpression=(
                    "SET #version = :version, terms = :terms, #summary = :summary,"
                    " #status = :status, #type = :type, registered_at = :at"
                    + customer
                    + activity_index(number, activity_at, values)
                    + open_index(number, summary.status, registration.due_date, values)
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames={
                    "#version": "version",
                    "#summary": "summary",
                    "#status": "status",
                    "#type": "type",
                },
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise WriteConflict(f"invoice {number} changed") from None
            raise
