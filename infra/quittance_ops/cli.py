"""The ``quittance`` command: the local stack, the demo, operators' and staff commands."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from quittance_ops.archive_cli import archive_app
from quittance_ops.audit_cli import audit_app
from quittance_ops.bank_cli import bank_app
from quittance_ops.desk import connect
from quittance_ops.dlq_cli import dlq_app
from quittance_ops.doctor import doctor
from quittance_ops.downloads import DownloadRefused, download
from quittance_ops.options import AwsOpt, StackOpt, out_file
from quittance_ops.payments_cli import payments_app
from quittance_ops.privacy_cli import privacy_app
from quittance_ops.project import project_root, quiet_libraries
from quittance_ops.reminders_cli import remind
from quittance_ops.retire_cli import retire
from quittance_ops.seller_cli import seller_app
from quittance_ops.smoke import smoke

app = typer.Typer(no_args_is_help=True, help="quittance: proof of payment, end to end.")
local_app = typer.Typer(no_args_is_help=True, help="The local embedded stack (moto, no Docker).")
app.add_typer(local_app, name="local")
local_app.command("remind")(remind)
ledger_app = typer.Typer(
    no_args_is_help=True,
    help="The books: exports for accountants, retirement after the legal period.",
)
app.add_typer(ledger_app, name="ledger")
invoices_app = typer.Typer(no_args_is_help=True, help="Invoices the business registers.")
app.add_typer(invoices_app, name="invoices")
app.add_typer(archive_app, name="archive")
app.add_typer(audit_app, name="audit")
ledger_app.command("retire")(retire)
app.add_typer(privacy_app, name="privacy")
app.add_typer(dlq_app, name="dlq")
app.command("doctor")(doctor)
app.command("smoke")(smoke)
app.add_typer(bank_app, name="bank")
app.add_typer(payments_app, name="payments")
app.add_typer(seller_app, name="seller")


@local_app.command("up")
def local_up(
    stage: Annotated[str, typer.Option(help="Template stage whose settings to run with.")] = "prod",
    out: Annotated[Path | None, typer.Option(help="Where stack.json goes.")] = None,
    webhook_secret: Annotated[
        list[str] | None,
        typer.Option(
            help="Also accept PROVIDER=SECRET, e.g. the whsec_… that `stripe listen` prints.",
        ),
    ] = None,
    faults: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of the functions' AWS calls that fail as AWS fails (throttling, 500,"
            " timeout before or after the write), e.g. 0.2.",
        ),
    ] = 0.0,
    faults_seed: Annotated[int, typer.Option(help="Seed of the fault plan.")] = 0,
    crash_rate: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of successful side effects (S3 put, DynamoDB write, SQS send, SES send…)"
            " right after which the function crashes.",
        ),
    ] = 0.0,
    fault_rule: Annotated[
        list[str] | None,
        typer.Option(help="SERVICE[.Operation]=RATE overriding --faults, e.g. s3=0.5."),
    ] = None,
) -> None:
    """Start the local stack and keep it running until Ctrl-C."""
    from quittance_ops.localstack.faults import FaultPlan
    from quittance_ops.localstack.stack import LocalStack

    quiet_libraries()
    console = Console()
    root = project_root()
    extra: dict[str, list[str]] = {}
    for pair in webhook_secret or []:
        provider, sep, secret = pair.partition("=")
        if not sep or not provider or not secret:
            raise typer.BadParameter(f"expected PROVIDER=SECRET, got {pair!r}")
        extra.setdefault(provider, []).append(secret)
    try:
        plan = (
            FaultPlan(
                rate=faults,
                seed=faults_seed,
                crash_rate=crash_rate,
                rules=FaultPlan.parse_rules(fault_rule or []),
            )
            if faults or crash_rate or fault_rule
            else None
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    stack = LocalStack(root, out_dir=out, stage=stage, extra_webhook_secrets=extra, faults=plan)
    # Installed before start, because a caller may send Ctrl-C the moment stack.json
    # appears; during start it still interrupts (start cleans up after itself).
    stopping = threading.Event()

    def on_signal(*_: object) -> None:
        if stack.info is None:
            raise KeyboardInterrupt
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    # A process inherits its parent's signal mask: started by a supervisor or CI runner that
    # blocks SIGINT, Ctrl-C would stay pending for ever. Unblocked here, in the main thread,
    # before any thread exists, so every thread the stack starts inherits the open mask.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    info = stack.start()
    console.print_json(json.dumps(info.as_json()))
    console.print(
        f"[bold green]local stack up[/]: {info.api_url} (written to {stack.out_dir / 'stack.json'})"
    )
    console.print("Ctrl-C stops it.")
    try:
        # Woken now and then, because a signal the kernel hands to another thread runs its
        # Python handler only when the main thread next executes bytecode.
        while not stopping.wait(timeout=0.5):
            pass
    finally:
        started = time.monotonic()
        injected = stack.faults.stats.as_json() if stack.faults else None
        stack.stop()
        console.print(f"local stack stopped in {time.monotonic() - started:.1f} s")
        if injected is not None:
            console.print("faults injected:")
            console.print_json(json.dumps(injected))
    # A pump thread still inside a handler (a PDF half-rendered in native code) must not keep
    # the process from ending: everything that matters was stopped above.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@app.command()
def demo(
    out: Annotated[Path | None, typer.Option(help="Where to leave PDFs and emails.")] = None,
) -> None:
    """Send real signed webhooks through a fresh local stack; leave PDFs and .eml in out/demo."""
    from quittance_ops.demo import run_demo

    quiet_libraries()
    # A log or CI has no terminal width; keep the table readable there too.
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120)
    ok = run_demo(project_root(), console, out)
    raise typer.Exit(code=0 if ok else 1)


@invoices_app.command("import")
def invoices_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV, one row a line")],
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
) -> None:
    """Register invoices from a CSV file through the staff API (SigV4), with a report."""
    from rich.progress import Progress
    from rich.table import Table

    from quittance_ops.invoice_import import import_invoices

    console = Console()
    client = connect(stack, aws_stack).api
    rows = max(sum(1 for _ in file.open(encoding="utf-8-sig")) - 1, 0)
    with Progress(console=console) as progress:
        task = progress.add_task("registering", total=rows)
        report = import_invoices(
            file,
            lambda number, body: client.call("PUT", f"/admin/invoices/{number}", body),
            lambda done: progress.advance(task, done),
        )
    console.print(f"[green]{len(report.registered)} invoices registered[/]")
    if report.errors:
        table = Table(title=f"{len(report.errors)} invoices refused")
        for column in ("invoice", "CSV lines", "why"):
            table.add_column(column)
        for number, lines, why in report.errors:
            table.add_row(number or "(empty)", ", ".join(map(str, lines)), why)
        console.print(table)
        raise typer.Exit(code=1)


@ledger_app.command("export")
def ledger_export(
    *,
    start: Annotated[str, typer.Option("--from", help="First collection day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="Last collection day, YYYY-MM-DD")],
    out: Annotated[
        Path | None, typer.Option(help="The CSV to write (a folder: export-FROM-TO.csv in it)")
    ] = None,
    export_format: Annotated[str, typer.Option("--format", help="csv")] = "csv",
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
) -> None:
    """One row per payment and refund, through the staff API (SigV4): the local stack's, or
    with ``--aws-stack NAME`` a deployed stack's, with your own AWS credentials. The API
    leaves the CSV behind a 15-minute link; it is downloaded, and kept only if its size and
    SHA-256 match the API's answer."""
    out = out_file(out, f"export-{start}-{end}.csv")
    client = connect(stack, aws_stack).api
    status, body = client.call(
        "GET", f"/admin/exports?from={start}&to={end}&format={export_format}"
    )
    if status != 200 or not isinstance(body, dict):
        Console(stderr=True).print(f"[red]export refused ({status})[/]: {body}")
        raise typer.Exit(code=1)
    try:
        download(
            str(body["download_url"]), out, str(body["sha256"]), expected_size=int(body["size"])
        )
    except (DownloadRefused, OSError) as exc:
        Console(stderr=True).print(f"[red]export not saved[/]: {exc}")
        raise typer.Exit(code=1) from exc
    Console().print(f"{body['rows']} rows written to {out} (sha256 {body['sha256'][:16]}…)")


@app.command()
def previews(
    out: Annotated[Path, typer.Option(help="Where the PDFs and PNG pages go.")] = Path(
        "docs/receipts"
    ),
) -> None:
    """Render the sample receipts (French B2C card, English B2B transfer, credit note) of the
    demo seller profile and turn each page into a PNG with pdftoppm, for docs/receipts."""
    import shutil
    import subprocess

    from quittance.receipts.document import Seller
    from quittance.receipts.render import ReceiptRenderer
    from quittance.seller import PublishedProfile
    from quittance_ops.samples import SAMPLES
    from quittance_ops.seller_publish import demo_profile

    demo = demo_profile()  # the demo company, as `quittance seller set` would store it
    seller = Seller.from_profile(PublishedProfile(version=1, profile=demo.profile), demo.logo)

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise typer.BadParameter("pdftoppm is missing (Debian package poppler-utils)")
    out.mkdir(parents=True, exist_ok=True)
    renderer = ReceiptRenderer()
    for name, build in SAMPLES.items():
        pdf = out / f"{name}.pdf"
        pdf.write_bytes(renderer.render(build(seller)).pdf)
        subprocess.run(  # noqa: S603 - fixed arguments, our own file
            [pdftoppm, "-png", "-r", "70", str(pdf), str(out / name)], check=True
        )
        Console().print(f"{pdf} → {out / name}-*.png")


def main() -> None:
    app()
