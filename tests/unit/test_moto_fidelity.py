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
