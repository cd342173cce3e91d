"""The local embedded stack, started as a user starts it (`quittance local up`), in its own
process, and talked to over HTTP on 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]


class RunningStack:
    def __init__(self, info: dict[str, Any]) -> None:
        self.info = info
        self.api_url: str = info["api_url"]
        self.endpoint: str = info["moto_endpoint"]
        self.resources: dict[str, str] = info["resources"]
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """One client per service: the tests poll (queue depths every 0.1 s), and a new client
        parses its service model again each time."""
        if service not in self._clients:
            self._clients[service] = boto3.session.Session().client(
                service,
                region_name=self.info["region"],
                endpoint_url=self.endpoint,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[service]

    def queue_depths(self) -> dict[str, int]:
        sqs = self.client("sqs")
        depths = {}
        for logical, url in self.resources.items():
            if "/queue/" not in url and not url.startswith("http"):
                continue
            if "Queue" not in logical and "DLQ" not in logical:
                continue
            attrs = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            depths[logical] = int(attrs["ApproximateNumberOfMessages"]) + int(
                attrs["ApproximateNumberOfMessagesNotVisible"]
            )
        return depths

    def wait_drained(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        calm = 0
        while time.monotonic() < deadline:
            calm = calm + 1 if not any(self.queue_depths().values()) else 0
            if calm >= 3:
                return
            time.sleep(0.1)
        raise AssertionError(f"queues not drained: {self.queue_depths()}")


def wait_for(predicate: Any, timeout: float = 60) -> Any:
    """The first truthy answer of ``predicate``, polled every 0.1 s until ``timeout``.

    moto is not atomic: an UpdateItem that creates an item stores its keys first and its
    attributes a moment later, so a read racing the ledger's write may see an item with
    keys only (a KeyError in the reader). That poll counts as "not yet"; the last such
    error is raised if the condition never holds."""
    deadline = time.monotonic() + timeout
    half_written: KeyError | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except KeyError as exc:
            half_written, value = exc, None
        if value:
            return value
        time.sleep(0.1)
    if half_written is not None:
        raise half_written
    raise AssertionError("condition not met in time")


def start_stack(
    out: Path,
    stage: str = "prod",
    extra: list[str] | None = None,
    *,
    inherit_blocked_signals: bool = False,
) -> tuple[subprocess.Popen[bytes], RunningStack]:
    """``inherit_blocked_signals`` starts the stack as some supervisors and CI runners do:
    with SIGINT and SIGTERM blocked in the signal mask it inherits."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "stack.json").unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # A stack that hangs is killed with SIGABRT: faulthandler then writes every
    # thread's stack to stack.log, which the failure shows.
    env["PYTHONFAULTHANDLER"] = "1"
    log = (out / "stack.log").open("wb")
    # A child starts with the signal mask of the thread that forks it.
    ctrl_c = {signal.SIGINT, signal.SIGTERM} if inherit_blocked_signals else set()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, ctrl_c)
    try:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "quittance_ops",
                "local",
                "up",
                "--stage",
                stage,
                "--out",
                str(out),
                *(extra or []),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    stack_json = out / "stack.json"
    deadline = time.monotonic() + 90
    while not stack_json.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError((out / "stack.log").read_text())
        time.sleep(0.1)
    return process, RunningStack(json.loads(stack_json.read_text()))


def stop_stack(process: subprocess.Popen[bytes], out: Path | None = None) -> int:
    process.send_signal(signal.SIGINT)
    try:
        # Generous: CI runs this beside another busy xdist worker on two cores.
        return process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        signals = _signal_state(process.pid)
        process.send_signal(signal.SIGABRT)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
        log = (out / "stack.log").read_text()[-6000:] if out else ""
        raise AssertionError(
            f"the local stack did not stop on Ctrl-C within 90 s\n{signals}\n{log}"
        ) from None


def _signal_state(pid: int) -> str:
    """The pending, blocked and caught signal masks of a process, as /proc shows them."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "(no /proc status)"
    return "\n".join(line for line in status.splitlines() if line.startswith(("Sig", "ShdPnd")))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    out = tmp_path_factory.mktemp("local")
    process, running = start_stack(out)
    try:
        yield running
    finally:
        assert stop_stack(process, out) == 0, "Ctrl-C must stop the local stack cleanly"
