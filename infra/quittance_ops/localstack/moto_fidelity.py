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
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from moto.core.model_instances import model_data
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item

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


def serialise_dynamodb() -> None:
    """Idempotent: every public method of moto's DynamoDB backend runs under one lock, and
    items are no longer kept for moto's dashboard."""
    for model in [Item, *model_data["dynamodb"].values()]:
        if not isinstance(getattr(model, "instances_tracked", None), _Untracked):
            model.instances_tracked = _Untracked()  # type: ignore[attr-defined]
    for name, member in list(vars(DynamoDBBackend).items()):
        if name.startswith("_") or not callable(member) or getattr(member, _MARK, False):
            continue
        setattr(DynamoDBBackend, name, _serialised(member))
