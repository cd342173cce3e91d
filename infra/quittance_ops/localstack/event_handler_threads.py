"""Powertools' HTTP resolvers keep the request being served in class attributes
(``BaseRouter.current_event`` and ``BaseRouter.lambda_context``, assigned on the class by
``resolve``), so that routers included in an app can read it without holding a reference to
the app. On Lambda that is sound: a process serves one invocation at a time. The local stack
runs several execution environments of a function (and several functions) as threads of one
process, and then two webhook or staff requests served at once overwrite each other's event:
a route could read another request's body, headers or path.

``isolate_per_thread`` gives those two class attributes one value per thread, for class and
instance access alike, leaving Powertools' code as it is. Each invocation runs start to end
on one thread (the runtime's), which is what makes a thread the local equivalent of Lambda's
process here."""

from __future__ import annotations

import threading
from typing import Any

from aws_lambda_powertools.event_handler import api_gateway

# Every attribute Powertools' HTTP resolvers assign on the class per request.
PER_REQUEST = ("current_event", "lambda_context")


class _PerThread:
    """The value of one per-request attribute, seen by the current thread only."""

    def __init__(self, name: str, values: threading.local) -> None:
        self._name = name
        self._values = values

    def read(self) -> Any:
        try:
            return getattr(self._values, self._name)
        except AttributeError:
            raise AttributeError(
                f"{self._name}: no request is being resolved on this thread"
            ) from None

    def write(self, value: Any) -> None:
        setattr(self._values, self._name, value)

    # Instance access (``self.current_event`` inside a resolver).
    def __get__(self, instance: object, owner: type | None = None) -> Any:
        return self.read()

    def __set__(self, instance: object, value: Any) -> None:
        self.write(value)


def _class_property(slot: _PerThread) -> property:
    def read(cls: type) -> Any:
        return slot.read()

    def write(cls: type, value: Any) -> None:
        slot.write(value)

    return property(read, write)


def isolate_per_thread() -> None:
    """Make ``BaseRouter``'s per-request class attributes thread-local, once per process."""
    base = api_gateway.BaseRouter
    if getattr(type(base), "_quittance_per_thread", False):
        return
    values = threading.local()
    slots = {name: _PerThread(name, values) for name in PER_REQUEST}
    # Class access and assignment (``BaseRouter.current_event = …``) go through the metaclass:
    # a data descriptor there takes precedence over the class's own dictionary.
    namespace: dict[str, Any] = {"_quittance_per_thread": True}
    for name, slot in slots.items():
        namespace[name] = _class_property(slot)
    per_thread_meta = type("PerThreadRouterMeta", (type(base),), namespace)
    # Instance access goes through the class's dictionary: set while the old metaclass still
    # stores plain assignments there.
    for name, slot in slots.items():
        setattr(base, name, slot)
    # A class's metaclass can be swapped when the layouts agree (both derive from ABCMeta).
    base.__class__ = per_thread_meta  # type: ignore[method-assign]
