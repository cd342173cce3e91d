"""Load a function's handler from its CodeUri, as Lambda does, and invoke it in-process."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quittance.clock import Clock
from quittance_ops.localstack.faults import function_scope
from quittance_ops.localstack.provision import FunctionSpec


@dataclass
class LocalContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


class LocalFunction:
    def __init__(self, spec: FunctionSpec, root: Path, region: str, account: str) -> None:
        self.spec = spec
        self.name = spec.logical_id
        self._arn = f"arn:aws:lambda:{region}:{account}:function:{spec.logical_id}"
        module_name, _, attribute = spec.handler.rpartition(".")
        path = root / spec.code_uri / f"{module_name.replace('.', '/')}.py"
        module_id = f"quittance_fn_{spec.logical_id}"
        loader_spec = importlib.util.spec_from_file_location(module_id, path)
        if loader_spec is None or loader_spec.loader is None:
            raise ImportError(f"{spec.logical_id}: no handler module at {path}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_id] = module  # as an import would: dataclasses look it up
        loader_spec.loader.exec_module(module)
        self._module: Any = module
        self._handler: Callable[[dict[str, Any], Any], Any] = getattr(module, attribute)
        self.invocations = 0
        self.errors = 0
        self._lock = threading.Lock()

    def use_clock(self, clock: Clock) -> None:
        """Run this function on ``clock`` from now on: its composition root is wired again
        around it (``wire(clock)``, which ``deps()`` calls with the system clock) and every
        cached root built on the old one is dropped, as a cold start would."""
        wire = getattr(self._module, "wire", None)
        if wire is None:
            raise TypeError(f"{self.name}: its handler module has no wire(clock)")
        for value in vars(self._module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
        built = wire(clock)
        self._module.deps = lambda: built

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LocalContext(
            function_name=self.name,
            memory_limit_in_mb=self.spec.memory,
            invoked_function_arn=self._arn,
            timeout_seconds=self.spec.timeout,
        )
        with self._lock:
            self.invocations += 1
        try:
            # AWS calls made inside are this function's own: a fault plan may fail them.
            with function_scope(self.name):
                return self._handler(event, context)
        except Exception:
            with self._lock:
                self.errors += 1
            raise
