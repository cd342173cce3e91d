"""The receipts stage's adapters (the ledger's receipt records, the profiles, the Object Lock
archive, the seller, the notifications queue), built from their settings for the receipts
handler's composition root."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from quittance.archive.retention import RetentionPolicy
from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.clients import make_client
from quittance.aws.customer_keys import CustomerKeyring
from quittance.aws.customers_table import CustomersTable
from quittance.aws.ledger_table import LedgerTable
from quittance.aws.queue import SqsQueue
from quittance.aws.secrets import JsonSecret
from quittance.aws.seller_logos import SellerLogos
from quittance.aws.seller_parameter import SellerProfileParameter
from quittance.clock import Clock
from quittance.links.tokens import LinkSigner
from quittance.links.urls import receipt_link
from quittance.receipts.document import Seller
from quittance.receipts.issuance import IssuancePorts, ReceiptIssuer, Sellers
from quittance.receipts.render import ReceiptRenderer
from quittance.receipts.sellers import FixedSeller, ProfileSellers
from quittance.settings import ReceiptsSettings

if TYPE_CHECKING:  # the stubs are a development dependency, not in the Lambda layer
    from mypy_boto3_dynamodb.client import DynamoDBClient


@dataclass(frozen=True)
class ReceiptsDeps:
    settings: ReceiptsSettings
    issuer: ReceiptIssuer
    dynamodb: DynamoDBClient
    """For the idempotency of each job."""
    clock: Clock


def receipts(s: ReceiptsSettings, clock: Clock) -> ReceiptsDeps:
    dynamodb = make_client("dynamodb", s.aws_region)
    link_keys = JsonSecret(s.link_keys_secret_name, make_client("secretsmanager", s.aws_region))

    def link_for(number: str, expires: datetime) -> str:
        # The keys are read per document (cached by the secret's adapter): they rotate.
        signer = LinkSigner.from_secret(link_keys.read())
        return receipt_link(str(s.public_base_url), signer, number, expires)

    return ReceiptsDeps(
        settings=s,
        issuer=ReceiptIssuer(
            IssuancePorts(
                ledger=LedgerTable(s.ledger_table, dynamodb),
                profiles=CustomersTable(
                    s.customers_table,
                    dynamodb,
                    # Opens sealed contact fields; never mints a key (no KMS key id given).
                    CustomerKeyring(
                        s.customers_table,
                        dynamodb,
                        make_client("kms", s.aws_region),
                        None,
                        clock=clock.now,
                    ),
                ),
                sellers=sellers(s),
                archive=ArchiveBucket(
                    s.archive_bucket, make_client("s3", s.aws_region), s.archive_kms_key_id
                ),
            ),
            renderer=ReceiptRenderer(),
            policy=RetentionPolicy(
                mode=s.retention_mode,
                minimum_days=s.retention_days,
                legal_years=s.legal_retention_years,
                fiscal_year_end_month=s.fiscal_year_end_month,
                fiscal_timezone=s.fiscal_timezone,
            ),
            link_for=link_for,
            notices=SqsQueue(s.notifications_queue_url, make_client("sqs", s.aws_region)),
        ),
        dynamodb=dynamodb,
        clock=clock,
    )


def sellers(s: ReceiptsSettings) -> Sellers:
    if s.seller_profile_parameter:
        return ProfileSellers(
            s.stage,
            SellerProfileParameter(
                s.seller_profile_parameter,
                make_client("ssm", s.aws_region),
                max_age=s.seller_profile_max_age_seconds,
            ),
            SellerLogos(s.archive_bucket, make_client("s3", s.aws_region)),
            allow_demo=s.seller_demo_allowed,
        )
    legacy = Seller(
        name=s.seller_name,
        address=s.seller_address,
        siren=s.seller_siren,
        vat_number=s.seller_vat,
        email=s.seller_email,
        phone=s.seller_phone,
        brand_colour=s.brand_colour,
    )
    return FixedSeller(s.stage, legacy, allow_demo=s.seller_demo_allowed)
