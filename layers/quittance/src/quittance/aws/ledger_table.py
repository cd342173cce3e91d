"""The ledger table: one item collection per invoice (``pk = INV#<number>``).

Items: ``#INVOICE``, ``PAY#<payment id>``, ``RCPT#<receipt number>``, ``EVT#<time>#<event id>``
and ``MSG#<change id>#<channel>``; counters live at ``pk = SERIES#<series>#<year>``.
GSI ``gsi1`` finds a payment (``PAY#<id>``) or a receipt (``RCPT#<number>``) by its own id."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from quittance.aws.batch_reads import items_by_key
from quittance.aws.errors import cancellation_codes, error_code
from quittance.aws.items import from_item, to_item
from quittance.errors import AlreadyExists, NotFound
from quittance.ledger.invoices import InvoiceRegistration
from quittance.ledger.model import InvoiceRecord, InvoiceSummary, ReceiptRecord
from quittance.ledger.service import Commit, EventAlreadyApplied, WriteConflict
from quittance.ledger.state import OPEN_STATUSES, InvoiceStatus, InvoiceTerms
from quittance.models.events import PaymentEvent
from quittance.models.money import Money
from quittance.reminders import InvoiceStanding

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient


def view_due(commit: Commit) -> date | None:
    return commit.view.terms.due_date if commit.view.terms.registered else None


def _open_index(
    number: str, status: InvoiceStatus, due: date | None, values: dict[str, Any]
) -> str:
    """SET the sparse open-invoice keys while the invoice waits for money, else REMOVE them."""
    if due is not None and status in OPEN_STATUSES:
        values[":open_pk"] = f"OPEN#{due:%Y-%m}"
        values[":open_sk"] = f"{due.isoformat()}#{number}"
        return ", gsi4pk = :open_pk, gsi4sk = :open_sk"
    return " REMOVE gsi4pk, gsi4sk"


def _customer_index(number: str, customer_id: str | None, values: dict[str, Any]) -> str:
    """SET the invoice's customer and its gsi3 keys unless it already has one."""
    if customer_id is None:
        return ""
    values[":customer"] = customer_id
    values[":customer_key"] = f"CUST#{customer_id}"
    values[":number"] = number
    return (
        ", customer_id = if_not_exists(customer_id, :customer),"
        " gsi3pk = if_not_exists(gsi3pk, :customer_key), gsi3sk = :number"
    )


# Nested records (documents, the invoice summary, events) are stored as JSON text: no query
# reads inside them (keys and gsi1 serve every access pattern), and text items stay cheap to
# read, write and back up.
INVOICE_SK = "#INVOICE"
COUNTER_SK = "#COUNTER"


def _activity_index(number: str, at: datetime, values: dict[str, Any]) -> str:
    """The invoice under the UTC day of its newest activity (gsi2, ``ACT#<day>``): the books of
    a year are found by the day they were last touched, for their retirement."""
    values[":activity_at"] = at.isoformat()
    values[":activity_pk"] = f"ACT#{at.astimezone(UTC).date().isoformat()}"
    values[":activity_sk"] = number
    return ", activity_at = :activity_at, gsi2pk = :activity_pk, gsi2sk = :activity_sk"


def invoice_pk(number: str) -> str:
    return f"INV#{number}"


class LedgerTable:
    def __init__(self, name: str, client: DynamoDBClient) -> None:
        self.name = name
        self._client = client

    # -------------------------------------------------------------- reads
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self.name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=True
        )
        item = response.get("Item")
        return from_item(item) if item else None

    def _collection(self, number: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": invoice_pk(number)}),
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**kwargs)
            items.extend(from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def collection(self, number: str) -> list[dict[str, Any]]:
        """Every item of the invoice as stored (consistent read), for its retirement."""
        return self._collection(number)

    def invoice_for_payment(self, payment_id: str) -> str | None:
        response = self._client.query(
            TableName=self.name,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues=to_item({":pk": f"PAY#{payment_id}"}),
            Limit=1,
        )
        items = response.get("Items", [])
        return str(from_item(items[0])["pk"]).removeprefix("INV#") if items else None

    def load(self, number: str) -> InvoiceRecord | None:
        items = self._collection(number)
        invoice = next((i for i in items if i["sk"] == INVOICE_SK), None)
        if invoice is None:
            return None
        events = [i for i in items if i.get("type") == "event"]
        terms = invoice.get("terms")
        registration = (terms or {}).get("registration")
        return InvoiceRecord(
            number=number,
            version=int(invoice["version"]),
            registered_terms=InvoiceTerms(
                number=number,
                amount_due=Money.model_validate(terms["amount_due"]),
                registered=True,
                cancelled=bool(terms.get("cancelled", False)),
                due_date=date.fromisoformat(terms["due_date"]) if terms.get("due_date") else None,
            )
            if terms
            else None,
            registered_taxation=InvoiceRegistration.model_validate_json(registration).taxation()
            if registration
            else None,
            customer_id=invoice.get("customer_id"),
            events=tuple(PaymentEvent.model_validate_json(i["event"]) for i in events),
            documents=tuple(
                ReceiptRecord.model_validate_json(i["data"])
                for i in items
                if i.get("type") in {"receipt", "credit_note"}
            ),
            reported_anomalies=frozenset(invoice.get("anomalies") or ()),
            outcomes={i["event_id"]: list(i.get("outcome") or []) for i in events},
            activity_at=datetime.fromisoformat(invoice["activity_at"])
            if invoice.get("activity_at")
            else None,
        )

    def messages(self, number: str) -> list[dict[str, Any]]:
        """The invoice's notification log: what was sent, on which channel, with what result."""
        return [i for i in self._collection(number) if i.get("type") == "message"]

    def get_invoice(self, number: str) -> InvoiceSummary | None:
        item = self._get(invoice_pk(number), INVOICE_SK)
        return InvoiceSummary.model_validate_json(item["summary"]) if item else None

    def registration(self, number: str) -> InvoiceRegistration | None:
        item = self._get(invoice_pk(number), INVOICE_SK)
        terms = (item or {}).get("terms") or {}
        raw = terms.get("registration")
        return InvoiceRegistration.model_validate_json(raw) if raw else None

    def receipt_for_payment(self, invoice_number: str, payment_id: str) -> ReceiptRecord | None:
        record = self.load(invoice_number)
        return record.receipt_for(payment_id) if record else None

    def receipt_item(self, number: str, invoice_number: str | None = None) -> dict[str, Any]:
        """The whole stored receipt item (record and archive fields), found by its number.

        Given the invoice it belongs to (a receipt job and a notification carry it), one
        consistent GetItem on its key; otherwise, or if it is not under that invoice, found
        through the index first."""
        if invoice_number is not None:
            direct = self._get(invoice_pk(invoice_number), f"RCPT#{number}")
            if direct is not None:
                return {**direct, "data": json.loads(direct["data"])}
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
        return {**item, "data": json.loads(item["data"])}

    def documents_on(self, day: date) -> list[ReceiptRecord]:
        """Receipts and credit notes collected on a UTC day, in time order (index gsi2)."""
        found: list[ReceiptRecord] = []
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :day",
            "ExpressionAttributeValues": to_item({":day": f"DAY#{day.isoformat()}"}),
        }
        while True:
            page = self._client.query(**kwargs)
            # The index copies keys only: the documents are read by key, in its order.
            keys = [{"pk": i["pk"], "sk": i["sk"]} for i in page["Items"]]
            found.extend(
                ReceiptRecord.model_validate_json(from_item(i)["data"])
                for i in items_by_key(self._client, self.name, keys)
            )
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def last_active_on(
        self, day: date, after: dict[str, Any] | None, limit: int
    ) -> tuple[list[str], dict[str, Any] | None]:
        """Up to ``limit`` invoices whose newest activity fell on a UTC day, from ``after`` (a
        key this method returned); the key to go on from, or None when the day is done
        (index gsi2, ``ACT#<day>``)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :day",
            "ExpressionAttributeValues": to_item({":day": f"ACT#{day.isoformat()}"}),
            "ProjectionExpression": "pk",
            "Limit": limit,
        }
        if after:
            kwargs["ExclusiveStartKey"] = after
        page = self._client.query(**kwargs)
        found = [str(from_item(i)["pk"]).removeprefix("INV#") for i in page["Items"]]
        return found, page.get("LastEvaluatedKey")

    def counter(self, series: str, year: int) -> int:
        item = self._get(f"SERIES#{series}#{year}", COUNTER_SK)
        return int(item["last"]) if item else 0

    # -------------------------------------------------------------- writes
    def commit(self, commit: Commit) -> None:
        pk = invoice_pk(commit.invoice_number)
        event = commit.event
        now = (commit.documents[0].issued_at if commit.documents else event.occurred_at).isoformat()
        view = commit.view
        summary = InvoiceSummary(
            number=commit.invoice_number,
            status=view.status,
            amount_due=view.terms.amount_due,
            amount_paid=view.paid,
            refunded=view.refunded,
            balance_due=view.balance_due,
            registered=view.terms.registered,
            customer_id=commit.customer_id,
        )
        # Built as plain dicts (their attribute values come from to_item), so typed loosely.
        items: list[Any] = [
            {
                "Put": {
                    "TableName": self.name,
                    "Item": to_item(
                        {
                            "pk": pk,
                            "sk": f"EVT#{event.occurred_at.isoformat()}#{event.event_id}",
                            "type": "event",
                            "event_id": event.event_id,
                            "event_type": event.type.value,
                            "provider": event.provider,
                            "payment_id": event.payment_id,
                            "event": event.model_dump_json(),
                            "outcome": commit.produced,
                            "backwards": event.event_id in view.backwards,
                            "recorded_at": now,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            self._invoice_update(pk, commit, summary),
        ]
        for (series, year), (read, written) in commit.counters.items():
            condition: dict[str, Any] = (
                {"ConditionExpression": "attribute_not_exists(pk)"}
                if read == 0
                else {
                    "ConditionExpression": "#last = :read",
                    "ExpressionAttributeNames": {"#last": "last"},
                    "ExpressionAttributeValues": to_item({":read": read}),
                }
            )
            items.append(
                {
                    "Put": {
                        "TableName": self.name,
                        "Item": to_item(
                            {
                                "pk": f"SERIES#{series}#{year}",
                                "sk": COUNTER_SK,
                                "type": "counter",
                                "last": written,
                            }
                        ),
                        **condition,
                    }
                }
            )
        for document in commit.documents:
            items.append(
                {
                    "Put": {
                        "TableName": self.name,
                        "Item": to_item(
                            {
                                "pk": pk,
                                "sk": f"RCPT#{document.receipt_number}",
                                "gsi1pk": f"RCPT#{document.receipt_number}",
                                "gsi1sk": pk,
                                "gsi2pk": f"DAY#{document.paid_at:%Y-%m-%d}",
                                "gsi2sk": (
                                    f"{document.paid_at.isoformat()}#{document.receipt_number}"
                                ),
                                "type": document.kind,
                                "data": document.model_dump_json(),
                                "created_at": now,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        for anomaly in commit.anomalies:
            items.append(
                {
                    "Put": {
                        "TableName": self.name,
                        "Item": to_item(
                            {
                                "pk": pk,
                                "sk": f"ANOM#{anomaly.key}",
                                "type": "anomaly",
                                "kind": anomaly.kind.value,
                                "payment_id": anomaly.payment_id,
                                "amount": anomaly.amount.model_dump(mode="json"),
                                "difference": anomaly.difference.model_dump(mode="json")
                                if anomaly.difference
                                else None,
                                "event_id": event.event_id,
                                "detected_at": now,
                            }
                        ),
                    }
                }
            )
        for payment_id in commit.new_payment_ids:
            items.append(
                {
                    "Put": {
                        "TableName": self.name,
                        "Item": to_item(
                            {
                                "pk": pk,
                                "sk": f"PAY#{payment_id}",
                                "gsi1pk": f"PAY#{payment_id}",
                                "gsi1sk": pk,
                                "type": "payment_index",
                            }
                        ),
                    }
                }
            )
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                codes = cancellation_codes(exc)
                if codes and codes[0] == "ConditionalCheckFailed":
                    raise EventAlreadyApplied(event.event_id) from None
                raise WriteConflict(",".join(codes)) from None
            if error_code(exc) == "TransactionConflictException":
                raise WriteConflict(error_code(exc)) from None
            raise

    def invoices_of_customer(self, customer_id: str) -> list[InvoiceSummary]:
        """Every invoice of a customer (index gsi3), by invoice number."""
        return [
            InvoiceSummary.model_validate_json(item["summary"])
            for item in self._query_index("gsi3", "gsi3pk", f"CUST#{customer_id}")
        ]

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

    def _query_index(self, index: str, key: str, value: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": index,
            "KeyConditionExpression": f"{key} = :v",
            "ExpressionAttributeValues": to_item({":v": value}),
        }
        while True:
            page = self._client.query(**kwargs)
            items.extend(from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _invoice_update(self, pk: str, commit: Commit, summary: InvoiceSummary) -> dict[str, Any]:
        values: dict[str, Any] = {
            ":version": (commit.version_before or 0) + 1,
            ":status": summary.status.value,
            ":summary": summary.model_dump_json(),
            ":type": "invoice",
        }
        sets = "#version = :version, #status = :status, #summary = :summary, #type = :type"
        sets += _customer_index(commit.invoice_number, commit.customer_id, values)
        sets += _activity_index(commit.invoice_number, commit.activity_at, values)
        update = f"SET {sets}" + _open_index(
            commit.invoice_number, summary.status, view_due(commit), values
        )
        if commit.anomalies:
            update += " ADD anomalies :anomalies"
            values[":anomalies"] = {a.key for a in commit.anomalies}
        if commit.version_before is None:
            condition = "attribute_not_exists(pk)"
        else:
            condition = "#version = :before"
            values[":before"] = commit.version_before
        return {
            "Update": {
                "TableName": self.name,
                "Key": to_item({"pk": pk, "sk": INVOICE_SK}),
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {
                    "#version": "version",
                    "#status": "status",
                    "#summary": "summary",
                    "#type": "type",
                },
                "ExpressionAttributeValues": to_item(values),
            }
        }

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
        customer = _customer_index(number, summary.customer_id, values)
        try:
            self._client.update_item(
                TableName=self.name,
                Key=to_item({"pk": invoice_pk(number), "sk": INVOICE_SK}),
                UpdateExpression=(
                    "SET #version = :version, terms = :terms, #summary = :summary,"
                    " #status = :status, #type = :type, registered_at = :at"
                    + customer
                    + _activity_index(number, activity_at, values)
                    + _open_index(number, summary.status, registration.due_date, values)
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

    def record_archive(self, invoice_number: str, number: str, archive: dict[str, Any]) -> None:
        """Attach the archived original to its receipt, once."""
        self._attach_once(invoice_number, number, "archive", archive)

    def record_translation(self, invoice_number: str, number: str, archive: dict[str, Any]) -> None:
        """Attach the archived translated copy to its receipt, once."""
        self._attach_once(invoice_number, number, "translation", archive)

    def _attach_once(
        self, invoice_number: str, number: str, attribute: str, archive: dict[str, Any]
    ) -> None:
        try:
            self._client.update_item(
                TableName=self.name,
                Key=to_item({"pk": invoice_pk(invoice_number), "sk": f"RCPT#{number}"}),
                UpdateExpression="SET #a = :a",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(#a)",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues=to_item({":a": archive}),
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise AlreadyExists(f"receipt {number} already has its {attribute}") from None
            raise

    def message_sent(self, invoice_number: str, change_id: str, channel: str) -> bool:
        item = self._get(invoice_pk(invoice_number), f"MSG#{change_id}#{channel}")
        return bool(item and item.get("status") == "sent")

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

    def message(self, invoice_number: str, change_id: str, channel: str) -> dict[str, Any] | None:
        """One notification log entry, as notify wrote it (and feedback completed it)."""
        return self._get(invoice_pk(invoice_number), f"MSG#{change_id}#{channel}")

    def record_delivery(
        self,
        invoice_number: str,
        change_id: str,
        channel: str,
        *,
        status: str,
        provider_message_id: str,
        at: datetime,
        detail: str | None,
        replaceable: Collection[str],
    ) -> Literal["recorded", "kept", "unknown"]:
        """What the provider reported about a sent message, on its log entry: kept apart from
        ``status`` (what notify did, which its once-per-change check reads). Written only over
        no report or one of ``replaceable``, so a late "delivered" never hides a "bounced";
        only on the entry that holds this provider message id.

        Returns "recorded", "kept" (a report that outranks this one is there) or "unknown"
        (no such entry, or it names another provider message)."""
        values: dict[str, Any] = {
            ":status": status,
            ":at": at.isoformat(),
            ":mid": provider_message_id,
            ":detail": detail,
        }
        placeholders = []
        for i, name in enumerate(sorted(replaceable)):
            values[f":r{i}"] = name
            placeholders.append(f":r{i}")
        replace = f" OR #delivery IN ({', '.join(placeholders)})" if placeholders else ""
        try:
            self._client.update_item(
                TableName=self.name,
                Key=to_item({"pk": invoice_pk(invoice_number), "sk": f"MSG#{change_id}#{channel}"}),
                UpdateExpression="SET #delivery = :status, delivery_at = :at"
                + (", delivery_detail = :detail" if detail else " REMOVE delivery_detail"),
                ConditionExpression=(
                    "attribute_exists(pk) AND provider_message_id = :mid"
                    f" AND (attribute_not_exists(#delivery){replace})"
                ),
                ExpressionAttributeNames={"#delivery": "delivery_status"},
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            current = self.message(invoice_number, change_id, channel)
            if current is None or current.get("provider_message_id") != provider_message_id:
                return "unknown"
            return "kept"
        return "recorded"

    # -------------------------------------------------------------- reminders
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
