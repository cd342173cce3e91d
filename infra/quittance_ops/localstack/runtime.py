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
from quittance_ops.localstack.event_handler_threads import isolate_per_thread
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


@dataclass
class _Environment:
    """One execution environment: its own import of the handler module, so its own
    module-level state (Powertools' batch processor and resolver, cached clients)."""

    module: Any
    handler: Callable[[dict[str, Any], Any], Any]


class LocalFunction:
    """A function as Lambda runs it: a pool of execution environments, each serving one
    invocation at a time. When every environment is busy a new one starts (a cold start), up
    to ``max_environments``; past that an invocation waits for one to be free, where Lambda
    would throttle. Handlers keep per-invocation state at module level (Powertools' batch
    processor collects a batch's failures there), which is only sound because no two
    invocations ever share an environment: two pollers sharing one module would mix their
    batches. Powertools' HTTP resolvers keep the current request on a class, shared by every
    environment of the process: it is made per-thread (``event_handler_threads``)."""

    def __init__(
        self,
        spec: FunctionSpec,
        root: Path,
        region: str,
        account: str,
        *,
        max_environments: int = 16,
    ) -> None:
        isolate_per_thread()
        self.spec = spec
        self.name = spec.logical_id
        self.max_environments = max_environments
        self._arn = f"arn:aws:lambda:{region}:{account}:function:{spec.logical_id}"
        module_name, _, self._attribute = spec.handler.rpartition(".")
        self._path = root / spec.code_uri / f"{module_name.replace('.', '/')}.py"
        self.invocations = 0
        self.errors = 0
        self.overruns = 0
        self.observers: list[Callable[[str, dict[str, Any], float, float, bool], None]] = []
        """Told of every invocation: (function, event, wall-clock start, seconds, succeeded);
        the benchmarks' :class:`~quittance_ops.localstack.meter.Meter` listens here."""
        """Invocations that ran past the function's timeout: Lambda would have stopped each
        one there, at whatever step it was (nothing stops a thread here)."""
        self._lock = threading.Lock()
        self._pool = threading.Condition()
        self._idle: list[_Environment] = []
        self._every: list[_Environment] = []
        self._clock: Clock | None = None
        # The first environment starts now, so that a handler that cannot load stops the stack.
        self._started = 1
        first = self._start(0)
        self._idle.append(first)
        self._module: Any = first.module  # tests reach the first environment's deps()

    @property
    def environments(self) -> int:
        return len(self._every)

    def _start(self, number: int) -> _Environment:
        # The first keeps the plain name: tests and tools look it up in sys.modules.
        module_id = f"quittance_fn_{self.name}" + (f"_env{number}" if number else "")
        loader_spec = importlib.util.spec_from_file_location(module_id, self._path)
        if loader_spec is None or loader_spec.loader is None:
            raise ImportError(f"{self.name}: no handler module at {self._path}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_id] = module  # as an import would: dataclasses look it up
        loader_spec.loader.exec_module(module)
        environment = _Environment(module, getattr(module, self._attribute))
        with self._pool:
            self._every.append(environment)
            clock = self._clock
        if clock is not None:
            self._pin(environment.module, clock)
        return environment

    def use_clock(self, clock: Clock) -> None:
        """Run this function on ``clock`` from now on: each environment's composition root is
        wired again around it (``wire(clock)``, which ``deps()`` calls with the system clock)
        and every cached root built on the old one is dropped, as a cold start would."""
        if getattr(self._module, "wire", None) is None:
            raise TypeError(f"{self.name}: its handler module has no wire(clock)")
        with self._pool:
            self._clock = clock
            environments = list(self._every)
        for environment in environments:
            self._pin(environment.module, clock)

    @staticmethod
    def _pin(module: Any, clock: Clock) -> None:
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
        built = module.wire(clock)
        module.deps = lambda: built

    def _acquire(self) -> _Environment:
        with self._pool:
            while not self._idle and self._started >= self.max_environments:
                self._pool.wait()
            if self._idle:
                return self._idle.pop()
            self._started += 1
            number = self._started - 1
        return self._start(number)  # a cold start, outside the lock: an import takes time

    def _release(self, environment: _Environment) -> None:
        with self._pool:
            self._idle.append(environment)
            self._pool.notify()

    def invoke(self, event: dict[str, Any]) -> Any:
        environment = self._acquire()
        context = LocalContext(
            function_name=self.name,
            memory_limit_in_mb=self.spec.memory,
            invoked_function_arn=self._arn,
            timeout_seconds=self.spec.timeout,
        )
        with self._lock:
            self.invocations += 1
        started, wall = time.monotonic(), time.time()
        ok = False
        try:
            # AWS calls made inside are this function's own: a fault plan may fail them.
            with function_scope(self.name):
                result = environment.handler(event, context)
            ok = True
            return result
        except Exception:
            with self._lock:
                self.errors += 1
            raise
        finally:
            elapsed = time.monotonic() - started
            if elapsed > self.spec.timeout:
                with self._lock:
                    self.overruns += 1
            self._release(environment)
            for observer in self.observers:
                observer(self.name, event, wall, elapsed, ok)
