"""The compliance desk: the staff API (SigV4) plus, for the two acts no function may do, the
archive bucket (a disposal) and the ledger table (a retirement) with the caller's own
credentials. Against the local stack the endpoint and credentials come from
``out/local/stack.json``; against AWS (``--aws-stack NAME``) from the stack's CloudFormation
outputs and the caller's own AWS credentials."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import typer
from rich.console import Console

from quittance_ops.admin_client import AdminClient
from quittance_ops.target import open_target


class Caller(Protocol):
    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]: ...


@dataclass(frozen=True)
class Desk:
    """Where the staff API is, and how to reach the archive bucket (a disposal) and the
    ledger table (a retirement) with the caller's own credentials."""

    api: Caller
    bucket: str
    s3: Any
    ledger_table: str = ""
    dynamodb: Any = None

    def get(self, path: str, query: dict[str, Any] | None = None) -> Any:
        return self._ok(*self.api.call("GET", with_query(path, query)))

    def send(self, method: str, path: str, body: Any = None) -> Any:
        return self._ok(*self.api.call(method, path, body))

    @staticmethod
    def _ok(status: int, body: Any) -> Any:
        if status != 200:
            detail = body.get("detail") if isinstance(body, dict) else body
            Console(stderr=True).print(f"[red]refused ({status})[/]: {detail}")
            if isinstance(body, dict) and body.get("fields"):
                Console(stderr=True).print_json(json.dumps(body["fields"]))
            raise typer.Exit(code=2 if status == 403 else 1)
        return body


def connect(stack: Path | None = None, aws_stack: str | None = None) -> Desk:
    target = open_target(stack, aws_stack)
    return Desk(
        AdminClient.for_target(target),
        target.outputs.get("ArchiveBucketName") or target.resource("ArchiveBucket"),
        target.client("s3"),
        target.outputs.get("LedgerTableName") or target.resource("LedgerTable"),
        target.client("dynamodb"),
    )


def with_query(path: str, query: dict[str, Any] | None) -> str:
    pairs = {k: str(v) for k, v in (query or {}).items() if v is not None}
    return f"{path}?{urllib.parse.urlencode(pairs)}" if pairs else path


def money(amount: dict[str, Any] | None) -> str:
    if not amount:
        return ""
    minor = int(amount["amount_minor"])
    return f"{minor // 100}.{minor % 100:02d} {amount['currency']}"
