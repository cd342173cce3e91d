"""The local stack runs a function as Lambda does: never two invocations at once in one
execution environment (each its own import of the handler module), a new environment when
all are busy, up to a limit, past which an invocation waits."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from quittance_ops.localstack.provision import FunctionSpec
from quittance_ops.localstack.runtime import LocalFunction

# Module-level state, as Powertools' batch processor and HTTP resolver keep theirs.
HANDLER = """
import threading
import time

current = None


def handler(event, context):
    global current
    if current is not None:
        raise AssertionError("two invocations in one environment")
    current = event["n"]
    time.sleep(0.05)
    seen, current = current, None
    return {"n": seen, "environment": __name__, "thread": threading.get_ident()}
"""


def _function(tmp_path: Path, **kw: int) -> LocalFunction:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text(HANDLER)
    spec = FunctionSpec(
        logical_id="EnvTestFunction",
        code_uri="fn",
        handler="app.handler",
        timeout=10,
        memory=128,
        environment={},
    )
    return LocalFunction(spec, tmp_path, "eu-west-3", "123456789012", **kw)


def test_concurrent_invocations_each_get_an_environment_of_their_own(tmp_path: Path) -> None:
    function = _function(tmp_path)
    start = threading.Barrier(6)

    def call(n: int) -> dict[str, object]:
        start.wait()
        return dict(function.invoke({"n": n}))

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(call, range(6)))
    # Each invocation saw its own event: none was mixed with another's
    assert [a["n"] for a in answers] == list(range(6))
    assert function.errors == 0
    assert 2 <= function.environments <= 6
    assert len({a["environment"] for a in answers}) == function.environments


def test_past_the_limit_an_invocation_waits_for_a_free_environment(tmp_path: Path) -> None:
    function = _function(tmp_path, max_environments=2)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda n: function.invoke({"n": n}), range(12)))
    assert [a["n"] for a in answers] == list(range(12))
    assert function.environments == 2
    assert function.invocations == 12 and function.errors == 0
