"""GET /r/{token}: the customer's receipt page; GET /r/{token}/pdf: a fresh download link;
GET/POST /u/{token}: one-click unsubscribe from marketing extras (RFC 8058)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from quittance import errors
from quittance.aws.links_wiring import LinksDeps, links
from quittance.clock import Clock, SystemClock
from quittance.links.page import PAGE_HEADERS, page_language
from quittance.notifications.unsubscribe import (
    customer_of,
    render_unsubscribe_page,
    withdraw_marketing_consent,
)
from quittance.observability import instruments
from quittance.settings import LinksSettings, load

logger, metrics, tracer = instruments("links")
app = APIGatewayHttpResolver()


@cache
def deps() -> LinksDeps:
    return wire(SystemClock())


def wire(clock: Clock) -> LinksDeps:
    return links(load(LinksSettings), clock)


def _html(status: int, body: str) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.TEXT_HTML,
        body=body,
        headers=PAGE_HEADERS,
    )


@app.get("/r/<token>")
def page(token: str) -> Response[str]:
    html = deps().pages.page(token, deps().clock.now(), _locale(), pdf_href=f"/r/{token}/pdf")
    metrics.add_metric(name="page_views", unit=MetricUnit.Count, value=1)
    return _html(200, html)


@app.get("/r/<token>/pdf")
def pdf(token: str) -> Response[str]:
    url = deps().pages.download_url(token, deps().clock.now())
    metrics.add_metric(name="pdf_downloads", unit=MetricUnit.Count, value=1)
    return Response(status_code=302, headers={**PAGE_HEADERS, "Location": url}, body="")


@app.get("/u/<token>")
def unsubscribe_page(token: str) -> Response[str]:
    # Showing the form changes nothing: mail scanners open links; only the POST withdraws.
    d = deps()
    customer_of(d.link_signer(), token, d.clock.now())
    seller = d.pages.seller_name()
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
    withdraw_marketing_consent(d.link_signer(), token, d.consents, d.clock.now())
    metrics.add_metric(name="unsubscribes", unit=MetricUnit.Count, value=1)
    seller = d.pages.seller_name()
    return _html(
        200, render_unsubscribe_page(_locale(), f"/u/{token}", done=True, seller_name=seller)
    )


def _locale() -> str:
    event = app.current_event
    return page_language(
        (event.query_string_parameters or {}).get("lang"),
        (event.headers or {}).get("accept-language", ""),
    )


@app.exception_handler(errors.LinkExpired)  # type: ignore[untyped-decorator]
def expired(_: errors.LinkExpired) -> Response[str]:
    return _html(410, deps().pages.expired_page(_locale()))


@app.exception_handler(errors.LinkInvalid)  # type: ignore[untyped-decorator]
@app.exception_handler(errors.NotFound)  # type: ignore[untyped-decorator]
def not_found(_: errors.QuittanceError) -> Response[str]:
    return _html(404, deps().pages.not_found_page(_locale()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
