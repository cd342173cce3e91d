"""notify's adapters, built from its settings, for the notify function's composition root
(which caches them per execution environment)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.mailer import SesMailer
from quittance.aws.secrets import JsonSecret
from quittance.aws.seller_parameter import SellerProfileParameter
from quittance.aws.sms import SnsSms
from quittance.clock import Clock
from quittance.notifications.dispatch import NotifyPorts
from quittance.seller.identity import SellerIdentities
from quittance.settings import NotifySettings

ClientFactory = Callable[..., Any]
"""``make_client``, or a wrapper of it (a test watching what a client is asked)."""


@dataclass(frozen=True)
class NotifyDeps:
    settings: NotifySettings
    ports: NotifyPorts
    link_keys: JsonSecret
    sellers: SellerIdentities
    dynamodb: Any
    """For the idempotency table."""
    clock: Clock


def notify_deps(
    settings: NotifySettings, clock: Clock, make: ClientFactory = make_client
) -> NotifyDeps:
    s, region = settings, settings.aws_region
    dynamodb = make("dynamodb", region)
    ledger = LedgerTable(s.ledger_table, dynamodb)
    # Opens sealed contact fields; never mints a key (no KMS key id given).
    keyring = CustomerKeyring(
        s.customers_table, dynamodb, make("kms", region), None, clock=clock.now
    )
    parameter = s.seller_profile_parameter
    return NotifyDeps(
        settings=s,
        ports=NotifyPorts(
            profiles=CustomersTable(s.customers_table, dynamodb, keyring),
            mailer=SesMailer(make("sesv2", region), s.ses_configuration_set, clock),
            log=ledger,
            sms=SnsSms(make("sns", region), s.sms_sender_id),
            documents=ledger,
            archive=ArchiveBucket(s.archive_bucket, make("s3", region))
            if s.archive_bucket
            else None,
            invoices=ledger,
        ),
        link_keys=JsonSecret(s.link_keys_secret_name, make("secretsmanager", region)),
        sellers=SellerIdentities(
            s,
            SellerProfileParameter(
                parameter, make("ssm", region), max_age=s.seller_profile_max_age_seconds
            )
            if parameter
            else None,
        ),
        dynamodb=dynamodb,
        clock=clock,
    )
