"""The customer links' adapters (receipt page, download, one-click unsubscribe), built from
their settings for the links handler's composition root."""

from __future__ import annotations

from dataclasses import dataclass

from quittance.aws.archive_bucket import ArchiveBucket
from quittance.aws.clients import make_client
from quittance.aws.customers_table import CustomersTable
from quittance.aws.receipt_records import ReceiptRecords
from quittance.aws.secrets import JsonSecret
from quittance.aws.seller_parameter import SellerProfileParameter
from quittance.clock import Clock
from quittance.links.receipt_page import ReceiptPages
from quittance.links.tokens import LinkSigner
from quittance.seller.identity import SellerIdentities
from quittance.settings import LinksSettings


@dataclass(frozen=True)
class LinksDeps:
    pages: ReceiptPages
    consents: CustomersTable | None
    """For the one-click unsubscribe; None where no customers table is configured."""
    clock: Clock

    def link_signer(self) -> LinkSigner:
        """The unsubscribe links are signed with the same keys as the receipt links."""
        return self.pages.signer()


def links(s: LinksSettings, clock: Clock) -> LinksDeps:
    dynamodb = make_client("dynamodb", s.aws_region)
    keys = JsonSecret(s.link_keys_secret_name, make_client("secretsmanager", s.aws_region))
    sellers = SellerIdentities(
        s,
        SellerProfileParameter(
            s.seller_profile_parameter,
            make_client("ssm", s.aws_region),
            max_age=s.seller_profile_max_age_seconds,
        )
        if s.seller_profile_parameter
        else None,
    )
    return LinksDeps(
        pages=ReceiptPages(
            signer=lambda: LinkSigner.from_secret(keys.read()),
            receipts=ReceiptRecords(s.ledger_table, dynamodb),
            downloads=ArchiveBucket(s.archive_bucket, make_client("s3", s.aws_region)),
            sellers=sellers,
            download_seconds=s.presigned_url_seconds,
        ),
        consents=CustomersTable(s.customers_table, dynamodb) if s.customers_table else None,
        clock=clock,
    )
