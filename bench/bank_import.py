"""Importing a bank statement of 10,000 entries against 10,000 open invoices.

    python bench/bank_import.py [--entries 10000] [--invoices 10000]

Measures the domain's part of `quittance bank import` (what runs inside the function on
every import), with in-memory ports so that the figure is ours and not moto's:

1. reading the camt.053 file (defusedxml) into entries;
2. deciding every entry against the open invoices (InvoiceIndex + decide + payment events),
   recording each decision and publishing each event to in-memory ports.

A third of the credits name their invoice (mangled half the time), a third match by amount
and name, a sixth are unknown, a sixth are debits. Wall time of each step, and peak Python
memory (tracemalloc, in a second run: tracing slows allocation) of the whole import.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from quittance.bank.matching import OpenInvoice  # noqa: E402
from quittance.bank.review import ImportReport, import_statement  # noqa: E402
from quittance.bank.statement import parse_statement  # noqa: E402
from quittance.models.messages import PaymentEventMessage  # noqa: E402
from quittance.models.money import Money  # noqa: E402
from quittance_ops.camt_samples import Transfer, statement_xml  # noqa: E402
from tests.fakes import MemoryBankEntries  # noqa: E402


class Invoices:
    """Open invoices without their customers' names, as the ledger's index has them: a name
    is a sealed profile read and a KMS unwrap (``name_read_ms`` of latency each, if asked)."""

    def __init__(self, invoices: list[OpenInvoice], name_read_ms: float) -> None:
        self.invoices = [replace(i, customer_name=None, customer_id=i.customer_reference)
                         for i in invoices]  # fmt: skip
        self.names = {i.customer_reference: i.customer_name for i in invoices}
        self.name_reads = 0
        self.name_read_s = name_read_ms / 1000

    def open_invoices(self, today: date) -> Sequence[OpenInvoice]:
        return self.invoices

    def open_invoice(self, number: str) -> OpenInvoice | None:
        return None

    def customer_name(self, invoice: OpenInvoice) -> str | None:
        self.name_reads += 1
        if self.name_read_s:
            time.sleep(self.name_read_s)
        return self.names.get(invoice.customer_id or "")


class Events:
    def __init__(self) -> None:
        self.sent: set[tuple[str, str]] = set()

    def publish_once(self, message: PaymentEventMessage) -> bool:
        key = (message.event.provider, message.event.event_id)
        new = key not in self.sent
        self.sent.add(key)
        return new


def world(entries: int, invoices: int) -> tuple[list[OpenInvoice], list[Transfer]]:
    opened = [
        OpenInvoice(
            f"F-2026-{n:05d}",
            Money(amount_minor=10000 + n, currency="EUR"),
            f"cus_{n}",
            f"Client {n}",
        )
        for n in range(invoices)
    ]
    transfers = []
    for n in range(entries):
        amount = Decimal(10000 + n % invoices) / 100
        kind = n % 6
        if kind in {0, 1}:
            text = f"F-2026-{n % invoices:05d}" if kind == 0 else f"fact f 2026 {n % invoices:05d}"
            transfers.append(Transfer(reference=f"B{n}", amount=amount, unstructured=(text,)))
        elif kind in {2, 3}:
            transfers.append(
                Transfer(reference=f"B{n}", amount=amount, payer=f"CLIENT {n % invoices}")
            )
        elif kind == 4:
            transfers.append(Transfer(reference=f"B{n}", amount=Decimal("1.23"), payer="X"))
        else:
            transfers.append(Transfer(reference=f"B{n}", amount=amount, credit=False))
    return opened, transfers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument(
        "--name-read-ms",
        type=float,
        default=0.0,
        help="latency of one customer-name read (profile GetItem + KMS Decrypt), e.g. 8",
    )
    args = parser.parse_args()
    opened, transfers = world(args.entries, args.invoices)
    data = statement_xml(transfers)
    print(f"statement: {args.entries:,} entries, {len(data) / 1024 / 1024:.1f} MiB; "
          f"{args.invoices:,} open invoices")  # fmt: skip

    timings = run(data, opened, args.name_read_ms)
    tracemalloc.start()
    run(data, opened, 0.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    parse, match, report, name_reads = timings
    print(f"parse      {parse:7.2f} s")
    print(f"match      {match:7.2f} s  ({report.matched:,} matched {report.by},")
    print(f"           {report.to_review:,} to review, {report.not_credits:,} debits)")
    print(f"names      {name_reads:,} customer names opened"
          f" ({args.name_read_ms:g} ms each included in match)")  # fmt: skip
    total = parse + match
    print(f"total      {total:7.2f} s  ({total / args.entries * 1e6:.0f} µs per entry)")
    print(f"peak mem   {peak / 1024 / 1024:7.1f} MiB (tracemalloc, a second run)")


def run(
    data: bytes, opened: list[OpenInvoice], name_read_ms: float
) -> tuple[float, float, ImportReport, int]:
    """Seconds to parse, seconds to decide and publish, the report, the names opened."""
    invoices = Invoices(opened, name_read_ms)
    started = time.perf_counter()
    statement = parse_statement(data)
    parsed = time.perf_counter()
    report = import_statement(
        statement,
        invoices=invoices,
        book=MemoryBankEntries(),
        events=Events(),
        now=datetime(2026, 12, 4, 8, tzinfo=UTC),
        correlation_id="bench",
    )
    return parsed - started, time.perf_counter() - parsed, report, invoices.name_reads


if __name__ == "__main__":
    main()
