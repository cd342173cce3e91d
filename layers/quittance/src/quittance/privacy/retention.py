"""The retention table: every kind of record quittance writes, why, on which legal basis, for
how long, where, and which functions can read it.

This is the single source: ``docs/privacy.md`` (the record of processing, GDPR art. 30) is
generated from it (``python -m quittance_ops.privacy_doc``), a test fails when the doc is
stale, and another scans every table after traffic to check that each item either carries the
TTL stated here or is of a type marked legal archive."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from quittance.ledger.export import BOOKS_EXPORT_PREFIX
from quittance.notifications.dispatch import NOTIFICATION_LOG_RETENTION
from quittance.privacy.export import EXPORT_PREFIX
from quittance.privacy.keyring import DATA_KEY_RETENTION, ERASURE_RECORD_RETENTION
from quittance.privacy.periods import INACTIVE_PROFILE_RETENTION, REDELIVERY_WINDOW
from quittance.reminders import REMINDER_LOG_RETENTION

LEGAL_OBLIGATION = (
    "GDPR art. 6(1)(c); Code de commerce L123-22 (accounting records and supporting "
    "documents, 10 years); art. 17(3)(b) keeps them through an erasure request"
)
CONTRACT = "GDPR art. 6(1)(b): performance of the contract (proof of payment sent to the payer)"
ACCOUNTABILITY = "GDPR art. 5(2), 24 and 30: accountability of the controller"
LEGITIMATE_INTEREST = "GDPR art. 6(1)(f): legitimate interest in processing each payment once"
TEN_YEARS = "10 years after the end of the fiscal year of the payment (Object Lock)"
LEDGER_YEARS = (
    "legal archive: 10 years after the end of the fiscal year of the invoice's newest "
    "activity; then `quittance ledger retire` removes the whole invoice once its proofs are "
    "disposed of (no TTL)"
)
EXPORT_RETENTION = timedelta(days=1)  # template.yaml, ExportsBucket's lifecycle
WEBHOOK_DEDUPE_WINDOW = timedelta(days=7)  # IntakeSettings.dedupe_days default (minimum)


@dataclass(frozen=True)
class RecordType:
    name: str
    location: str
    """Store and key pattern."""
    store: str
    """Logical id of the table or bucket in template.yaml ("" for stores outside the stack)."""
    prefix: str
    """How an item of this type is recognised: pk (tables) or key (bucket) prefix."""
    purpose: str
    legal_basis: str
    retention: str
    personal_data: str
    readers: tuple[str, ...]
    ttl_attribute: str | None = None
    ttl: timedelta | None = None
    """Exact TTL written (relative to the item's own time attribute ``ttl_from``)."""
    ttl_from: str | None = None
    legal_archive: bool = False
    sk_prefix: str = ""


LEDGER_READERS = ("ledger", "receipts", "notify", "links", "archive_api", "privacy_api")

RECORDS: tuple[RecordType, ...] = (
    RecordType(
        name="Invoice",
        location="LedgerTable `INV#<number>` / `#INVOICE`",
        store="LedgerTable",
        prefix="INV#",
        sk_prefix="#INVOICE",
        purpose="State of each invoice: amounts due, paid, refunded, status",
        legal_basis=LEGAL_OBLIGATION,
        retention=LEDGER_YEARS,
        personal_data="pseudonymous customer id only",
        readers=LEDGER_READERS,
        legal_archive=True,
    ),
    RecordType(
        name="Payment event",
        location="LedgerTable `INV#<number>` / `EVT#<time>#<event id>`",
        store="LedgerTable",
        prefix="INV#",
        sk_prefix="EVT#",
        purpose="Every gateway event applied to the invoice (amount, method masked, times)",
        legal_basis=LEGAL_OBLIGATION,
        retention=LEDGER_YEARS,
        personal_data="customer reference at the gateway and locale; card last 4 digits and "
        "masked IBAN only; no contact data (intake strips it)",
        readers=LEDGER_READERS,
        legal_archive=True,
    ),
    RecordType(
        name="Receipt / credit note record",
        location="LedgerTable `INV#<number>` / `RCPT#<number>`",
        store="LedgerTable",
        prefix="INV#",
        sk_prefix="RCPT#",
        purpose="Numbered proof of payment and its archive copy's hash",
        legal_basis=LEGAL_OBLIGATION,
        retention=LEDGER_YEARS,
        personal_data="pseudonymous customer id only",
        readers=LEDGER_READERS,
        legal_archive=True,
    ),
    RecordType(
        name="Anomaly",
        location="LedgerTable `INV#<number>` / `ANOM#<kind>#<payment id>`",
        store="LedgerTable",
        prefix="INV#",
        sk_prefix="ANOM#",
        purpose="Over/under/double payments reported to staff and customer",
        legal_basis=LEGAL_OBLIGATION,
        retention=LEDGER_YEARS,
        personal_data="none",
        readers=LEDGER_READERS,
        legal_archive=True,
    ),
    RecordType(
        name="Payment index",
        location="LedgerTable `INV#<number>` / `PAY#<payment id>`",
        store="LedgerTable",
        prefix="INV#",
        sk_prefix="PAY#",
        purpose="Find the invoice of a payment",
        legal_basis=LEGAL_OBLIGATION,
        retention=LEDGER_YEARS,
        personal_data="none",
        readers=LEDGER_READERS,
        legal_archive=True,
    ),
    RecordType(
        name="Bank entry",
        location="LedgerTable `BANK#<bank reference>` / `ENTRY`",
        store="LedgerTable",
        prefix="BANK#",
        sk_prefix="ENTRY",
        purpose=(
            "What a bank statement's entry settled (or why it waits for staff): the payment "
            "events it produced, who decided; imported once per bank reference"
        ),
        legal_basis=LEGAL_OBLIGATION,
        retention=LEDGER_YEARS,
        personal_data=(
            "the payer's name and remittance text as the bank wrote them, the payer's IBAN "
            "masked to country, check digits and last four characters"
        ),
        readers=("bank_api", "bank_import"),
        legal_archive=True,
    ),
    RecordType(
        name="Document counter",
        location="LedgerTable `SERIES#<series>#<year>` / `#COUNTER`",
        store="LedgerTable",
        prefix="SERIES#",
        purpose="Gapless receipt and credit note numbering",
        legal_basis=LEGAL_OBLIGATION,
        retention="kept while the ledger is in use: one item per series and year, never "
        "removed by retirement (it shows that the numbering went on)",
        personal_data="none",
        readers=("ledger",),
        legal_archive=True,
    ),
    RecordType(
        name="Message log",
        location="LedgerTable `INV#<number>` / `MSG#<change id>#<channel>`",
        store="LedgerTable",
        prefix="INV#",
        sk_prefix="MSG#",
        purpose="What was sent to whom (by pseudonymous id), when, on which channel, status",
        legal_basis=CONTRACT + "; " + ACCOUNTABILITY,
        retention=f"{NOTIFICATION_LOG_RETENTION.days} days (about 13 months), DynamoDB TTL",
        personal_data="none (no address, number or name; never the message content)",
        readers=("notify", "archive_api", "privacy_api"),
        ttl_attribute="expires_at",
        ttl=NOTIFICATION_LOG_RETENTION,
        ttl_from="at",
    ),
    RecordType(
        name="Reminder step",
        location="LedgerTable `INV#<number>` / `REM#<step>`",
        store="LedgerTable",
        prefix="INV#",
        sk_prefix="REM#",
        purpose="Send each invoice reminder once, and never after the invoice is settled",
        legal_basis=CONTRACT,
        retention=f"{REMINDER_LOG_RETENTION.days} days (about 13 months), DynamoDB TTL",
        personal_data="none (step, state, invoice version and times)",
        readers=("reminders",),
        ttl_attribute="expires_at",
        ttl=REMINDER_LOG_RETENTION,
        ttl_from="claimed_at",
    ),
    RecordType(
        name="Customer profile",
        location="CustomersTable `CUST#<customer id>`",
        store="CustomersTable",
        prefix="CUST#",
        purpose="Reach the payer with their proof of payment, and with reminders of the "
        "invoices staff registered for them, in their language, on their channel; marketing "
        "consent; delivery suppression",
        legal_basis=CONTRACT + "; consent (art. 6(1)(a)) for marketing extras",
        retention=f"{INACTIVE_PROFILE_RETENTION.days} days after the last payment event or "
        "invoice registration (DynamoDB TTL, restarted on each: the scheduled purge of "
        "inactive profiles), or until erasure",
        personal_data="name, email, phone, postal address — each sealed with the customer's "
        "own data key (AES-256-GCM); locale, time zone, segment, channel, consent in clear",
        readers=(
            "notify",
            "receipts",
            "feedback (bounced address)",
            "privacy_api (export)",
            "archive_api (writes what staff register with an invoice; the address for a resend)",
        ),
        ttl_attribute="expires_at",
        ttl=INACTIVE_PROFILE_RETENTION,
        ttl_from="updated_at",
    ),
    RecordType(
        name="Customer data key",
        location="CustomersTable `KEY#<customer id>`",
        store="CustomersTable",
        prefix="KEY#",
        purpose="Per-customer envelope encryption; destroying it is the erasure",
        legal_basis=ACCOUNTABILITY + " (art. 25 and 32: protection by design, encryption)",
        retention=f"{DATA_KEY_RETENTION.days} days after it last sealed something (TTL pushed "
        "out at most yearly), as long as the evidence it opens; destroyed on erasure",
        personal_data="none (KMS-wrapped AES key; the encryption context names the pseudonymous "
        "id)",
        readers=("intake", "archive_api", "notify", "receipts", "feedback", "privacy_api"),
        ttl_attribute="expires_at",
        ttl=DATA_KEY_RETENTION,
        ttl_from="created_at",
    ),
    RecordType(
        name="Erasure record",
        location="CustomersTable `ERASED#<customer id>`",
        store="CustomersTable",
        prefix="ERASED#",
        purpose="Proof of the erasure; keeps the customer from being messaged or re-profiled",
        legal_basis=ACCOUNTABILITY + "; art. 17",
        retention=f"{ERASURE_RECORD_RETENTION.days} days (as long as the ledger it covers)",
        personal_data="none (pseudonymous id and date)",
        readers=("intake", "privacy_api"),
        ttl_attribute="expires_at",
        ttl=ERASURE_RECORD_RETENTION,
        ttl_from="erased_at",
    ),
    RecordType(
        name="Consumer idempotency record",
        location="IdempotencyTable `<function>#<hash of the key>`",
        store="IdempotencyTable",
        prefix="",
        purpose="Each queued message is processed once (ledger, receipts, notify)",
        legal_basis=LEGITIMATE_INTEREST,
        retention=f"{REDELIVERY_WINDOW // 86400} days (SQS redelivery window), DynamoDB TTL",
        personal_data="none (hash of the key; the result holds ids and numbers)",
        readers=("ledger", "receipts", "notify"),
        ttl_attribute="expiration",
        ttl=timedelta(seconds=REDELIVERY_WINDOW),
    ),
    RecordType(
        name="Webhook dedupe record",
        location="IdempotencyTable `<intake publisher>#<hash of provider and event id>`",
        store="IdempotencyTable",
        prefix="",
        purpose="A gateway's redelivered event is queued once",
        legal_basis=LEGITIMATE_INTEREST,
        retention=f"{WEBHOOK_DEDUPE_WINDOW.days} days by default (WEBHOOK_DEDUPE_DAYS, at "
        "least the gateways' retry period), DynamoDB TTL",
        personal_data="none",
        readers=("intake",),
        ttl_attribute="expiration",
        ttl=WEBHOOK_DEDUPE_WINDOW,
    ),
    RecordType(
        name="Audit entry",
        location="AuditTable `CHAIN#<name>` / `E#<seq>`",
        store="AuditTable",
        prefix="CHAIN#",
        purpose="Who did what to which proof or customer, hash-chained",
        legal_basis=ACCOUNTABILITY,
        retention="legal archive, as long as the proofs it covers (10 years)",
        personal_data="staff IAM ARN; pseudonymous ids; contact data refused",
        readers=("archive_api", "privacy_api"),
        legal_archive=True,
    ),
    RecordType(
        name="Archived receipt",
        location="ArchiveBucket `receipts/<YYYY>/<MM>/<number>[.<lang>].pdf`",
        store="ArchiveBucket",
        prefix="receipts/",
        purpose="The proof of payment as issued (PDF/A), byte for byte",
        legal_basis=LEGAL_OBLIGATION,
        retention=TEN_YEARS + "; bucket lifecycle expires it afterwards",
        personal_data="payer's name and postal address as printed on the receipt (SSE-KMS; "
        "readable by receipts, links for the payer's own link, archive_api and privacy_api)",
        readers=("receipts", "links", "archive_api", "privacy_api"),
        legal_archive=True,
    ),
    RecordType(
        name="Raw gateway delivery (evidence)",
        location="ArchiveBucket `evidence/<provider>/<YYYY>/<MM>/<event id>.bin`",
        store="ArchiveBucket",
        prefix="evidence/",
        purpose="The gateway's signed delivery exactly as received, for disputes and audits; "
        "for an event the lookup stage completed, what the gateway's API answered instead "
        "(each object read, with its call and time)",
        legal_basis=LEGAL_OBLIGATION + "; art. 17(3)(e) (legal claims)",
        retention=TEN_YEARS + "; unreadable from the customer's erasure on",
        personal_data="everything the gateway sent or its API answered (name, email, "
        "address, masked card) — sealed with the customer's own data key",
        readers=("intake (write)", "lookup (write)", "archive_api", "privacy_api"),
        legal_archive=True,
    ),
    RecordType(
        name="Seller logo",
        location="ArchiveBucket `seller/logos/<sha256>.png|svg` (quittance seller set)",
        store="ArchiveBucket",
        prefix="seller/logos/",
        purpose="The business's logo as printed on receipts, named by its hash so that a "
        "receipt re-rendered later shows the same image",
        legal_basis=LEGAL_OBLIGATION + " (the receipts that show it)",
        retention="the bucket's default Object Lock retention, like the receipts",
        personal_data="none (the business's own image)",
        readers=("receipts", "operators (quittance seller)"),
        legal_archive=True,
    ),
    RecordType(
        name="Customer export",
        location="ExportsBucket `exports/customers/<customer id>/<UTC time>-<request id>.zip`, "
        "handed "
        "over by a 15-minute presigned URL",
        store="ExportsBucket",
        prefix=EXPORT_PREFIX,
        purpose="Hand the data subject their data: right of access and portability (art. 15, 20)",
        legal_basis="GDPR art. 6(1)(c) and art. 12(3) (answer the request, in a commonly used "
        "electronic form); the audit trail records that it was made",
        retention=f"{EXPORT_RETENTION.days} day, S3 lifecycle (no versions, no Object Lock)",
        personal_data="everything in the export (profile with contact data, invoices, "
        "deliveries, receipt PDFs) in clear inside the zip; encrypted at rest with the stack "
        "key (SSE-KMS)",
        readers=("privacy_api", "whoever holds the 15-minute link"),
        ttl=EXPORT_RETENTION,
    ),
    RecordType(
        name="Accounting export",
        location="ExportsBucket `exports/books/<from>_<to>/<UTC time>-<request id>.csv`, "
        "handed over by a 15-minute presigned URL",
        store="ExportsBucket",
        prefix=BOOKS_EXPORT_PREFIX,
        purpose="Give the accountant the period's payments and refunds with their VAT",
        legal_basis=LEGAL_OBLIGATION,
        retention=f"{EXPORT_RETENTION.days} day, S3 lifecycle (no versions, no Object Lock)",
        personal_data="none in clear: invoice numbers, payment ids and amounts, no customer "
        "id, name or contact",
        readers=("archive_api", "whoever holds the 15-minute link"),
        ttl=EXPORT_RETENTION,
    ),
    RecordType(
        name="Evidence bundle",
        location="ArchiveBucket `evidence-bundles/<number>/<time>-evidence.zip`, handed over "
        "by a 5-minute presigned URL (compliance)",
        store="ArchiveBucket",
        prefix="evidence-bundles/",
        purpose="Self-contained proof for an auditor or a dispute, and the record of what was "
        "handed over",
        legal_basis=LEGAL_OBLIGATION + "; art. 17(3)(e)",
        retention="the bucket's default Object Lock retention (10 years in prod); a later "
        "erasure does not reach it",
        personal_data="the receipt and, if the customer was not erased when it was made, the "
        "raw delivery in clear (name, email) as handed over",
        readers=("archive_api",),
        legal_archive=True,
    ),
    RecordType(
        name="Queued messages",
        location="SQS payment-events, receipt-jobs, notifications (and their DLQs)",
        store="",
        prefix="",
        purpose="Hand work from one stage to the next",
        legal_basis=CONTRACT,
        retention="14 days at most (MessageRetentionPeriod)",
        personal_data=(
            "pseudonymous ids, amounts, customer reference and locale; the payment method's "
            "proof fields the receipt and the message state (card brand and last four, masked "
            "IBAN, transfer or cheque reference, who received cash); no contact data"
        ),
        readers=("ledger", "receipts", "notify"),
    ),
    RecordType(
        name="Function logs, metrics, traces",
        location="CloudWatch Logs per function, CloudWatch metrics, X-Ray",
        store="",
        prefix="",
        purpose="Operate and debug the service",
        legal_basis=LEGITIMATE_INTEREST,
        retention="log groups: 14 days (dev) / 400 days (prod); metrics 15 months",
        personal_data="none: known fields redacted and emails, phones, IBANs, card numbers "
        "masked by the logging filter; metric dimensions carry no identities",
        readers=("operators",),
    ),
)


def keeps_its_rule(record: RecordType, item: Mapping[str, Any], now: float) -> bool:
    """Whether a stored ``item`` of this type carries the TTL stated for it (or, for a legal
    archive type, none). A TTL counted from when the item was written is checked against
    ``now`` (a Unix time shortly after the write) within ten minutes."""
    if record.legal_archive:
        return record.ttl_attribute is None or record.ttl_attribute not in item
    if record.ttl_attribute is None or record.ttl is None or record.ttl_attribute not in item:
        return False
    written = int(item[record.ttl_attribute])
    if record.ttl_from is None:
        return abs(written - (now + record.ttl.total_seconds())) < 600
    start = datetime.fromisoformat(str(item[record.ttl_from])).timestamp()
    return abs(written - (start + record.ttl.total_seconds())) <= 1


def record_types(store: str, pk: str, sk: str = "") -> tuple[RecordType, ...]:
    """Every record type an item may be (tables: by pk and sk prefix; bucket: by key prefix).
    Some stores hold several types under one key shape (idempotency records of different
    windows); raises LookupError when no type matches."""
    found = tuple(
        record
        for record in RECORDS
        if record.store == store
        and pk.startswith(record.prefix)
        and sk.startswith(record.sk_prefix)
    )
    if not found:
        raise LookupError(f"{store}: no retention rule for {pk!r} / {sk!r}")
    return found


def record_type(store: str, pk: str, sk: str = "") -> RecordType:
    """The first record type an item may be (see :func:`record_types`)."""
    return record_types(store, pk, sk)[0]


def stored_as_stated(store: str, item: Mapping[str, Any], now: float) -> bool:
    """Whether a table item keeps the rule of one of the types its key says it may be."""
    pk, sk = str(item.get("pk") or item.get("id")), str(item.get("sk", ""))
    return any(keeps_its_rule(record, item, now) for record in record_types(store, pk, sk))
