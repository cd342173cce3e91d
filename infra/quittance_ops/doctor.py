"""``quittance doctor``: what still stands between a deployed stack and real customers, read
from the stack and the account, one line each with its fix. Exit 1 while something blocks.

Every check reads an AWS API the operator's own credentials can call (or, locally, what moto
exposes of it): SES identity and DKIM, the SES and SMS sandboxes and the SMS spend limit,
the webhook secrets, the seller the receipts are issued in the name of, the alarms and who
receives them, and the archive's Object Lock configuration for the stage. A check that
cannot be read says so and blocks: "unknown" is not "ready"; the SMS sandbox is the one
exception (it only matters to customers who chose SMS, and moto cannot report it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Annotated, Any, NamedTuple

import typer
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError
from rich.console import Console

from quittance.aws.seller_parameter import SellerProfileParameter
from quittance.seller import PublishedProfile
from quittance.settings import SellerSettings
from quittance_ops.localstack.template import load_template
from quittance_ops.options import AwsOpt, JsonOpt, StackOpt, emit
from quittance_ops.project import project_root
from quittance_ops.seller_publish import parameter_name
from quittance_ops.target import Target, open_target

# SES's sandbox quota; production access raises both (AWS's own figures for a new account).
SANDBOX_DAILY_QUOTA = 200
# AWS's default monthly SMS spend limit for an account, in USD.
DEFAULT_SMS_SPEND_LIMIT = 1.0
DEMO_SELLER_SIREN = SellerSettings.model_fields["seller_siren"].default
DEMO_SELLER_NAME = SellerSettings.model_fields["seller_name"].default
SELLER_VARIABLES = ("SELLER_NAME", "SELLER_SIREN", "SELLER_ADDRESS", "SELLER_VAT")
# Resources a later stack version may hold gateway API credentials in (read-only keys the
# ledger uses to complete thin events); this version holds none.
GATEWAY_KEY_SECRETS = ("GatewayApiKeys",)


class Lock(NamedTuple):
    mode: str
    days: int


# template.yaml, Mappings.StageSettings (tests/cli/test_doctor.py keeps them equal).
EXPECTED_LOCK = {"dev": Lock("GOVERNANCE", 1), "prod": Lock("COMPLIANCE", 3650)}


class Status(StrEnum):
    OK = "ok"
    BLOCKS = "blocks"
    WARN = "warn"


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    detail: str
    fix: str = ""


class Unreadable(Exception):
    """An API the check needs refused or does not exist here."""


def _code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or exc)
    return type(exc).__name__


@dataclass(frozen=True)
class Doctor:
    target: Target
    stage: str
    template_environment: Callable[[str], dict[str, str]] | None = None

    def findings(self) -> list[Finding]:
        found: list[Finding] = []
        for name, check in CHECKS:
            try:
                found.extend(check(self))
            except (*AWS_ERRORS, Unreadable) as exc:
                found.append(
                    Finding(
                        name,
                        Status.BLOCKS,
                        f"could not be read ({_code(exc)})",
                        "run doctor with credentials that may read it, or check in the console",
                    )
                )
        return found

    # ------------------------------------------------------------------ helpers
    @property
    def sender_domain(self) -> str | None:
        return self.target.outputs.get("SenderDomainName") or self.target.resources.get(
            "SenderIdentity"
        )

    def function_environment(self, logical_id: str) -> dict[str, str]:
        if self.target.is_local and self.template_environment is not None:
            return self.template_environment(logical_id)
        name = self.target.resource(logical_id)
        config = self.target.client("lambda").get_function_configuration(FunctionName=name)
        return dict((config.get("Environment") or {}).get("Variables") or {})


# What an endpoint without the API answers: AWS an error code, moto a 500 page botocore cannot
# parse (an action it has not implemented).
AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError)


# ---------------------------------------------------------------------- checks
def check_sender_identity(doctor: Doctor) -> Iterator[Finding]:
    domain = doctor.sender_domain
    if not domain:
        yield Finding(
            "SES identity",
            Status.BLOCKS,
            "the stack names no sender domain",
            "deploy this template version (output SenderDomainName)",
        )
        return
    try:
        identity = doctor.target.client("sesv2").get_email_identity(EmailIdentity=domain)
    except ClientError as exc:
        if _code(exc) != "NotFoundException":
            raise
        yield Finding(
            "SES identity",
            Status.BLOCKS,
            f"{domain} is not an SES identity in {doctor.target.region}",
            "deploy with SenderIdentityExists=false, or create and verify it in this region",
        )
        return
    status = str(identity.get("VerificationStatus", "")).upper()
    if status == "SUCCESS":
        yield Finding("SES identity", Status.OK, f"{domain} verified")
    else:
        yield Finding(
            "SES identity",
            Status.BLOCKS,
            f"{domain} not verified yet ({status or 'no status'})",
            "add the DKIM records below to the domain's DNS; SES verifies it once they resolve",
        )


def check_dkim(doctor: Doctor) -> Iterator[Finding]:
    domain = doctor.sender_domain
    if not domain:
        return
    found = doctor.target.client("ses").get_identity_dkim_attributes(Identities=[domain])
    attributes = found.get("DkimAttributes", {}).get(domain, {})
    tokens = attributes.get("DkimTokens") or []
    records = [f"{t}._domainkey.{domain} CNAME {t}.dkim.amazonses.com" for t in tokens]
    status = str(attributes.get("DkimVerificationStatus", "NotStarted"))
    if status == "Success":
        yield Finding("DKIM", Status.OK, "; ".join(records) or "verified")
    elif records:
        yield Finding(
            "DKIM",
            Status.BLOCKS,
            f"{status}: the records are not seen yet",
            "add to DNS: " + "; ".join(records),
        )
    else:
        yield Finding(
            "DKIM",
            Status.BLOCKS,
            f"{status}: no DKIM tokens",
            "see the stack outputs DkimRecord1..3, or enable Easy DKIM on the identity",
        )


def _ses_production_access(doctor: Doctor) -> bool:
    try:
        account = doctor.target.client("sesv2").get_account()
    except ClientError:
        # Not every endpoint has SES v2's GetAccount (moto has not): the sending quota says
        # the same, a sandbox account being held to 200 messages a day.
        quota = doctor.target.client("ses").get_send_quota()
        return float(quota.get("Max24HourSend", 0)) > SANDBOX_DAILY_QUOTA
    return bool(account.get("ProductionAccessEnabled"))


def check_ses_sandbox(doctor: Doctor) -> Iterator[Finding]:
    if _ses_production_access(doctor):
        yield Finding("SES sandbox", Status.OK, "production access: any recipient")
    else:
        yield Finding(
            "SES sandbox",
            Status.BLOCKS,
            "in the SES sandbox: only verified recipients, 200 messages a day",
            "request production access (console: SES > Account dashboard)",
        )


def check_sms(doctor: Doctor) -> Iterator[Finding]:
    sns = doctor.target.client("sns")
    attributes = sns.get_sms_attributes(attributes=["MonthlySpendLimit"]).get("attributes", {})
    raw = attributes.get("MonthlySpendLimit")
    limit = float(raw) if raw else DEFAULT_SMS_SPEND_LIMIT
    if limit <= DEFAULT_SMS_SPEND_LIMIT:
        yield Finding(
            "SMS spend limit",
            Status.BLOCKS,
            f"{limit:g} USD a month{'' if raw else ' (the account default)'}: a few messages",
            "ask AWS support for a higher limit, then: "
            "aws sns set-sms-attributes --attributes MonthlySpendLimit=<USD>",
        )
    else:
        yield Finding("SMS spend limit", Status.OK, f"{limit:g} USD a month")
    try:
        sandbox = sns.get_sms_sandbox_account_status().get("IsInSandbox")
    except AWS_ERRORS as exc:
        yield Finding(
            "SMS sandbox",
            Status.WARN,
            f"could not be read ({_code(exc)})",
            "check console: SNS > Text messaging (SMS) > Sandbox",
        )
        return
    if sandbox:
        yield Finding(
            "SMS sandbox",
            Status.BLOCKS,
            "in the SMS sandbox: only verified numbers receive texts",
            "exit it: console SNS > Text messaging (SMS) > Exit SMS sandbox",
        )
    else:
        yield Finding("SMS sandbox", Status.OK, "out of the SMS sandbox")


def _secret_json(doctor: Doctor, logical_id: str) -> dict[str, Any]:
    secret = doctor.target.client("secretsmanager").get_secret_value(
        SecretId=doctor.target.resource(logical_id)
    )
    try:
        value = json.loads(secret.get("SecretString") or "{}")
    except json.JSONDecodeError as exc:
        raise Unreadable(f"{logical_id} is not JSON") from exc
    if not isinstance(value, dict):
        raise Unreadable(f"{logical_id} is not a JSON object")
    return value


def check_webhook_secrets(doctor: Doctor) -> Iterator[Finding]:
    secrets = _secret_json(doctor, "WebhookSecrets")
    ready = sorted(p for p, values in secrets.items() if values)
    missing = sorted(p for p, values in secrets.items() if not values)
    name = doctor.target.resource("WebhookSecrets").rsplit(":", 1)[-1]
    for provider in missing:
        yield Finding(
            f"webhook secret: {provider}",
            Status.BLOCKS,
            "no signing secret: every delivery from this gateway is refused (401)",
            f'put it in {name} as {{"{provider}": ["…"]}}, or remove "{provider}" if unused',
        )
    if ready:
        yield Finding("webhook secrets", Status.OK, f"set for {', '.join(ready)}")
    elif not missing:
        yield Finding(
            "webhook secrets",
            Status.BLOCKS,
            "no provider configured",
            f'put each gateway\'s signing secret in {name}, e.g. {{"stripe": ["whsec_…"]}}',
        )


def check_gateway_keys(doctor: Doctor) -> Iterator[Finding]:
    held = [name for name in GATEWAY_KEY_SECRETS if name in doctor.target.resources]
    if not held:
        yield Finding("gateway API keys", Status.OK, "this stack version reads no gateway API")
        return
    for logical_id in held:
        keys = _secret_json(doctor, logical_id)
        empty = sorted(p for p, value in keys.items() if not value)
        if empty:
            yield Finding(
                "gateway API keys",
                Status.BLOCKS,
                f"no key for {', '.join(empty)}",
                f"put a restricted, read-only key per gateway in {logical_id}",
            )
        else:
            yield Finding("gateway API keys", Status.OK, f"set for {', '.join(sorted(keys))}")


def seller_finding(stage: str, environment: dict[str, str]) -> Finding:
    """Whose name the receipts are issued in: the demo company is a blocker in prod."""
    name = environment.get("SELLER_NAME") or DEMO_SELLER_NAME
    siren = environment.get("SELLER_SIREN") or DEMO_SELLER_SIREN
    if siren != DEMO_SELLER_SIREN and name != DEMO_SELLER_NAME:
        return Finding("seller profile", Status.OK, f"receipts issued by {name} (SIREN {siren})")
    fix = "set the seller (" + ", ".join(SELLER_VARIABLES) + ") of ReceiptsFunction"
    if stage == "prod":
        return Finding(
            "seller profile",
            Status.BLOCKS,
            f"receipts would be issued in the demo company's name ({DEMO_SELLER_NAME})",
            fix,
        )
    return Finding(
        "seller profile", Status.WARN, f"demo company ({DEMO_SELLER_NAME}), fine for {stage}", fix
    )


def profile_finding(stage: str, parameter: str, published: PublishedProfile | None) -> Finding:
    """The stage's seller profile (quittance seller set): none, or the demo company's, is a
    blocker in prod, where the receipts function refuses to issue under it."""
    fix = "quittance seller set YOUR-BUSINESS.yaml (start from infra/profiles/demo-seller.yaml)"
    severity = Status.BLOCKS if stage == "prod" else Status.WARN
    if published is None:
        return Finding("seller profile", severity, f"no seller profile at {parameter}", fix)
    profile = published.profile
    who = f"{profile.legal_name} (SIREN {profile.siren}), version {published.version}"
    if profile.is_demo:
        detail = f"the demo company's profile: {who}"
        if stage != "prod":
            detail += f", fine for {stage}"
        return Finding("seller profile", severity, detail, fix)
    return Finding("seller profile", Status.OK, f"receipts issued by {who}")


def check_seller(doctor: Doctor) -> Iterator[Finding]:
    environment = doctor.function_environment("ReceiptsFunction")
    parameter = environment.get("SELLER_PROFILE_PARAMETER", "")
    if not parameter.startswith("/"):
        if "SELLER_PROFILE_PARAMETER" not in environment and not doctor.target.is_local:
            # A stack deployed before seller profiles: its seller is still env variables.
            yield seller_finding(doctor.stage, environment)
            return
        parameter = parameter_name(doctor.stage)  # the template's !Sub, resolved
    store = SellerProfileParameter(parameter, doctor.target.client("ssm"), max_age=0)
    yield profile_finding(doctor.stage, parameter, store.current())


def check_alarms(doctor: Doctor) -> Iterator[Finding]:
    topic = doctor.target.resource("OpsAlertsTopic")
    sns = doctor.target.client("sns")
    subscriptions = []
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
        subscriptions.extend(page.get("Subscriptions", []))
    emails = [s for s in subscriptions if s.get("Protocol") == "email"]
    pending = [s["Endpoint"] for s in emails if s.get("SubscriptionArn") == "PendingConfirmation"]
    if not emails:
        yield Finding(
            "alarm email",
            Status.BLOCKS,
            "nobody receives the ops alerts",
            "redeploy with AlarmEmail=<address>, then confirm the email AWS sends",
        )
    elif pending:
        yield Finding(
            "alarm email",
            Status.BLOCKS,
            f"not confirmed yet: {', '.join(pending)}",
            "open the 'AWS Notification - Subscription Confirmation' email and confirm",
        )
    else:
        yield Finding("alarm email", Status.OK, ", ".join(s["Endpoint"] for s in emails))
    alarms: list[dict[str, Any]] = []
    paginator = doctor.target.client("cloudwatch").get_paginator("describe_alarms")
    for page in paginator.paginate():
        alarms.extend(a for a in page.get("MetricAlarms", []) if topic in a.get("AlarmActions", []))
    firing = sorted(a["AlarmName"] for a in alarms if a.get("StateValue") == "ALARM")
    if not alarms:
        yield Finding("alarms", Status.BLOCKS, "no alarm publishes to the ops topic", "redeploy")
    elif firing:
        yield Finding(
            "alarms",
            Status.BLOCKS,
            f"firing: {', '.join(firing)}",
            "quittance dlq list; the function's logs",
        )
    else:
        yield Finding("alarms", Status.OK, f"{len(alarms)} alarms, none firing")


def check_object_lock(doctor: Doctor) -> Iterator[Finding]:
    expected = EXPECTED_LOCK.get(doctor.stage)
    bucket = doctor.target.outputs.get("ArchiveBucketName") or doctor.target.resource(
        "ArchiveBucket"
    )
    config = doctor.target.client("s3").get_object_lock_configuration(Bucket=bucket)
    lock = config.get("ObjectLockConfiguration", {})
    retention = lock.get("Rule", {}).get("DefaultRetention", {})
    days = int(retention.get("Days") or 0) or 365 * int(retention.get("Years") or 0)
    found = Lock(str(retention.get("Mode", "")), days)
    if lock.get("ObjectLockEnabled") != "Enabled" or expected is None or found != expected:
        yield Finding(
            "Object Lock",
            Status.BLOCKS,
            f"{bucket}: {found.mode or 'no'} lock, {found.days} days; stage {doctor.stage} "
            f"expects {expected.mode if expected else '?'} {expected.days if expected else '?'}",
            "redeploy template.yaml unchanged (its StageSettings set the lock)",
        )
    else:
        yield Finding("Object Lock", Status.OK, f"{found.mode}, {found.days} days default")


CHECKS: tuple[tuple[str, Callable[[Doctor], Iterator[Finding]]], ...] = (
    ("SES identity", check_sender_identity),
    ("DKIM", check_dkim),
    ("SES sandbox", check_ses_sandbox),
    ("SMS", check_sms),
    ("webhook secrets", check_webhook_secrets),
    ("gateway API keys", check_gateway_keys),
    ("seller profile", check_seller),
    ("alarms", check_alarms),
    ("Object Lock", check_object_lock),
)


# ---------------------------------------------------------------------- the command
MARKS = {Status.OK: "[green]ok[/]", Status.BLOCKS: "[red]BLOCKS[/]", Status.WARN: "[yellow]warn[/]"}


def _stage_of(target: Target) -> str:
    stage = target.outputs.get("Stage") or target.local.get("stage")
    if not stage:
        raise typer.BadParameter(f"{target.name}: no Stage output (deploy this template version)")
    return str(stage)


def _template_environment(logical_id: str) -> dict[str, str]:
    """A local function's variables as template.yaml declares them (the local stack runs the
    functions in-process with exactly those); only plain values are needed here."""
    template = load_template(project_root() / "template.yaml")
    variables = {
        **template.get("Globals", {})
        .get("Function", {})
        .get("Environment", {})
        .get("Variables", {}),
        **template["Resources"][logical_id]["Properties"]
        .get("Environment", {})
        .get("Variables", {}),
    }
    return {k: v for k, v in variables.items() if isinstance(v, str)}


def doctor(
    stack: StackOpt = None,
    aws_stack: AwsOpt = None,
    as_json: JsonOpt = False,
    stage: Annotated[
        str | None, typer.Option(help="The stage to judge against (default: the stack's own)")
    ] = None,
) -> None:
    """What still stands between the stack and real customers, each with its fix; exit 1
    while something blocks."""
    target = open_target(stack, aws_stack)
    found = Doctor(target, stage or _stage_of(target), _template_environment).findings()
    blocking = [f for f in found if f.status is Status.BLOCKS]
    if not emit(as_json, {"ok": not blocking, "findings": [asdict(f) for f in found]}):
        console = Console()
        for finding in found:
            console.print(f"{MARKS[finding.status]:>16} {finding.check}: {finding.detail}")
            if finding.fix and finding.status is not Status.OK:
                console.print(f"{'':>7}fix: {finding.fix}")
        console.print(
            f"[bold red]{len(blocking)} thing(s) block real customers[/]"
            if blocking
            else "[bold green]nothing blocks real customers[/]"
        )
    if blocking:
        raise typer.Exit(code=1)
