"""Registered invoices still waiting for money, as bank matching needs them: the ledger's
sparse open-invoice index (gsi4, one partition per due month) and, when the amount-and-name
rule asks for it, the customer's name from their sealed profile (opened once per customer)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from quittance.aws.customers_table import CustomersTable
from quittance.aws.items import from_item, to_item
from quittance.aws.ledger_table import INVOICE_SK, invoice_pk
from quittance.bank.matching import OpenInvoice
from quittance.ledger.model import InvoiceSummary
from quittance.ledger.state import OPEN_STATUSES

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient


class OpenInvoiceIndex:
    def __init__(
        self,
        ledger_table: str,
        client: DynamoDBClient,
        customers: CustomersTable,
        *,
        months_back: int = 36,
        months_ahead: int = 24,
    ) -> None:
        self._table = ledger_table
        self._client = client
        self._customers = customers
        self._back = months_back
        self._ahead = months_ahead
        self._names: dict[str, str | None] = {}

    def open_invoices(self, today: date) -> list[OpenInvoice]:
        # Each import opens names afresh: this object lives as long as the execution
        # environment, and a customer renamed or erased since must not match by an old name.
        self._names.clear()
        month = (today.replace(day=1) - timedelta(days=31 * self._back)).replace(day=1)
        last = today + timedelta(days=31 * self._ahead)
        found: list[OpenInvoice] = []
        while month <= last:
            found += [
                invoice
                for item in self._partition(f"OPEN#{month:%Y-%m}")
                if (invoice := self._open(item)) is not None
            ]
            month = (month + timedelta(days=32)).replace(day=1)
        return found

    def open_invoice(self, number: str) -> OpenInvoice | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_item({"pk": invoice_pk(number), "sk": INVOICE_SK}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return self._open(from_item(item)) if item else None

    def customer_reference(self, number: str) -> str | None:
        """For a payment staff record (quittance.payments.offline): no name needed."""
        found = self.open_invoice(number)
        return found.customer_reference if found is not None else None

    def _partition(self, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "gsi4",
            "KeyConditionExpression": "gsi4pk = :v",
            "ExpressionAttributeValues": to_item({":v": key}),
        }
        while True:
            page = self._client.query(**kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _open(self, item: dict[str, Any]) -> OpenInvoice | None:
        terms = item.get("terms") or {}
        if not item.get("summary") or not terms.get("registration"):
            return None
        summary = InvoiceSummary.model_validate_json(item["summary"])
        if summary.status not in OPEN_STATUSES:
            return None
        reference = str(json.loads(terms["registration"])["customer_reference"])
        return OpenInvoice(
            number=summary.number,
            outstanding=summary.balance_due,
            customer_reference=reference,
            customer_id=summary.customer_id,
        )

    def customer_name(self, invoice: OpenInvoice) -> str | None:
        """Opened from the sealed profile, once per customer, only when matching asks."""
        if invoice.customer_name is not None:
            return invoice.customer_name
        customer_id = invoice.customer_id
        if customer_id is None:
            return None
        if customer_id not in self._names:
            profile = self._customers.profile(customer_id)
            self._names[customer_id] = profile.name if profile and profile.name else None
        return self._names[customer_id]
