"""GET /r/{token}: the customer's receipt page; GET /r/{token}/pdf: a fresh download link;
GET/POST /u/{token}: one-click unsubscribe from marketing extras (RFC 8058)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from quittance import errors
from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.clients import make_client
from quittance.aws.customers_table import CustomersTable
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.secrets import JsonSecret
from quittance.aws.seller_parameter import SellerProfileParameter
from quittance.clock import Clock, SystemClock
from quittance.links.page import (
    ReceiptView,
    page_language,
    render_expired_page,
    render_not_found_page,
    render_receipt_page,
)
from quittance.links.tokens import LinkClaims, LinkSigner
from quittance.notifications.unsubscribe import (
    customer_of,
    render_unsubscribe_page,
    withdraw_marketing_consent,
)
from quittance.observability import instruments
from quittance.seller.identity import SellerIdentities
from quittance.settings import LinksSettings, load

logger, metrics, tracer = instruments("links")
app = APIGatewayHttpResolver()

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class Deps:
    settings: LinksSettings
    ledger: LedgerTable
    archive: ArchiveBucket
    link_keys: JsonSecret
    consents: CustomersTable | None
    """For the one-click unsubscribe; None where no customers table is configured."""
    sellers: SellerIdentities
    clock: Clock


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    s = load(LinksSettings)
    dynamodb = make_client("dynamodb", s.aws_region)
    return Deps(
        settings=s,
        ledger=LedgerTable(s.ledger_table, dynamodb),
        archive=ArchiveBucket(s.archive_bucket, make_client("s3", s.aws_region)),
        link_keys=JsonSecret(s.link_keys_secret_name, make_client("secretsmanager", s.aws_region)),
        consents=CustomersTable(s.customers_table, dynamodb) if s.customers_table else None,
        sellers=SellerIdentities(
            s,
            SellerProfileParameter(
                s.seller_profile_parameter,
                make_client("ssm", s.aws_region),
                max_age=s.seller_profile_max_age_seconds,
            )
            if s.seller_profile_parameter
            else None,
        ),
        clock=clock,
    )


def _html(status: int, body: str) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.TEXT_HTML,
        body=body,
        headers=SECURITY_HEADERS,
    )


def _claims(token: str) -> LinkClaims:
    signer = LinkSigner.from_secret(deps().link_keys.read())
    return signer.verify(token, deps().clock.now())


def _receipt(token: str) -> dict[str, Any]:
    return deps().ledger.receipt_item(_claims(token).receipt_number)


@app.get("/r/<token>")
def page(token: str) -> Response[str]:
    item = _receipt(token)
    data = item["data"]
    seller = deps().sellers.current()
    view = ReceiptView(
        receipt_number=data["receipt_number"],
        invoice_number=data["invoice_number"],
        status={"partially_paid": "partial", "overpaid": "overpaid", "refunded": "refunded"}.get(
            data["invoice_status"], "paid"
        ),
        amount=data["amount"],
        balance_due=data["balance_due"],
        paid_at=data["paid_at"],
        locale=_locale(),
        seller_name=seller.name,
        seller_email=seller.email,
        seller_phone=seller.phone,
        seller_address=seller.address,
        seller_legal=seller.legal,
        brand_colour=seller.brand_colour,
    )
    metrics.add_metric(name="page_views", unit=MetricUnit.Count, value=1)
    return _html(200, render_receipt_page(view, pdf_href=f"/r/{token}/pdf"))


@app.get("/r/<token>/pdf")
def pdf(token: str) -> Response[str]:
    item = _receipt(token)
    archive = item.get("archive")
    if not archive:
        raise errors.NotFound("receipt not archived yet")
    number = item["data"]["receipt_number"]
    url = deps().archive.presign_download(
        archive["key"],
        archive["version_id"],
        filename=f"{number}.pdf",
        seconds=deps().settings.presigned_url_seconds,
    )
    metrics.add_metric(name="pdf_downloads", unit=MetricUnit.Count, value=1)
    return Response(status_code=302, headers={**SECURITY_HEADERS, "Location": url}, body="")


@app.get("/u/<token>")
def unsubscribe_page(token: str) -> Response[str]:
    # Showing the form changes nothing: mail scanners open links; only the POST withdraws.
    customer_of(_signer(), token, deps().clock.now())
    seller = deps().sellers.current().name
    return _html(
        200, render_unsubscribe_page(_locale(), f"/u/{token}", done=False, seller_name=seller)
    )


@app.post("/u/<token>")
def unsubscribe(token: str) -> Response[str]:
    """RFC 8058 one-click (body ``List-Unsubscribe=One-Click``) and the page's button alike:
    the signed token is the whole authority, no login, no cookie."""
    d = deps()
    if d.consents is None:
        raise errors.NotFound("unsubscribe is not configured")
    withdraw_marketing_consent(_signer(), token, d.consents, d.clock.now())
    metrics.add_metric(name="unsubscribes", unit=MetricUnit.Count, value=1)
    seller = d.sellers.current().name
    return _html(
        200, render_unsubscribe_page(_locale(), f"/u/{token}", done=True, seller_name=seller)
    )


def _signer() -> LinkSigner:
    return LinkSigner.from_secret(deps().link_keys.read())


def _locale() -> str:
    event = app.current_event
    return page_language(
        (event.query_string_parameters or {}).get("lang"),
        (event.headers or {}).get("accept-language", ""),
    )


@app.exception_handler(errors.LinkExpired)  # type: ignore[untyped-decorator]
def expired(_: errors.LinkExpired) -> Response[str]:
    seller = deps().sellers.current()
    return _html(410, render_expired_page(_locale(), seller.name, seller.email))


@app.exception_handler(errors.LinkInvalid)  # type: ignore[untyped-decorator]
@app.exception_handler(errors.NotFound)  # type: ignore[untyped-decorator]
def not_found(_: errors.QuittanceError) -> Response[str]:
    # Tampered token and unknown receipt look the same: the page leaks nothing.
    return _html(404, render_not_found_page(_locale()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
