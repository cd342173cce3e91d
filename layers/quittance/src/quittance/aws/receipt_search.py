"""Finding receipts and credit notes for staff: every question is a key or an index of the
ledger table, never a Scan (see docs/compliance.md for which serves which filter)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from quittance.aws.batch_reads import items_by_key
from quittance.aws.items import from_item, to_item
from quittance.aws.receipt_records import stored_receipt_of
from quittance.ledger.model import StoredReceipt

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient


class ReceiptIndex:
    def __init__(self, table: str, client: DynamoDBClient) -> None:
        self.table = table
        self._client = client

    def _pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        kwargs["TableName"] = self.table
        while True:
            page = self._client.query(**kwargs)
            yield from (from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def by_number(self, number: str) -> list[StoredReceipt]:
        """gsi1 ``RCPT#<number>``, then the item itself for a consistent read."""
        keys = list(
            self._pages(
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :pk",
                ExpressionAttributeValues=to_item({":pk": f"RCPT#{number}"}),
            )
        )
        found = []
        for key in keys:
            item = self._client.get_item(
                TableName=self.table,
                Key=to_item({"pk": key["pk"], "sk": key["sk"]}),
                ConsistentRead=True,
            ).get("Item")
            if item:
                found.append(stored_receipt_of(from_item(item)))
        return found

    def by_invoice(self, invoice_number: str) -> list[StoredReceipt]:
        """Table key: ``pk = INV#<n>``, ``sk`` begins with ``RCPT#``."""
        return [
            stored_receipt_of(item)
            for item in self._pages(
                KeyConditionExpression="pk = :pk AND begins_with(sk, :r)",
                ExpressionAttributeValues=to_item({":pk": f"INV#{invoice_number}", ":r": "RCPT#"}),
                ConsistentRead=True,
            )
        ]

    def by_payment(self, payment_id: str) -> list[StoredReceipt]:
        """gsi1 ``PAY#<id>`` gives the invoice, whose documents are then read by key."""
        invoices = {
            str(item["gsi1sk"]).removeprefix("INV#")
            for item in self._pages(
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :pk",
                ExpressionAttributeValues=to_item({":pk": f"PAY#{payment_id}"}),
            )
        }
        return [
            doc
            for invoice in sorted(invoices)
            for doc in self.by_invoice(invoice)
            if doc.record.payment_id == payment_id
        ]

    def by_customer(self, customer_id: str) -> list[StoredReceipt]:
        """gsi3 ``CUST#<id>`` gives the customer's invoices, whose documents are read by key."""
        invoices = [
            str(item["gsi3sk"])
            for item in self._pages(
                IndexName="gsi3",
                KeyConditionExpression="gsi3pk = :pk",
                ExpressionAttributeValues=to_item({":pk": f"CUST#{customer_id}"}),
            )
        ]
        return [doc for invoice in invoices for doc in self.by_invoice(invoice)]

    def day_page(
        self, day: date, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[StoredReceipt], dict[str, Any] | None]:
        """One page of gsi2 ``DAY#<date>`` (documents collected that UTC day, in time order)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :day",
            "ExpressionAttributeValues": to_item({":day": f"DAY#{day.isoformat()}"}),
            "Limit": limit,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = self._client.query(**kwargs)
        # The index copies keys only: the documents are read by key, in its order.
        keys = [{"pk": i["pk"], "sk": i["sk"]} for i in page.get("Items", [])]
        documents = items_by_key(self._client, self.table, keys)
        return [stored_receipt_of(from_item(i)) for i in documents], page.get("LastEvaluatedKey")

    def by_days(self, first: date, last: date) -> Iterator[StoredReceipt]:
        day = first
        while day <= last:
            start: dict[str, Any] | None = None
            while True:
                docs, start = self.day_page(day, 500, start)
                yield from docs
                if not start:
                    break
            day += timedelta(days=1)
