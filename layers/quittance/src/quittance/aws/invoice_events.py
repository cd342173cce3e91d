"""An invoice's change log: each payment event committed in one transaction with what it
changed (the ``#INVOICE`` item and its summary, the documents it numbered, their series
counters, anomalies, the payment's index entry), and the invoice read back from it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from botocore.exceptions import ClientError

from quittance.aws.errors import cancellation_codes, error_code
from quittance.aws.invoice_indexes import activity_index, customer_index, open_index, view_due
from quittance.aws.items import to_item
from quittance.aws.ledger_items import INVOICE_SK, LedgerItems, invoice_pk
from quittance.aws.series_counters import counter_put
from quittance.ledger.invoices import InvoiceRegistration
from quittance.ledger.model import InvoiceRecord, InvoiceSummary, ReceiptRecord
from quittance.ledger.service import Commit, EventAlreadyApplied, WriteConflict
from quittance.ledger.state import InvoiceTerms
from quittance.models.events import PaymentEvent
from quittance.models.money import Money


class InvoiceEvents(LedgerItems):
    """Serves ``ledger.service.LedgerStore``, ``ledger.invoices.InvoiceBook.load`` and the
    customer's invoices (``privacy.export.Ledger``, ``privacy.erasure.CustomerInvoices``)."""

    def invoice_for_payment(self, payment_id: str) -> str | None:
        found = self._by_own_id(f"PAY#{payment_id}")
        return str(found["pk"]).removeprefix("INV#") if found else None

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

    def get_invoice(self, number: str) -> InvoiceSummary | None:
        item = self._get(invoice_pk(number), INVOICE_SK)
        return InvoiceSummary.model_validate_json(item["summary"]) if item else None

    def receipt_for_payment(self, invoice_number: str, payment_id: str) -> ReceiptRecord | None:
        record = self.load(invoice_number)
        return record.receipt_for(payment_id) if record else None

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
        items += [
            counter_put(self.name, series, year, read, written)
            for (series, year), (read, written) in commit.counters.items()
        ]
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

    def _invoice_update(self, pk: str, commit: Commit, summary: InvoiceSummary) -> dict[str, Any]:
        values: dict[str, Any] = {
            ":version": (commit.version_before or 0) + 1,
            ":status": summary.status.value,
            ":summary": summary.model_dump_json(),
            ":type": "invoice",
        }
        sets = "#version = :version, #status = :status, #summary = :summary, #type = :type"
        sets += customer_index(commit.invoice_number, commit.customer_id, values)
        sets += activity_index(commit.invoice_number, commit.activity_at, values)
        update = f"SET {sets}" + open_index(
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
