"""The ledger table: one item collection per invoice (``pk = INV#<number>``).

Items: ``#INVOICE``, ``PAY#<payment id>``, ``RCPT#<receipt number>``, ``EVT#<time>#<event id>``
and ``MSG#<change id>#<channel>``; counters live at ``pk = SERIES#<series>#<year>``.
GSI ``gsi1`` finds a payment (``PAY#<id>``) or a receipt (``RCPT#<number>``) by its own id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from quittance.aws.errors import cancellation_codes, error_code
from quittance.aws.items import from_item, to_item
from quittance.errors import AlreadyExists, NotFound
from quittance.ledger.model import Invoice, Payment, ReceiptRecord
from quittance.ledger.service import PaymentAlreadyRecorded, WriteConflict
from quittance.models.events import PaymentEvent

INVOICE_SK = "#INVOICE"
COUNTER_SK = "#COUNTER"


def invoice_pk(number: str) -> str:
    return f"INV#{number}"


class LedgerTable:
    def __init__(self, name: str, client: Any) -> None:
        self.name = name
        self._client = client

    # -------------------------------------------------------------- reads
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self.name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def get_invoice(self, number: str) -> Invoice | None:
        item = self._get(invoice_pk(number), INVOICE_SK)
        return Invoice.model_validate(item["data"]) if item else None

    def get_payment(self, invoice_number: str, payment_id: str) -> Payment | None:
        item = self._get(invoice_pk(invoice_number), f"PAY#{payment_id}")
        return Payment.model_validate(item["data"]) if item else None

    def get_receipt(self, invoice_number: str, number: str) -> ReceiptRecord | None:
        item = self._get(invoice_pk(invoice_number), f"RCPT#{number}")
        return ReceiptRecord.model_validate(item["data"]) if item else None

    def receipt_item(self, number: str) -> dict[str, Any]:
        """The whole stored receipt item (record and archive fields), found by its number."""
        response = self._client.query(
            TableName=self.name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues=to_item({":pk": f"RCPT#{number}"}),
            Limit=1,
        )
        items = response.get("Items", [])
        if not items:
            raise NotFound(f"no receipt {number}")
        # The index is eventually consistent; read the item itself for the current state.
        key = from_item(items[0])
        item = self._get(key["pk"], key["sk"])
        if item is None:
            raise NotFound(f"no receipt {number}")
        return item

    def counter(self, series: str, year: int) -> int:
        item = self._get(f"SERIES#{series}#{year}", COUNTER_SK)
        return int(item["last"]) if item else 0

    # -------------------------------------------------------------- writes
    def commit_payment(
        self,
        *,
        before: Invoice | None,
        after: Invoice,
        payment: Payment,
        receipt: ReceiptRecord,
        series: str,
        year: int,
        counter_before: int,
        event: PaymentEvent,
    ) -> None:
        pk = invoice_pk(after.number)
        now = receipt.issued_at.isoformat()
        invoice_condition: dict[str, Any]
        if before is None:
            invoice_condition = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            invoice_condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": to_item({":v": before.version}),
            }
        counter_key = {"pk": f"SERIES#{series}#{year}", "sk": COUNTER_SK}
        counter_condition: dict[str, Any]
        if counter_before == 0:
            counter_condition = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            counter_condition = {
                "ConditionExpression": "#last = :before",
                "ExpressionAttributeNames": {"#last": "last"},
                "ExpressionAttributeValues": to_item({":before": counter_before}),
            }
        items = [
            {
                "Put": {
                    "TableName": self.name,
                    "Item": to_item(
                        {
                            "pk": pk,
                            "sk": f"PAY#{payment.payment_id}",
                            "gsi1pk": f"PAY#{payment.payment_id}",
                            "gsi1sk": pk,
                            "type": "payment",
                            "data": payment.model_dump(mode="json"),
                            "created_at": now,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.name,
                    "Item": to_item(
                        {
                            "pk": pk,
                            "sk": INVOICE_SK,
                            "type": "invoice",
                            "version": after.version,
                            "status": after.status.value,
                            "customer_id": after.customer_id,
                            "data": after.model_dump(mode="json"),
                            "updated_at": now,
                        }
                    ),
                    **invoice_condition,
                }
            },
            {
                "Put": {
                    "TableName": self.name,
                    "Item": to_item({**counter_key, "type": "counter", "last": counter_before + 1}),
                    **counter_condition,
                }
            },
            {
                "Put": {
                    "TableName": self.name,
                    "Item": to_item(
                        {
                            "pk": pk,
                            "sk": f"RCPT#{receipt.receipt_number}",
                            "gsi1pk": f"RCPT#{receipt.receipt_number}",
                            "gsi1sk": pk,
                            "type": "receipt",
                            "data": receipt.model_dump(mode="json"),
                            "created_at": now,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.name,
                    "Item": to_item(
                        {
                            "pk": pk,
                            "sk": f"EVT#{event.occurred_at.isoformat()}#{event.event_id}",
                            "type": "event",
                            "event_type": event.type.value,
                            "provider": event.provider,
                            "event_id": event.event_id,
                            "payment_id": event.payment_id,
                            "amount": event.amount.model_dump(mode="json"),
                            "applied": True,
                            "recorded_at": now,
                        }
                    ),
                }
            },
        ]
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                codes = cancellation_codes(exc)
                if codes and codes[0] == "ConditionalCheckFailed":
                    raise PaymentAlreadyRecorded(payment.payment_id) from None
                raise WriteConflict(",".join(codes)) from None
            if error_code(exc) in {"TransactionConflictException", "ConditionalCheckFailed"}:
                raise WriteConflict(error_code(exc)) from None
            raise

    def record_event(self, invoice_number: str, event: PaymentEvent, now: datetime) -> None:
        self._client.put_item(
            TableName=self.name,
            Item=to_item(
                {
                    "pk": invoice_pk(invoice_number),
                    "sk": f"EVT#{event.occurred_at.isoformat()}#{event.event_id}",
                    "type": "event",
                    "event_type": event.type.value,
                    "provider": event.provider,
                    "event_id": event.event_id,
                    "payment_id": event.payment_id,
                    "amount": event.amount.model_dump(mode="json"),
                    "applied": False,
                    "recorded_at": now.isoformat(),
                }
            ),
        )

    def record_archive(self, invoice_number: str, number: str, archive: dict[str, Any]) -> None:
        """Attach the archived object to its receipt, once."""
        try:
            self._client.update_item(
                TableName=self.name,
                Key=to_item({"pk": invoice_pk(invoice_number), "sk": f"RCPT#{number}"}),
                UpdateExpression="SET #archive = :a",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#archive)",
                ExpressionAttributeNames={"#archive": "archive"},
                ExpressionAttributeValues=to_item({":a": archive}),
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise AlreadyExists(f"receipt {number} already archived") from None
            raise

    def record_message(
        self,
        invoice_number: str,
        change_id: str,
        channel: str,
        values: dict[str, Any],
        expires_at: datetime,
    ) -> None:
        """Notification log entry, kept ~13 months (TTL), without message content."""
        self._client.put_item(
            TableName=self.name,
            Item=to_item(
                {
                    "pk": invoice_pk(invoice_number),
                    "sk": f"MSG#{change_id}#{channel}",
                    "type": "message",
                    **values,
                    "expires_at": int(expires_at.timestamp()),
                }
            ),
        )
