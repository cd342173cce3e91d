"""``quittance seller show | set FILE.yaml | preview``: the business on every document, set
per stage (local stack, or ``--aws-stack NAME`` with the caller's own credentials) without
editing code or redeploying (docs/seller.md)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from quittance.aws.seller_parameter import SellerProfileParameter
from quittance.models.money import Money
from quittance.receipts.document import Seller
from quittance.receipts.render import ReceiptRenderer
from quittance.seller import PublishedProfile
from quittance_ops.options import AwsOpt, JsonOpt, StackOpt, emit
from quittance_ops.seller_file import ProfileFile, ProfileFileError, read_profile_file
from quittance_ops.seller_publish import parameter_name, publish
from quittance_ops.target import Target, open_target

seller_app = typer.Typer(
    no_args_is_help=True,
    help="The seller's identity, legal mentions and brand on every document.",
)

PREVIEW_AT = datetime(2026, 11, 23, 13, 4, tzinfo=UTC)
FileArg = Annotated[Path, typer.Argument(help="The profile, e.g. infra/profiles/demo-seller.yaml")]


def stage_of(target: Target) -> str:
    stage = target.outputs.get("Stage") or target.local.get("stage")
    if not stage:
        raise typer.BadParameter(f"{target.name}: no Stage output (deploy this template version)")
    return str(stage)


def _read(path: Path) -> ProfileFile:
    try:
        return read_profile_file(path)
    except ProfileFileError as refused:
        console = Console(stderr=True)
        console.print(f"[bold red]{path}: not set, {len(refused.problems)} problem(s)[/]")
        for problem in refused.problems:
            console.print(f"  {problem}", markup=False, highlight=False)
        raise typer.Exit(code=2) from None


@seller_app.command("set")
def set_profile(path: FileArg, stack: StackOpt = None, aws_stack: AwsOpt = None) -> int:
    """Validate FILE and make it the stage's profile (a new version); each problem is printed
    with its line. Documents issued from now on use it (within 5 minutes on AWS)."""
    read = _read(path)
    target = open_target(stack, aws_stack)
    version = publish(
        read,
        ssm=target.client("ssm"),
        s3=target.client("s3"),
        stage=stage_of(target),
        archive_bucket=target.resource("ArchiveBucket"),
        kms_key_id=None if target.is_local else target.resource("DataKey"),
    )
    profile = read.profile
    Console().print(
        f"seller profile version {version} set for stage {stage_of(target)}:"
        f" {profile.legal_name} (SIREN {profile.siren})"
    )
    if profile.is_demo:
        Console().print("[yellow]the demo company's SIREN: a prod stage refuses to issue[/]")
    return version


@seller_app.command("show")
def show(stack: StackOpt = None, aws_stack: AwsOpt = None, as_json: JsonOpt = False) -> None:
    """The stage's current profile, its version and the legal mentions it prints."""
    target = open_target(stack, aws_stack)
    name = parameter_name(stage_of(target))
    published = SellerProfileParameter(name, target.client("ssm"), max_age=0).current()
    if published is None:
        if not emit(as_json, {"parameter": name, "version": None, "profile": None}):
            Console().print(f"no seller profile at {name}: quittance seller set FILE.yaml")
        raise typer.Exit(code=1)
    profile = published.profile
    answer = {
        "parameter": name,
        "version": published.version,
        "profile": profile.model_dump(mode="json", exclude_none=True),
        "legal_mentions": list(profile.legal_mentions("fr")),
    }
    if emit(as_json, answer):
        return
    console = Console(highlight=False)
    console.print(f"[bold]{profile.display_name}[/] — {name}, version {published.version}")
    for field, value in profile.model_dump(mode="json", exclude_none=True).items():
        console.print(f"  {field}: {value}", markup=False)
    console.print("legal mentions: " + " · ".join(profile.legal_mentions("fr")), markup=False)


@seller_app.command("preview")
def preview(
    path: Annotated[
        Path | None, typer.Argument(help="A profile file (default: the stage's profile)")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder the PDFs and PNGs go to.")] = Path(
        "out/seller-preview"
    ),
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
) -> None:
    """Render a receipt, an English copy, a credit note, the confirmation email and the
    receipt page for a profile, as PNG (pdftoppm), to look at before (or after) setting it."""
    from quittance_ops.samples import SAMPLES

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise typer.BadParameter("pdftoppm is missing (Debian package poppler-utils)")
    if path is not None:
        read = _read(path)
        published, logo = PublishedProfile(version=1, profile=read.profile), read.logo
    else:
        published, logo = _stage_profile(open_target(stack, aws_stack))
    seller = Seller.from_profile(published, logo)
    out.mkdir(parents=True, exist_ok=True)
    renderer = ReceiptRenderer()
    pdfs = {name: renderer.render(build(seller)).pdf for name, build in SAMPLES.items()}
    # The email and the page are HTML: weasyprint prints them to PDF for pdftoppm.
    pdfs["email-confirmation"] = _html_pdf(confirmation_email_html(published))
    pdfs["receipt-page"] = _html_pdf(receipt_page_html(published))
    for name, data in pdfs.items():
        pdf = out / f"{name}.pdf"
        pdf.write_bytes(data)
        subprocess.run(  # noqa: S603 - fixed arguments, our own file
            [pdftoppm, "-png", "-r", "70", str(pdf), str(out / name)], check=True
        )
        Console().print(f"{pdf} → {out / name}-*.png")


def confirmation_email_html(published: PublishedProfile) -> str:
    """The HTML part of a payment confirmation as a customer of this seller receives it."""
    from quittance.notifications.confirmation import (
        PaymentConfirmed,
        compose_payment_confirmation,
    )
    from quittance.notifications.email_kit import Letterhead, Recipient, SellerContact, Sender
    from quittance.seller.identity import SellerIdentity

    identity = SellerIdentity.from_profile(published)
    message = compose_payment_confirmation(
        Letterhead(
            sender=Sender(email="receipts@example.com", name=identity.name),
            seller=SellerContact(name=identity.name, email=identity.email, phone=identity.phone),
            message_id_domain="example.com",
        ),
        Recipient(
            email="camille.durand@example.com",
            name="Camille Durand",
            locale=published.profile.default_language,
            tone=published.profile.tone,
            timezone="Europe/Paris",
        ),
        PaymentConfirmed(
            receipt_number="R-2026-000042",
            invoice_number="F-2026-0142",
            amount=Money(amount_minor=123456, currency="EUR"),
            paid_at=PREVIEW_AT,
            receipt_url="https://pay.example.com/r/AQJrMQ1SLTIwMjYtMDAwMDQy",
        ),
    )
    body = message.get_body(("html",))
    assert body is not None  # composed with an HTML alternative, always
    return str(body.get_content())


def receipt_page_html(published: PublishedProfile) -> str:
    from quittance.links.page import ReceiptView, render_receipt_page
    from quittance.seller.identity import SellerIdentity

    identity = SellerIdentity.from_profile(published)
    view = ReceiptView(
        receipt_number="R-2026-000042",
        invoice_number="F-2026-0142",
        status="paid",
        amount=Money(amount_minor=123456, currency="EUR"),
        balance_due=Money(amount_minor=0, currency="EUR"),
        paid_at=PREVIEW_AT,
        locale=published.profile.default_language,
        seller_name=identity.name,
        seller_email=identity.email,
        seller_phone=identity.phone,
        seller_address=identity.address,
        seller_legal=identity.legal,
        brand_colour=identity.brand_colour,
    )
    return render_receipt_page(view, pdf_href="/r/preview/pdf")


def _html_pdf(html: str) -> bytes:
    from weasyprint import HTML

    # No base URL: the email and the page reference nothing outside themselves.
    return bytes(HTML(string=html).write_pdf())


def _stage_profile(target: Target) -> tuple[PublishedProfile, bytes | None]:
    from quittance.aws.seller_logos import SellerLogos

    name = parameter_name(stage_of(target))
    published = SellerProfileParameter(name, target.client("ssm"), max_age=0).current()
    if published is None:
        raise typer.BadParameter(f"no seller profile at {name}: give a FILE to preview")
    logo = published.profile.logo
    if logo is None:
        return published, None
    logos = SellerLogos(target.resource("ArchiveBucket"), target.client("s3"))
    return published, logos.read(logo.sha256, logo.media_type)
