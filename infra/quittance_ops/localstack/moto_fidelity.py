"""Where moto's DynamoDB does what DynamoDB never does, and the mends for it.

moto's ``transact_write_items`` snapshots every table it touches (a deep copy), applies the
items one by one and, when a condition fails, puts the snapshot back. Nothing locks the
tables meanwhile: a write another thread made between the snapshot and the restore is
silently undone. On a loaded machine this lost a customer's sealed contact details (intake's
profile write, undone by a concurrent cancelled transaction on the same table), so the
confirmation was never sent — in DynamoDB, a cancelled transaction changes nothing and
touches no one else's write. The same unlocked code lets a reader see an item whose keys
exist but whose update is not applied yet, which DynamoDB never shows either.

:func:`serialise_dynamodb` makes every DynamoDB backend call in the process one atomic step
(one re-entrant lock), which is what DynamoDB's own isolation gives a single item. Calls are
short (microseconds to a few milliseconds), so the cost is small; SQS long polls and the
other services are not affected. Applied by the local stack and by the in-process test
stacks alike, so what the tests prove is what the local stack does.

moto also keeps every model object it ever created in a class-level list
(``instances_tracked``, for its server's dashboard), DynamoDB items included, and the
snapshot above deep-copies every item of a table on each transaction: a long local run
(the chaos benchmark) grew to 24 GB and was killed. :func:`serialise_dynamodb` also stops that
tracking for DynamoDB's models (tables and items), which nothing of moto's reads back but
the dashboard.

The whole-table snapshot itself also made each transaction cost as much as copying its
tables, so a long run slowed down as its tables grew (a 1,000-payment chaos run crawled).
Under the lock a transaction cannot be overtaken, so :func:`serialise_dynamodb` also makes
moto snapshot only the items a transaction touches, and puts exactly those back when it is
cancelled: what DynamoDB does, at the cost of the transaction's own items. Likewise a query
on a table's key reads only that partition: moto sorted the whole table to find it, so
every read of an invoice cost as much as the ledger had items.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

import moto.dynamodb.models as moto_dynamodb
from moto.core.model_instances import model_data
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

_LOCK = threading.RLock()
_MARK = "_quittance_serialised"


def _serialised(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    setattr(call, _MARK, True)
    return call


class _Untracked(list[Any]):
    """A list that keeps nothing: what moto appends each new item to."""

    def append(self, _: Any) -> None:
        return None


class _TablesByReference:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend: a table is "copied"
    by reference (its snapshot is taken item by item by :func:`_item_snapshots`), anything
    else (an item before an update) is copied as before."""

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


_Snapshot = tuple[Table, DynamoType, DynamoType | None, Item | None]


def _item_snapshots(
    backend: DynamoDBBackend, transact_items: list[dict[str, Any]]
) -> list[_Snapshot]:
    """A copy of each item the transaction names (None where it does not exist yet)."""
    snapshots: list[_Snapshot] = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName", ""))
        attributes = op.get("Item") if op_type == "Put" else op.get("Key")
        if table is None or not isinstance(attributes, dict):
            continue  # moto refuses this operation before writing anything: nothing to restore
        try:
            hash_value = DynamoType(attributes[table.hash_key_attr])
            range_value = (
                DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
            )
        except KeyError:
            continue  # a key attribute is missing: moto refuses the operation, writes nothing
        current = table.get_item(hash_value, range_value)
        snapshots.append((table, hash_value, range_value, copy.deepcopy(current)))
    return snapshots


def _restore(snapshots: list[_Snapshot]) -> None:
    for table, hash_value, range_value, item in reversed(snapshots):
        if item is None:
            table.delete_item(hash_value, range_value)
        elif range_value is None:
            table.items[hash_value] = item  # type: ignore[assignment]  # as moto's put_item
        else:
            table.items[hash_value][range_value] = item


def _item_level_rollback(transact: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(transact)
    def call(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            snapshots = _item_snapshots(self, transact_items)
            try:
                transact(self, transact_items)
            except Exception:
                _restore(snapshots)
                raise

    setattr(call, _MARK, True)
    return call


_PARTITION: contextvars.ContextVar[list[Item] | None] = contextvars.ContextVar(
    "quittance_partition", default=None
)


def _partition_queries(query: Callable[..., Any]) -> Callable[..., Any]:
    """A query on the table's own key (no index) considers only that key's partition."""
    signature = inspect.signature(query)

    @functools.wraps(query)
    def call(self: Table, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        hash_key = bound.arguments.get("hash_key")
        if bound.arguments.get("index_name") or hash_key is None or not self.range_key_attr:
            return query(self, *args, **kwargs)
        partition = self.items.get(hash_key, {})
        # moto sorts what it finds by range key itself
        token = _PARTITION.set(list(partition.values()))
        try:
            return query(self, *args, **kwargs)
        finally:
            _PARTITION.reset(token)

    setattr(call, _MARK, True)
    return call


def _partition_aware(all_items: Callable[[Table], list[Item]]) -> Callable[[Table], list[Item]]:
    @functools.wraps(all_items)
    def call(self: Table) -> list[Item]:
        partition = _PARTITION.get()
        return list(partition) if partition is not None else all_items(self)

    setattr(call, _MARK, True)
    return call


def serialise_dynamodb() -> None:
    """Idempotent: every public method of moto's DynamoDB backend runs under one lock,
    transactions snapshot and restore only their own items, and items are no longer kept
    for moto's dashboard."""
    setattr(moto_dynamodb, "copy", _TablesByReference())  # noqa: B010  # moto's own name
    if not getattr(DynamoDBBackend.transact_write_items, _MARK, False):
        DynamoDBBackend.transact_write_items = _item_level_rollback(  # type: ignore[method-assign]
            DynamoDBBackend.transact_write_items
        )
    if not getattr(Table.query, _MARK, False):
        Table.query = _partition_queries(Table.query)  # type: ignore[method-assign]
        Table.all_items = _partition_aware(Table.all_items)  # type: ignore[method-assign,assignment]
    for model in [Item, *model_data["dynamodb"].values()]:
        if not isinstance(getattr(model, "instances_tracked", None), _Untracked):
            model.instances_tracked = _Untracked()  # type: ignore[attr-defined]
    for name, member in list(vars(DynamoDBBackend).items()):
        if name.startswith("_") or not callable(member) or getattr(member, _MARK, False):
            continue
        setattr(DynamoDBBackend, name, _serialised(member))
