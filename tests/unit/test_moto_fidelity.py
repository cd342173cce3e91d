"""The local stack's DynamoDB keeps every write, as DynamoDB does, while transactions on the
same table are cancelled from other threads (moto alone loses them: see moto_fidelity)."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import Item

from quittance_ops.localstack.moto_fidelity import serialise_dynamodb

REGION = "eu-west-3"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    serialise_dynamodb()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="profiles",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        # A table with some weight: moto's snapshot of it takes long enough to be overtaken.
        for n in range(300):
            client.put_item(
                TableName="profiles", Item={"pk": {"S": f"old-{n}"}, "v": {"S": "x" * 200}}
            )
        yield client


def test_no_write_is_undone_by_a_transaction_cancelled_beside_it(table: Any) -> None:
    # Given one thread whose transactions are all cancelled (a condition fails)
    errors: list[BaseException] = []

    def cancelled() -> None:
        for n in range(100):
            try:
                table.transact_write_items(
                    TransactItems=[
                        {
                            "ConditionCheck": {
                                "TableName": "profiles",
                                "Key": {"pk": {"S": "KEY#absent"}},
                                "ConditionExpression": "attribute_exists(pk)",
                            }
                        },
                        {"Put": {"TableName": "profiles", "Item": {"pk": {"S": f"tx-{n}"}}}},
                    ]
                )
            except table.exceptions.TransactionCanceledException:
                continue  # expected: the condition fails every time
            except BaseException as exc:  # anything else is what this test is about
                errors.append(exc)

    # and another writing profiles meanwhile (as intake seals a customer's contact)
    def writes() -> None:
        for n in range(100):
            table.put_item(TableName="profiles", Item={"pk": {"S": f"CUST#{n}"}})

    threads = [threading.Thread(target=cancelled), threading.Thread(target=writes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every write is there, no cancelled transaction left anything, nothing crashed
    kept = [
        n
        for n in range(100)
        if "Item" in table.get_item(TableName="profiles", Key={"pk": {"S": f"CUST#{n}"}})
    ]
    assert len(kept) == 100
    assert "Item" not in table.get_item(TableName="profiles", Key={"pk": {"S": "tx-0"}})
    assert errors == []


def test_transactions_do_not_keep_a_copy_of_the_table_each(table: Any) -> None:
    # Given a table of 300 items, When 40 transactions run (half of them cancelled)
    for n in range(40):
        check = "attribute_exists(pk)" if n % 2 else "attribute_not_exists(pk)"
        with contextlib.suppress(table.exceptions.TransactionCanceledException):
            table.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": "profiles",
                            "Key": {"pk": {"S": "old-0"}},
                            "ConditionExpression": check,
                        }
                    }
                ]
            )
    # Then the process holds about one table's items, not one copy per transaction (moto's
    # instance tracking alone kept 40 × 300 of them, and a long local run was killed for it)
    gc.collect()
    alive = sum(1 for o in gc.get_objects() if isinstance(o, Item))
    assert alive < 2 * 300, alive


def test_a_cancelled_transaction_puts_back_exactly_what_it_touched(table: Any) -> None:
    # Given an item the transaction will update, one it will delete, and one it will create,
    table.put_item(TableName="profiles", Item={"pk": {"S": "counter"}, "n": {"N": "7"}})
    table.put_item(TableName="profiles", Item={"pk": {"S": "doomed"}, "v": {"S": "kept"}})
    # When its last operation's condition fails after the first three were applied
    with pytest.raises(table.exceptions.TransactionCanceledException):
        table.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "profiles",
                        "Key": {"pk": {"S": "counter"}},
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Delete": {"TableName": "profiles", "Key": {"pk": {"S": "doomed"}}}},
                {"Put": {"TableName": "profiles", "Item": {"pk": {"S": "fresh"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "profiles",
                        "Key": {"pk": {"S": "KEY#absent"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )

    # Then each is as it was before, and the rest of the table is untouched
    def item(pk: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = table.get_item(
            TableName="profiles", Key={"pk": {"S": pk}}
        ).get("Item")
        return found

    assert item("counter") == {"pk": {"S": "counter"}, "n": {"N": "7"}}
    assert item("doomed") == {"pk": {"S": "doomed"}, "v": {"S": "kept"}}
    assert item("fresh") is None
    assert table.scan(TableName="profiles", Select="COUNT")["Count"] == 302


def test_a_committed_transaction_applies_every_operation(table: Any) -> None:
    table.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "profiles", "Item": {"pk": {"S": "a"}}}},
            {"Delete": {"TableName": "profiles", "Key": {"pk": {"S": "old-1"}}}},
        ]
    )
    assert "Item" in table.get_item(TableName="profiles", Key={"pk": {"S": "a"}})
    assert "Item" not in table.get_item(TableName="profiles", Key={"pk": {"S": "old-1"}})


def test_a_query_on_the_table_key_reads_its_partition_in_order_page_by_page(table: Any) -> None:
    # Given a ledger-shaped table (pk, sk) with several partitions
    table.create_table(
        TableName="ledger",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for invoice in ("INV#2", "INV#1", "INV#3"):
        for sk in ("EVENT#b", "INVOICE", "EVENT#a", "DOC#1"):
            table.put_item(TableName="ledger", Item={"pk": {"S": invoice}, "sk": {"S": sk}})

    def query(**extra: Any) -> list[str]:
        found: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": "ledger",
            "KeyConditionExpression": "pk = :pk" + extra.pop("condition", ""),
            "ExpressionAttributeValues": {":pk": {"S": "INV#1"}, **extra.pop("values", {})},
            "Limit": 2,
            **extra,
        }
        while True:
            page = table.query(**kwargs)
            found += [f"{i['pk']['S']} {i['sk']['S']}" for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # Then a query returns that partition only, sorted, across pages, both ways
    assert query() == ["INV#1 DOC#1", "INV#1 EVENT#a", "INV#1 EVENT#b", "INV#1 INVOICE"]
    assert query(ScanIndexForward=False)[0] == "INV#1 INVOICE"
    assert query(condition=" AND begins_with(sk, :e)", values={":e": {"S": "EVENT#"}}) == [
        "INV#1 EVENT#a",
        "INV#1 EVENT#b",
    ]
    # and a scan still sees the whole table
    assert table.scan(TableName="ledger", Select="COUNT")["Count"] == 12
