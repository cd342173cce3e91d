"""The ledger's documents as stored (``RCPT#<number>`` items): found by number (its key, or
index gsi1), by the UTC day they were collected (gsi2, ``DAY#<day>``), and the archived
original and translation attached to them, once each."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from quittance.aws.batch_reads import items_by_key
from quittance.aws.errors import error_code
from quittance.aws.items import from_item, to_item
from quittance.aws.ledger_items import LedgerItems, invoice_pk
from quittance.errors import AlreadyExists, NotFound
from quittance.ledger.model import ArchivedCopy, ReceiptRecord, StoredReceipt


def stored_receipt_of(item: dict[str, Any]) -> StoredReceipt:
    """A ``RCPT#`` item as the domain reads it; its record JSON text or already parsed."""
    rest = dict(item)
    data, archive, translation = (
        rest.pop("data"),
        rest.pop("archive", None),
        rest.pop("translation", None),
    )
    return StoredReceipt(
        record=ReceiptRecord.model_validate_json(data)
        if isinstance(data, str)
        else ReceiptRecord.model_validate(data),
        archive=ArchivedCopy.model_validate(archive) if archive else None,
        translation=ArchivedCopy.model_validate(translation) if translation else None,
        stored={k: v for k, v in rest.items() if not k.startswith("gsi")},
    )


class ReceiptRecords(LedgerItems):
    """Serves ``receipts.issuance.ReceiptLedger`` (with the registrations),
    ``ledger.export.BooksLedger`` and the desk's receipt reads."""

    def stored_receipt(self, number: str, invoice_number: str | None = None) -> StoredReceipt:
        """The document found by its number (see receipt_item), typed."""
        return stored_receipt_of(self.receipt_item(number, invoice_number))

    def receipt_item(self, number: str, invoice_number: str | None = None) -> dict[str, Any]:
        """The whole stored receipt item (record and archive fields), found by its number, as
        a plain mapping (notify's dispatch and the operator tools read it so).

        Given the invoice it belongs to (a receipt job and a notification carry it), one
        consistent GetItem on its key; otherwise, or if it is not under that invoice, found
        through the index first."""
        if invoice_number is not None:
            direct = self._get(invoice_pk(invoice_number), f"RCPT#{number}")
            if direct is not None:
                return {**direct, "data": json.loads(direct["data"])}
        key = self._by_own_id(f"RCPT#{number}")
        if key is None:
            raise NotFound(f"no receipt {number}")
        # The index is eventually consistent; read the item itself for the current state.
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
