"""/admin/* — the staff API, IAM-authorised by API Gateway (SigV4): register invoices, export
the books, and the compliance desk (find, verify, hold, hand over, resend a proof; read and
verify the audit trail). Every call leaves exactly one audit entry, reads included."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig
from aws_lambda_powertools.utilities.typing import LambdaContext

from quittance.archive.desk import Desk, ResendRequest
from quittance.aws.archive_routes import DeskRoutes
from quittance.aws.archive_wiring import compliance_desk, customer_keyring
from quittance.aws.audit_table import AuditTrail
from quittance.aws.books_routes import BooksRoutes
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.exports_bucket import ExportsBucket
from quittance.aws.idempotency import once_per_key
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.mailer import SesMailer
from quittance.clock import Clock, SystemClock
from quittance.observability import instruments
from quittance.settings import (
    ArchiveApiSettings,
    ComplianceSettings,
    InvoiceContactSettings,
    load,
)

logger, metrics, tracer = instruments("archive_api")
# A staff member's retry of the same resend within a week gets the first answer.
RESEND_IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[number, request.request_id]",
    payload_validation_jmespath="request.email",
    expires_after_seconds=7 * 24 * 3600,
)
app = APIGatewayHttpResolver()


@dataclass(frozen=True)
class Deps:
    """The one composition root; what only some routes need is built on first use."""

    ledger: LedgerTable
    trail: AuditTrail
    exports: ExportsBucket
    clock: Clock

    def now(self) -> datetime:
        return self.clock.now()

    @cached_property
    def evidence_url_seconds(self) -> int:
        return int(load(ComplianceSettings).evidence_url_seconds)

    @cached_property
    def desk(self) -> Desk:
        return compliance_desk(
            load(ComplianceSettings),
            ledger=self.ledger,
            trail=self.trail,
            keyring=self.keyring,
            clock=self.clock,
        )

    @cached_property
    def keyring(self) -> CustomerKeyring:
        return customer_keyring(load(InvoiceContactSettings), self.clock)

    @cached_property
    def profiles(self) -> CustomersTable:
        """Profiles, contact fields sealed with the customer's own key (the keyring above)."""
        s = load(InvoiceContactSettings)
        return CustomersTable(
            s.customers_table, make_client("dynamodb", s.aws_region), self.keyring
        )

    @cached_property
    def resend_once(self) -> Callable[..., dict[str, Any]]:
        """The resend, once per (receipt, request id): a repeat returns the first answer."""
        s = load(ComplianceSettings)
        mailer = SesMailer(make_client("sesv2", s.aws_region), s.ses_configuration_set, self.clock)

        def send(payload: dict[str, Any]) -> dict[str, Any]:
            request = ResendRequest.model_validate(payload["request"])
            return self.desk.resend(
                payload["number"],
                request,
                profiles=self.profiles,
                mailer=mailer,
                sender=s.sender_email,
            )

        return once_per_key(
            send,
            data_keyword="payload",
            config=RESEND_IDEMPOTENCY,
            table=s.idempotency_table,
            client=make_client("dynamodb", s.aws_region),
            operation="archive.resend",
        )


@cache
def deps() -> Deps:
    return wire(SystemClock())


def wire(clock: Clock) -> Deps:
    s = load(ArchiveApiSettings)
    dynamodb = make_client("dynamodb", s.aws_region)
    return Deps(
        ledger=LedgerTable(s.ledger_table, dynamodb),
        trail=AuditTrail(load(ComplianceSettings).audit_table, dynamodb, clock=clock.now),
        exports=ExportsBucket(
            s.exports_bucket, make_client("s3", s.aws_region), s.archive_kms_key_id
        ),
        clock=clock,
    )


def services() -> Deps:
    """``deps`` looked up on each request: the local stack's ``use_clock`` replaces it."""
    return deps()


app.include_router(DeskRoutes(services).router)
app.include_router(BooksRoutes(services, logger, metrics).router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    RESEND_IDEMPOTENCY.register_lambda_context(context)
    return app.resolve(event, context)
