"""template.yaml's promises that neither moto nor cfn-lint checks.

moto accepts a shortened COMPLIANCE retention and its CloudFormation drops Object Lock settings,
so the archive, the records, the queues, the IAM roles and the wiring are asserted here on the
template itself: on the source for what SAM reads (routes, handlers), and on the SAM-transformed
template of each stage for everything CloudFormation will create.

Each rule is a small function that returns a list of violations (empty when the template keeps
its promise). The tests assert ``== []`` on the real template, and the "teeth" tests at the end
assert that each rule reports a regression planted in a copy of it.
"""

from __future__ import annotations

import copy
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from cfnlint.api import ManualArgs, lint_file
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGION = "eu-west-3"
STAGES = ("dev", "prod")

Template = dict[str, Any]
Resource = dict[str, Any]


class ArchiveLock(NamedTuple):
    mode: str
    days: int
    legal_years: int


# DESIGN.md, "Archive (S3)": COMPLIANCE for 10 years in production, GOVERNANCE and a short
# period in dev so a dev account can be cleaned.
EXPECTED_ARCHIVE = {
    "dev": ArchiveLock("GOVERNANCE", 1, 0),
    "prod": ArchiveLock("COMPLIANCE", 3650, 10),
}
# DESIGN.md, "Records (DynamoDB)": TTL attribute per table; the audit table is a legal archive.
EXPECTED_TTL = {
    "LedgerTable": "expires_at",
    "CustomersTable": "expires_at",
    "IdempotencyTable": "expiration",
}
AUDIT_TABLE = "AuditTable"
RECORD_TABLES = ("LedgerTable", "CustomersTable", AUDIT_TABLE)
OPS_TOPIC = "OpsAlertsTopic"
RECEIPTS_FUNCTION = "ReceiptsFunction"
WEASYPRINT_LAYER = "WeasyprintLayer"
REQUIRED_ROUTES = {
    ("POST", "/webhooks/{provider}"),
    ("GET", "/r/{token}"),
    ("GET", "/r/{token}/pdf"),
}
MIN_PYTHON_MINOR = 12

# Actions that could shorten, lift or bypass the archive's lock, or delete a receipt.
FORBIDDEN_S3_ACTIONS = (
    "s3:PutObjectRetention",
    "s3:BypassGovernanceRetention",
    "s3:PutBucketVersioning",
    "s3:PutBucketObjectLockConfiguration",
    "s3:DeleteObjectVersion",
    "s3:DeleteObject",
    "s3:PutObjectLegalHold",
)
# Only the staff API may put legal holds (and nothing else from the list above).
STAFF_FUNCTION = "ArchiveApiFunction"
STAFF_S3_ACTIONS = frozenset({"s3:PutObjectLegalHold"})
# S3 authorises a PutObject that carries Object Lock headers against s3:PutObjectRetention
# too, so the roles whose code writes locked objects need it, on their own prefix only, and
# only for the stage's mode and at least its retention: it can then neither switch a lock
# nor set a shorter one (quittance.aws.archive_bucket writes both prefixes).
LOCKED_WRITERS = {
    "IntakeFunctionRole": "evidence/*",
    "LookupFunctionRole": "evidence/*",  # what the gateway's API answered
    "ReceiptsFunctionRole": "receipts/*",
}
RETENTION_ACTION = "s3:PutObjectRetention"
LOCK_MODE_KEY = "s3:object-lock-mode"
LOCK_DAYS_KEY = "s3:object-lock-remaining-retention-days"
AUDIT_WRITE_ACTIONS = ("dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem")
ALLOWED_KMS_ACTIONS = {"kms:decrypt", "kms:generatedatakey"}
# The transform's own managed policies; any other one cannot be reviewed from the template.
ALLOWED_MANAGED_POLICIES = {
    "service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess",
    "service-role/AWSLambdaSQSQueueExecutionRole",
}


# ---------------------------------------------------------------- reading the template


class _NoManagedPolicies:
    """The transform's managed-policy loader, without IAM: no policy name is looked up."""

    def load(self) -> dict[str, str]:
        return {}


def _packaged(source: Template) -> Template:
    """A copy of ``source`` with local code folders replaced by S3 URIs, as ``sam package``
    would; the translator refuses local paths."""
    packaged = copy.deepcopy(source)
    for resource in packaged["Resources"].values():
        properties = resource.get("Properties") or {}
        for key in ("CodeUri", "ContentUri"):
            uri = properties.get(key)
            if isinstance(uri, str) and not uri.startswith("s3://"):
                properties[key] = f"s3://quittance-artifacts/{uri.strip('/')}"
    return packaged


def translate(source: Template, stage: str) -> Template:
    """The CloudFormation template SAM deploys for ``stage``, offline: the translator only asks a
    boto3 Session for its region (samtranslator.sdk.parameter.add_pseudo_parameter_values), which
    the Session reads from AWS_DEFAULT_REGION; no profile or config file is consulted."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", REGION)
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.delenv("AWS_PROFILE", raising=False)
        return transform(_packaged(source), {"Stage": stage}, _NoManagedPolicies())


_NO_VALUE = object()


@dataclass(frozen=True)
class Stack:
    """A template as one stage sees it: parameters, mappings and conditions evaluated, resources
    that the stage does not create left out. Ref/GetAtt/Sub of resources stay as they are."""

    stage: str
    template: Template
    resources: dict[str, Resource]
    outputs: dict[str, Any]

    @classmethod
    def of(cls, template: Template, stage: str, overrides: dict[str, Any] | None = None) -> Stack:
        """``overrides``: parameter values given at deploy time (the defaults otherwise)."""
        parameters = {
            name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()
        }
        parameters.update(overrides or {})
        parameters["Stage"] = stage
        evaluator = _Evaluator(template, parameters)
        resources = {
            name: evaluator.resolve(resource)
            for name, resource in template["Resources"].items()
            if "Condition" not in resource or evaluator.condition(resource["Condition"])
        }
        outputs = {
            name: evaluator.resolve(output)
            for name, output in template.get("Outputs", {}).items()
            if "Condition" not in output or evaluator.condition(output["Condition"])
        }
        return cls(stage, template, resources, outputs)

    def of_type(self, type_: str) -> dict[str, Resource]:
        return {name: r for name, r in self.resources.items() if r["Type"] == type_}

    def type_of(self, name: str | None) -> str | None:
        resource = self.resources.get(name) if name else None
        return resource["Type"] if resource else None


class _Evaluator:
    """The few intrinsics the template uses for stages: Ref to a parameter, Fn::FindInMap,
    Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or, Condition and AWS::NoValue."""

    def __init__(self, template: Template, parameters: dict[str, Any]) -> None:
        self.template = template
        self.parameters = parameters

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and arg == "AWS::NoValue":
                return _NO_VALUE
            if key == "Ref" and arg in self.parameters:
                return self.parameters[arg]
            if key == "Fn::FindInMap":
                mapping, first, second = self.resolve(arg)
                return self.template["Mappings"][mapping][first][second]
            if key == "Fn::If":
                name, if_true, if_false = arg
                return self.resolve(if_true if self.condition(name) else if_false)
            if key == "Fn::Equals":
                left, right = self.resolve(arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg)[0]
            if key == "Fn::And":
                return all(self.resolve(arg))
            if key == "Fn::Or":
                return any(self.resolve(arg))
            if key == "Condition":
                return self.condition(arg)
        items = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in items.items() if item is not _NO_VALUE}


def props(resource: Resource | None) -> dict[str, Any]:
    return (resource or {}).get("Properties") or {}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def ref_of(value: Any) -> str | None:
    """The logical id that a ``Ref`` or ``Fn::GetAtt`` names, else None."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and isinstance(arg, str):
            return arg
        if key == "Fn::GetAtt":
            return arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
    return None


_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def mentions(value: Any) -> set[str]:
    """Every logical id a value refers to: Ref, GetAtt and ``${Name}``/``${Name.Attr}`` in
    Fn::Sub, including inside a Sub's variable map (as SAM's policy templates write them)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= mentions(item)
    elif isinstance(value, dict):
        name = ref_of(value)
        if name:
            found.add(name)
        elif set(value) == {"Fn::Sub"}:
            arg = value["Fn::Sub"]
            text, variables = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})
            found |= set(_SUB_NAME.findall(text)) - set(variables)
            found |= mentions(list(variables.values()))
        else:
            for item in value.values():
                found |= mentions(item)
    return found


def sub_text(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        arg = value["Fn::Sub"]
        return arg[0] if isinstance(arg, list) else arg
    return None


def kms_key_of(stack: Stack, value: Any) -> str | None:
    """The AWS::KMS::Key of this template that ``value`` designates (directly or through an
    AWS::KMS::Alias of the template), else None."""
    name = ref_of(value)
    if stack.type_of(name) == "AWS::KMS::Alias":
        name = ref_of(props(stack.resources[name]).get("TargetKeyId"))
    return name if stack.type_of(name) == "AWS::KMS::Key" else None


# ---------------------------------------------------------------- IAM helpers


def grants(statement: dict[str, Any], action: str) -> bool:
    """Whether an Allow statement's Action (wildcards, any case) covers ``action``."""
    if "NotAction" in statement:
        return not any(
            fnmatchcase(action.lower(), p.lower()) for p in as_list(statement["NotAction"])
        )
    return any(
        fnmatchcase(action.lower(), str(p).lower()) for p in as_list(statement.get("Action"))
    )


def touches_service(statement: dict[str, Any], service: str) -> bool:
    """Whether any action pattern of the statement can match an action of ``service``."""
    if "NotAction" in statement:
        return True
    return any(
        fnmatchcase(service, str(p).lower().split(":", 1)[0])
        for p in as_list(statement.get("Action"))
    )


def allow_statements(stack: Stack) -> Iterator[tuple[str, dict[str, Any]]]:
    """(owner, statement) for every Allow statement of the IAM identities the stack creates:
    each role's inline policies (SAM policy templates are expanded by then), and any
    AWS::IAM::Policy or AWS::IAM::ManagedPolicy."""
    for name, role in stack.of_type("AWS::IAM::Role").items():
        for policy in as_list(props(role).get("Policies")):
            for statement in as_list(policy.get("PolicyDocument", {}).get("Statement")):
                if statement.get("Effect") == "Allow":
                    yield name, statement
    for type_ in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for name, policy in stack.of_type(type_).items():
            for statement in as_list(props(policy).get("PolicyDocument", {}).get("Statement")):
                if statement.get("Effect") == "Allow":
                    yield name, statement


def lock_keeping_retention_grant(stack: Stack, owner: str, statement: dict[str, Any]) -> bool:
    """Whether ``statement`` grants s3:PutObjectRetention as a locked writer may hold it: one
    of LOCKED_WRITERS, that action alone, on its own archive prefix only, conditioned on the
    stage's lock mode and on at least the stage's retention (a day of rounding aside)."""
    prefix = LOCKED_WRITERS.get(owner)
    if prefix is None or as_list(statement.get("Action")) != [RETENTION_ACTION]:
        return False
    resources = as_list(statement.get("Resource"))
    if not resources or any(sub_text(r) != f"${{ArchiveBucket.Arn}}/{prefix}" for r in resources):
        return False
    expected = EXPECTED_ARCHIVE[stack.stage]
    condition = statement.get("Condition") or {}
    if set(condition) != {"StringEquals", "NumericGreaterThanEquals"}:
        return False
    mode = condition["StringEquals"]
    days = condition["NumericGreaterThanEquals"]
    return (
        mode == {LOCK_MODE_KEY: expected.mode}
        and set(days) == {LOCK_DAYS_KEY}
        and int(days[LOCK_DAYS_KEY]) >= expected.days - 1
    )


def _label(owner: str, statement: dict[str, Any]) -> str:
    return f"{owner}/{statement.get('Sid', '?')}"


def _any_resource(statement: dict[str, Any]) -> bool:
    return "NotResource" in statement or "*" in as_list(statement.get("Resource"))


# ---------------------------------------------------------------- the rules


# Lambda runtime deprecation rules judge the day cfn-lint runs, not the template: python3.12
# passes today and fails from 2029 (update blocked). They are left out here so that the suite
# passes on any date (docs/reliability.md, guarantee 12); the runtime's own end of support is
# a deployment-time check, against the day of the deploy.
DATE_DEPENDENT_RULES = ("E2531", "E2533", "W2531")


def lint_violations(path: Path) -> list[str]:
    config = ManualArgs(regions=[REGION], ignore_checks=list(DATE_DEPENDENT_RULES))
    return [str(match) for match in lint_file(path, config=config)]


def archive_bucket_violations(stack: Stack) -> list[str]:
    """The Object Lock bucket: lock, versioning, public access, SSE-KMS, lifecycle, TLS-only
    policy, retained on stack deletion."""
    expected = EXPECTED_ARCHIVE[stack.stage]
    buckets = {
        name: bucket
        for name, bucket in stack.of_type("AWS::S3::Bucket").items()
        if props(bucket).get("ObjectLockEnabled") in (True, "true", "True")
    }
    if len(buckets) != 1:
        return [f"expected exactly one Object Lock bucket, found {sorted(buckets)}"]
    ((name, bucket),) = buckets.items()
    p = props(bucket)
    violations: list[str] = []

    lock = p.get("ObjectLockConfiguration") or {}
    retention = (lock.get("Rule") or {}).get("DefaultRetention") or {}
    if lock.get("ObjectLockEnabled") != "Enabled":
        violations.append(f"{name}: ObjectLockConfiguration.ObjectLockEnabled is not Enabled")
    if retention.get("Mode") != expected.mode:
        violations.append(
            f"{name}: default retention mode {retention.get('Mode')!r}, expected {expected.mode}"
        )
    if "Years" in retention or str(retention.get("Days")) != str(expected.days):
        violations.append(
            f"{name}: default retention Days={retention.get('Days')!r} "
            f"Years={retention.get('Years')!r}, expected Days={expected.days}"
        )

    if (p.get("VersioningConfiguration") or {}).get("Status") != "Enabled":
        violations.append(f"{name}: versioning is not Enabled")

    block = p.get("PublicAccessBlockConfiguration") or {}
    for flag in (
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ):
        if block.get(flag) not in (True, "true", "True"):
            violations.append(f"{name}: PublicAccessBlockConfiguration.{flag} is not true")

    sse_rules = as_list((p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration"))
    if not sse_rules:
        violations.append(f"{name}: no default encryption")
    for rule in sse_rules:
        default = rule.get("ServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm") != "aws:kms":
            violations.append(
                f"{name}: SSE algorithm {default.get('SSEAlgorithm')!r}, expected aws:kms"
            )
        if kms_key_of(stack, default.get("KMSMasterKeyID")) is None:
            violations.append(
                f"{name}: SSE key {default.get('KMSMasterKeyID')!r} "
                "is not a KMS key of the template"
            )

    # The lifecycle may only expire what no lock still protects: after the bucket default, and
    # after the latest retain-until a receipt can get (end of the fiscal year + legal years).
    latest_lock_days = max(
        expected.days, (expected.legal_years + 1) * 366 if expected.legal_years else 0
    )
    expirations = [
        rule.get("ExpirationInDays")
        for rule in as_list((p.get("LifecycleConfiguration") or {}).get("Rules"))
        if rule.get("Status") == "Enabled"
        and ("ExpirationInDays" in rule or "ExpirationDate" in rule)
    ]
    if not expirations:
        violations.append(f"{name}: no lifecycle expiration (storage limitation)")
    for days in expirations:
        if days is None or int(days) <= latest_lock_days:
            violations.append(
                f"{name}: lifecycle expires objects after {days} days, not after the lock "
                f"({latest_lock_days} days)"
            )

    for policy_attr in ("DeletionPolicy", "UpdateReplacePolicy"):
        if bucket.get(policy_attr) != "Retain":
            violations.append(
                f"{name}: {policy_attr} is {bucket.get(policy_attr)!r}, expected Retain"
            )

    violations += _tls_only_violations(stack, name)
    return violations


def _tls_only_violations(stack: Stack, bucket: str) -> list[str]:
    """A bucket policy of the template denies every s3 action to everyone without TLS, on the
    bucket and on its objects."""
    covered: set[str] = set()
    for policy in stack.of_type("AWS::S3::BucketPolicy").values():
        if ref_of(props(policy).get("Bucket")) != bucket:
            continue
        for statement in as_list(props(policy).get("PolicyDocument", {}).get("Statement")):
            covered |= _insecure_transport_denied_on(statement, bucket)
    return [
        f"{bucket}: no bucket policy denies s3:* without aws:SecureTransport on the {scope}"
        for scope in ("bucket", "objects")
        if scope not in covered
    ]


def _insecure_transport_denied_on(statement: dict[str, Any], bucket: str) -> set[str]:
    principal = statement.get("Principal")
    everyone = principal == "*" or (
        isinstance(principal, dict) and as_list(principal.get("AWS")) == ["*"]
    )
    all_s3 = any(str(p).lower() in ("s3:*", "*") for p in as_list(statement.get("Action")))
    bool_condition = {
        k.lower(): v for k, v in ((statement.get("Condition") or {}).get("Bool") or {}).items()
    }
    insecure = str(bool_condition.get("aws:securetransport", "")).lower() == "false"
    if statement.get("Effect") != "Deny" or not everyone or not all_s3 or not insecure:
        return set()
    scopes: set[str] = set()
    arn = rf"(\$\{{{bucket}\.Arn\}}|arn:\$\{{AWS::Partition\}}:s3:::\$\{{{bucket}\}})"
    for resource in as_list(statement.get("Resource")):
        text = sub_text(resource)
        if (
            ref_of(resource) == bucket and isinstance(resource, dict) and "Fn::GetAtt" in resource
        ) or (text is not None and re.fullmatch(arn, text)):
            scopes.add("bucket")
        elif text is not None and re.fullmatch(arn + r"/\*", text):
            scopes.add("objects")
    return scopes


def archive_writer_violations(stack: Stack) -> list[str]:
    """The receipts function locks objects with the stage's mode, at least as long as the
    bucket default, for the legal period."""
    expected = EXPECTED_ARCHIVE[stack.stage]
    env = props(stack.resources.get(RECEIPTS_FUNCTION)).get("Environment", {}).get("Variables", {})
    wanted = {
        "ARCHIVE_RETENTION_MODE": expected.mode,
        "ARCHIVE_RETENTION_DAYS": str(expected.days),
        "ARCHIVE_LEGAL_RETENTION_YEARS": str(expected.legal_years),
    }
    return [
        f"{RECEIPTS_FUNCTION}: {key}={env.get(key)!r}, expected {value!r}"
        for key, value in wanted.items()
        if str(env.get(key)) != value
    ]


def table_violations(stack: Stack) -> list[str]:
    violations: list[str] = []
    tables = stack.of_type("AWS::DynamoDB::Table")
    for name in (*EXPECTED_TTL, AUDIT_TABLE):
        if name not in tables:
            violations.append(f"{name}: missing")
    for name, table in tables.items():
        p = props(table)
        if (p.get("PointInTimeRecoverySpecification") or {}).get(
            "PointInTimeRecoveryEnabled"
        ) is not True:
            violations.append(f"{name}: point-in-time recovery is not enabled")
        if (p.get("SSESpecification") or {}).get("SSEEnabled") is not True:
            violations.append(f"{name}: SSE is not enabled")
        ttl = p.get("TimeToLiveSpecification") or {}
        ttl_on = ttl.get("Enabled") is True
        if name in EXPECTED_TTL and (not ttl_on or ttl.get("AttributeName") != EXPECTED_TTL[name]):
            violations.append(f"{name}: TTL {ttl!r}, expected enabled on {EXPECTED_TTL[name]!r}")
        if name == AUDIT_TABLE and ttl_on:
            violations.append(f"{name}: has a TTL, but the audit trail is a legal archive")
        if name in RECORD_TABLES:
            if table.get("DeletionPolicy") != "Retain":
                violations.append(f"{name}: DeletionPolicy is not Retain")
            if stack.stage == "prod" and p.get("DeletionProtectionEnabled") is not True:
                violations.append(f"{name}: deletion protection is off in prod")
    return violations


def queue_violations(stack: Stack) -> list[str]:
    """Consumed queues redrive to a DLQ, outlive 6 function timeouts, report partial batch
    failures; every DLQ is alarmed to the ops topic; every queue is encrypted."""
    violations: list[str] = []
    queues = stack.of_type("AWS::SQS::Queue")
    functions = stack.of_type("AWS::Lambda::Function")
    dlqs: dict[str, str] = {}  # dlq -> source queue
    for name, queue in queues.items():
        redrive = props(queue).get("RedrivePolicy")
        if redrive:
            dlqs[ref_of(redrive.get("deadLetterTargetArn")) or "?"] = name

    for mapping_name, mapping in stack.of_type("AWS::Lambda::EventSourceMapping").items():
        mp = props(mapping)
        queue_name = ref_of(mp.get("EventSourceArn"))
        if queue_name not in queues:
            continue
        function_name = ref_of(mp.get("FunctionName"))
        if "ReportBatchItemFailures" not in as_list(mp.get("FunctionResponseTypes")):
            violations.append(f"{mapping_name}: no FunctionResponseTypes [ReportBatchItemFailures]")
        qp = props(queues[queue_name])
        redrive = qp.get("RedrivePolicy") or {}
        dlq = ref_of(redrive.get("deadLetterTargetArn"))
        if dlq not in queues:
            violations.append(
                f"{queue_name}: consumed by {function_name} but no RedrivePolicy "
                "to a DLQ of the template"
            )
        if int(redrive.get("maxReceiveCount", 0)) < 1:
            violations.append(
                f"{queue_name}: maxReceiveCount {redrive.get('maxReceiveCount')!r} < 1"
            )
        timeout = int(props(functions.get(function_name)).get("Timeout", 3))
        visibility = int(qp.get("VisibilityTimeout", 30))
        if visibility < 6 * timeout:
            violations.append(
                f"{queue_name}: VisibilityTimeout {visibility} "
                f"< 6 x {function_name} Timeout {timeout}"
            )

    alarms = stack.of_type("AWS::CloudWatch::Alarm")
    if stack.type_of(OPS_TOPIC) != "AWS::SNS::Topic":
        violations.append(f"{OPS_TOPIC}: no such SNS topic")
    for dlq, source in dlqs.items():
        if dlq not in queues:
            continue
        dlq_retention = int(props(queues[dlq]).get("MessageRetentionPeriod", 345600))
        source_retention = int(props(queues[source]).get("MessageRetentionPeriod", 345600))
        if dlq_retention < source_retention:
            violations.append(
                f"{dlq}: keeps messages {dlq_retention}s, less than {source} ({source_retention}s)"
            )
        watching = [
            alarm
            for alarm in alarms.values()
            if props(alarm).get("Namespace") == "AWS/SQS"
            and any(
                d.get("Name") == "QueueName" and ref_of(d.get("Value")) == dlq
                for d in as_list(props(alarm).get("Dimensions"))
            )
        ]
        if not any(
            ref_of(a) == OPS_TOPIC
            for alarm in watching
            for a in as_list(props(alarm).get("AlarmActions"))
        ):
            violations.append(
                f"{dlq}: no CloudWatch alarm on its QueueName with an action to {OPS_TOPIC}"
            )

    for name, queue in queues.items():
        qp = props(queue)
        if qp.get("SqsManagedSseEnabled") is not True and not qp.get("KmsMasterKeyId"):
            violations.append(f"{name}: not encrypted (SqsManagedSseEnabled or KmsMasterKeyId)")
    return violations


def _alarms_on(stack: Stack, namespace: str, metric: str, dimension: str, target: str) -> bool:
    """Whether an alarm on ``namespace``/``metric`` for ``dimension`` = ``target`` notifies
    the ops topic at the first breach."""
    for alarm in stack.of_type("AWS::CloudWatch::Alarm").values():
        p = props(alarm)
        if (p.get("Namespace"), p.get("MetricName")) != (namespace, metric):
            continue
        if not any(
            d.get("Name") == dimension and ref_of(d.get("Value")) == target
            for d in as_list(p.get("Dimensions"))
        ):
            continue
        if (
            any(ref_of(a) == OPS_TOPIC for a in as_list(p.get("AlarmActions")))
            and float(p.get("Threshold", 1)) == 0
        ):
            return True
    return False


def intake_alarm_violations(stack: Stack) -> list[str]:
    """The webhook endpoint is watched: intake's errors and throttles, and the API's 5xx
    answers, each alarm the ops topic at the first occurrence."""
    violations = []
    for metric in ("Errors", "Throttles"):
        if not _alarms_on(stack, "AWS/Lambda", metric, "FunctionName", "IntakeFunction"):
            violations.append(f"IntakeFunction: no alarm on AWS/Lambda {metric} to {OPS_TOPIC}")
    api = next(iter(stack.of_type("AWS::ApiGatewayV2::Api")), None)
    if api is None or not _alarms_on(stack, "AWS/ApiGateway", "5xx", "ApiId", api):
        violations.append(f"{api}: no alarm on AWS/ApiGateway 5xx to {OPS_TOPIC}")
    return violations


def alarm_topic_key_violations(stack: Stack) -> list[str]:
    """CloudWatch alarms can publish to an encrypted topic only through a customer managed key
    whose policy lets cloudwatch.amazonaws.com use it; the AWS managed alias/aws/sns cannot."""
    topic = stack.resources.get(OPS_TOPIC)
    key_ref = props(topic).get("KmsMasterKeyId")
    if topic is None or key_ref is None:
        return []
    key = kms_key_of(stack, key_ref)
    if key is None:
        return [
            f"{OPS_TOPIC}: encrypted with {key_ref!r}, not a customer managed key of the template; "
            "CloudWatch alarms cannot use an AWS managed key (alias/aws/sns), so alarm actions fail"
        ]
    for statement in as_list(props(stack.resources[key]).get("KeyPolicy", {}).get("Statement")):
        principal = statement.get("Principal")
        services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if (
            statement.get("Effect") == "Allow"
            and "cloudwatch.amazonaws.com" in services
            and grants(statement, "kms:Decrypt")
            and grants(statement, "kms:GenerateDataKey")
        ):
            return []
    return [
        f"{key}: key policy does not let cloudwatch.amazonaws.com "
        f"Decrypt and GenerateDataKey for {OPS_TOPIC}"
    ]


def iam_violations(stack: Stack) -> list[str]:
    violations: list[str] = []
    for owner, statement in allow_statements(stack):
        label = _label(owner, statement)
        if "NotAction" in statement or "NotResource" in statement:
            violations.append(f"{label}: Allow with NotAction/NotResource cannot be reviewed")
        for action in FORBIDDEN_S3_ACTIONS:
            if action in STAFF_S3_ACTIONS and str(owner).startswith(STAFF_FUNCTION):
                continue  # the staff API's own grants: tests/template/test_template_compliance.py
            if action == RETENTION_ACTION and lock_keeping_retention_grant(stack, owner, statement):
                continue  # a locked writer's grant that can only keep or lengthen a lock
            if grants(statement, action):
                violations.append(
                    f"{label}: grants {action} (via {as_list(statement.get('Action'))})"
                )
        resources = as_list(statement.get("Resource"))
        on_audit = AUDIT_TABLE in mentions(resources) or any(
            isinstance(r, str) and "*" in r and ("dynamodb" in r or r == "*") for r in resources
        )
        for action in AUDIT_WRITE_ACTIONS:
            if on_audit and grants(statement, action):
                violations.append(f"{label}: grants {action} on {AUDIT_TABLE} (append-only)")
        if _any_resource(statement):
            for service in ("s3", "dynamodb"):
                if touches_service(statement, service):
                    violations.append(f"{label}: {service} action on Resource '*'")
        kms_actions = [
            str(p)
            for p in as_list(statement.get("Action"))
            if touches_service({"Action": p}, "kms")
        ]
        if kms_actions:
            if any(a.lower() not in ALLOWED_KMS_ACTIONS for a in kms_actions):
                violations.append(
                    f"{label}: KMS actions {kms_actions}, only kms:Decrypt/GenerateDataKey allowed"
                )
            conditions = statement.get("Condition") or {}
            # Direct KMS use is allowed for one thing only: customer data keys (their
            # encryption context names the purpose; see quittance.privacy.keyring).
            customer_keys = any(
                key.lower() == "kms:encryptioncontext:purpose" and value == "customer-data-key"
                for op in conditions.values()
                for key, value in op.items()
            )
            via_service = any(
                key.lower() == "kms:viaservice" for op in conditions.values() for key in op
            )
            if not (via_service or customer_keys):
                violations.append(f"{label}: KMS use without a kms:ViaService condition")
    for name, role in stack.of_type("AWS::IAM::Role").items():
        for arn in as_list(props(role).get("ManagedPolicyArns")):
            suffix = arn.split(":policy/", 1)[-1] if isinstance(arn, str) else None
            if suffix not in ALLOWED_MANAGED_POLICIES:
                violations.append(f"{name}: managed policy {arn!r} is not reviewed here")
    return violations


def runtime_violations(stack: Stack) -> list[str]:
    violations: list[str] = []
    log_groups = stack.of_type("AWS::Logs::LogGroup")
    weasyprint = {
        name
        for name in stack.of_type("AWS::Lambda::LayerVersion")
        if name.startswith(WEASYPRINT_LAYER)
    }
    if not weasyprint:
        violations.append(f"{WEASYPRINT_LAYER}: no such layer after the transform")
    with_weasyprint: set[str] = set()
    for name, function in stack.of_type("AWS::Lambda::Function").items():
        p = props(function)
        runtime = re.fullmatch(r"python3\.(\d+)", str(p.get("Runtime")))
        if not runtime or int(runtime.group(1)) < MIN_PYTHON_MINOR:
            violations.append(
                f"{name}: runtime {p.get('Runtime')!r}, expected python3.{MIN_PYTHON_MINOR}+"
            )
        if (p.get("TracingConfig") or {}).get("Mode") != "Active":
            violations.append(f"{name}: tracing is not Active")
        group = ref_of((p.get("LoggingConfig") or {}).get("LogGroup"))
        if group not in log_groups:
            violations.append(f"{name}: LoggingConfig.LogGroup is not a log group of the template")
        if weasyprint & {ref_of(layer) for layer in as_list(p.get("Layers"))}:
            with_weasyprint.add(name)
    if with_weasyprint != {RECEIPTS_FUNCTION}:
        violations.append(
            f"{WEASYPRINT_LAYER} attached to {sorted(with_weasyprint)}, "
            f"expected only {RECEIPTS_FUNCTION}"
        )
    for name, group in log_groups.items():
        if not isinstance(props(group).get("RetentionInDays"), int):
            violations.append(f"{name}: RetentionInDays not set (logs would be kept forever)")
    return violations


def wiring_violations(source: Template, root: Path = ROOT) -> list[str]:
    """On the source template: HTTP routes and SQS events reach a handler that exists, every
    work queue has exactly one consumer, the public routes exist."""
    violations: list[str] = []
    resources = source["Resources"]
    global_function = (source.get("Globals") or {}).get("Function") or {}
    routes: dict[tuple[str, str], list[str]] = defaultdict(list)
    consumers: dict[str, list[str]] = defaultdict(list)
    for name, function in resources.items():
        if function["Type"] != "AWS::Serverless::Function":
            continue
        p = props(function)
        wired = False
        for event in (p.get("Events") or {}).values():
            ep = event.get("Properties") or {}
            if event.get("Type") == "HttpApi":
                routes[(str(ep.get("Method", "")).upper(), ep.get("Path", ""))].append(name)
                wired = True
            elif event.get("Type") == "SQS":
                consumers[ref_of(ep.get("Queue")) or "?"].append(name)
                wired = True
            elif event.get("Type") == "ScheduleV2":
                wired = True
        if wired:
            violations += _handler_violations(name, {**global_function, **p}, root)

    for method, path in sorted(REQUIRED_ROUTES - set(routes)):
        violations.append(f"route {method} {path}: missing")
    for (method, path), owners in routes.items():
        if len(owners) > 1:
            violations.append(f"route {method} {path}: served by {owners}")

    queues = {name for name, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    dlqs = {
        ref_of((props(resources[q]).get("RedrivePolicy") or {}).get("deadLetterTargetArn"))
        for q in queues
    }
    # A function's own DLQ (asynchronous invocations, e.g. a schedule's) is no work queue.
    dlqs |= {
        ref_of((props(r).get("DeadLetterQueue") or {}).get("TargetArn"))
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    for queue in sorted(queues - dlqs):
        if len(consumers.get(queue, [])) != 1:
            violations.append(
                f"{queue}: consumed by {consumers.get(queue, [])}, expected exactly one function"
            )
    for queue, owners in consumers.items():
        if queue not in queues or queue in dlqs:
            violations.append(
                f"{owners} consume {queue}, which is not a work queue of the template"
            )
    return violations


def _handler_violations(name: str, p: dict[str, Any], root: Path) -> list[str]:
    code_uri, handler = p.get("CodeUri"), str(p.get("Handler", ""))
    module, _, func = handler.rpartition(".")
    if not isinstance(code_uri, str) or not module:
        return [f"{name}: CodeUri {code_uri!r} / Handler {handler!r} do not name a local module"]
    path = root / code_uri / (module.replace(".", "/") + ".py")
    if not path.is_file():
        return [f"{name}: {path.relative_to(root)} does not exist"]
    if not re.search(
        rf"^(async )?def {re.escape(func)}\(", path.read_text(encoding="utf-8"), re.MULTILINE
    ):
        return [f"{name}: {path.relative_to(root)} defines no {func}()"]
    return []


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def source() -> Template:
    return yaml_parse(TEMPLATE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def translated(source: Template) -> dict[str, Template]:
    """Each stage translated once for the whole module."""
    return {stage: translate(source, stage) for stage in STAGES}


@pytest.fixture(scope="module")
def stacks(translated: dict[str, Template]) -> dict[str, Stack]:
    return {stage: Stack.of(template, stage) for stage, template in translated.items()}


@pytest.fixture(params=STAGES)
def stack(request: pytest.FixtureRequest, stacks: dict[str, Stack]) -> Stack:
    return stacks[request.param]


# ---------------------------------------------------------------- tests on the real template


def test_cfn_lint_passes() -> None:
    # Given template.yaml, When cfn-lint checks it for the deployment region,
    # Then it reports no error and no warning.
    assert lint_violations(TEMPLATE) == []


def test_sam_transform_succeeds_for_every_stage(translated: dict[str, Template]) -> None:
    # Given the SAM template, When it is transformed for dev and for prod,
    # Then no serverless resource is left and the functions, roles and mappings exist.
    for stage, template in translated.items():
        types = {r["Type"] for r in template["Resources"].values()}
        assert not {t for t in types if t.startswith("AWS::Serverless::")}, stage
        assert {
            "AWS::Lambda::Function",
            "AWS::IAM::Role",
            "AWS::Lambda::EventSourceMapping",
        } <= types, stage


def test_archive_bucket_keeps_its_promises(stack: Stack) -> None:
    # Given the stage's transformed template, When the Object Lock bucket is read,
    # Then it is locked (COMPLIANCE/3650 in prod, GOVERNANCE/1 in dev), versioned, private,
    # SSE-KMS with the template's key, expired only after the lock, TLS-only, and retained.
    assert archive_bucket_violations(stack) == []


def test_receipts_lock_objects_with_the_stage_retention(stack: Stack) -> None:
    # Given the stage, When the receipts function's archive settings are read,
    # Then they carry the same mode and floor as the bucket, and the legal period.
    assert archive_writer_violations(stack) == []


def test_tables_are_recoverable_encrypted_and_expire_as_designed(stack: Stack) -> None:
    # Given the tables, Then all have PITR and SSE, ledger/customers/idempotency expire items by
    # TTL on their attribute, and the audit table has no TTL.
    assert table_violations(stack) == []


def test_consumed_queues_redrive_to_alarmed_dlqs(stack: Stack) -> None:
    # Given each queue a function consumes, Then it redrives to a DLQ of the template, its
    # visibility timeout covers 6 function timeouts, the mapping reports partial batch failures,
    # each DLQ is alarmed to the ops topic, and every queue is encrypted.
    assert queue_violations(stack) == []


def test_the_webhook_endpoint_is_alarmed(stack: Stack) -> None:
    # Given the stage, Then intake's errors and throttles and the API's 5xx answers each
    # alarm the ops topic at the first one.
    assert intake_alarm_violations(stack) == []


def test_dlq_alarms_can_publish_to_the_encrypted_ops_topic(stack: Stack) -> None:
    # Given the ops topic the DLQ alarms notify, When it is encrypted,
    # Then its key is a customer managed key that CloudWatch may use (not alias/aws/sns).
    assert alarm_topic_key_violations(stack) == []


def test_roles_cannot_weaken_the_archive_or_the_audit_trail(stack: Stack) -> None:
    # Given every IAM role after the transform, Then no Allow grants lock/version/delete actions
    # on S3 (even through wildcards), no write-over or delete on the audit table, no s3/dynamodb
    # action on "*", and KMS only as Decrypt/GenerateDataKey through a kms:ViaService condition.
    assert iam_violations(stack) == []


def test_functions_run_traced_on_current_python_with_bounded_logs(stack: Stack) -> None:
    # Given every Lambda function, Then it runs python3.12+, traced, logging to a log group of
    # the template with a retention; the weasyprint layer is attached to receipts only.
    assert runtime_violations(stack) == []


def test_routes_and_queues_reach_existing_handlers(source: Template) -> None:
    # Given the source template, Then each route and SQS event reaches an app.py that defines
    # handler(), each work queue has exactly one consumer, and the public routes exist.
    assert wiring_violations(source) == []


# ---------------------------------------------------------------- teeth: planted regressions


def _set_mapping(key: str, value: Any) -> Callable[[Template], None]:
    def mutate(t: Template) -> None:
        t["Mappings"]["StageSettings"]["prod"][key] = value

    return mutate


def _tls_on_objects_only(t: Template) -> None:
    document = props(t["Resources"]["ArchiveBucketPolicy"])["PolicyDocument"]
    statement = document["Statement"][0]
    statement["Resource"] = [{"Fn::Sub": "${ArchiveBucket.Arn}/*"}]


def _grant(action: str, resource: Any) -> Callable[[Template], None]:
    def mutate(t: Template) -> None:
        policies = t["Resources"]["LinksFunctionRole"]["Properties"]["Policies"]
        policies[-1]["PolicyDocument"]["Statement"].append(
            {"Effect": "Allow", "Action": [action], "Resource": resource}
        )

    return mutate


def _kms_without_via_service(t: Template) -> None:
    policy = props(t["Resources"]["ReceiptsFunctionRole"])["Policies"][-1]
    for statement in policy["PolicyDocument"]["Statement"]:
        if statement.get("Sid") == "ArchiveKey":
            del statement["Condition"]


def _drop_redrive(t: Template) -> None:
    del t["Resources"]["PaymentEventsQueue"]["Properties"]["RedrivePolicy"]


def _short_visibility(t: Template) -> None:
    t["Resources"]["ReceiptJobsQueue"]["Properties"]["VisibilityTimeout"] = 60


def _no_partial_batch(t: Template) -> None:
    del t["Resources"]["NotifyFunctionNotifications"]["Properties"]["FunctionResponseTypes"]


def _drop_dlq_alarm(t: Template) -> None:
    del t["Resources"]["ReceiptJobsDLQAlarm"]


def _drop(resource: str) -> Callable[[Template], None]:
    def mutate(t: Template) -> None:
        del t["Resources"][resource]

    return mutate


def _audit_ttl(t: Template) -> None:
    t["Resources"][AUDIT_TABLE]["Properties"]["TimeToLiveSpecification"] = {
        "AttributeName": "ttl",
        "Enabled": True,
    }


def _weasyprint_on_links(t: Template) -> None:
    layer = next(n for n in t["Resources"] if n.startswith(WEASYPRINT_LAYER))
    t["Resources"]["LinksFunction"]["Properties"]["Layers"].append({"Ref": layer})


ARCHIVE_OBJECTS = {"Fn::Sub": "${ArchiveBucket.Arn}/*"}
AUDIT_ARN_SAM_STYLE = {
    "Fn::Sub": [
        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${tableName}",
        {"tableName": {"Ref": AUDIT_TABLE}},
    ]
}

# name: (plant the regression in a copy of the prod template, the rule, what it must report)
REGRESSIONS: dict[str, tuple[Callable[[Template], None], Callable[[Stack], list[str]], str]] = {
    "prod retention mode GOVERNANCE": (
        _set_mapping("RetentionMode", "GOVERNANCE"),
        archive_bucket_violations,
        "default retention mode 'GOVERNANCE'",
    ),
    "prod retention shortened to 1 day": (
        _set_mapping("RetentionDays", 1),
        archive_bucket_violations,
        "default retention Days=1",
    ),
    "prod expiration before the legal period": (
        _set_mapping("ArchiveExpirationDays", 3700),
        archive_bucket_violations,
        "lifecycle expires objects after 3700 days",
    ),
    "TLS-only policy on objects only": (
        _tls_on_objects_only,
        archive_bucket_violations,
        "aws:SecureTransport on the bucket",
    ),
    "s3:* on the archive": (
        _grant("s3:*", ARCHIVE_OBJECTS),
        iam_violations,
        "grants s3:BypassGovernanceRetention",
    ),
    "S3:Put* on the archive": (
        _grant("S3:Put*", ARCHIVE_OBJECTS),
        iam_violations,
        "grants s3:PutObjectRetention",
    ),
    "* on *": (_grant("*", "*"), iam_violations, "s3 action on Resource '*'"),
    "dynamodb:GetItem on *": (
        _grant("dynamodb:GetItem", "*"),
        iam_violations,
        "dynamodb action on Resource '*'",
    ),
    "UpdateItem on the audit table": (
        _grant("dynamodb:UpdateItem", AUDIT_ARN_SAM_STYLE),
        iam_violations,
        "grants dynamodb:UpdateItem on AuditTable",
    ),
    "kms without ViaService": (
        _kms_without_via_service,
        iam_violations,
        "ArchiveKey: KMS use without a kms:ViaService condition",
    ),
    "RedrivePolicy dropped": (
        _drop_redrive,
        queue_violations,
        "PaymentEventsQueue: consumed by LedgerFunction but no RedrivePolicy",
    ),
    "visibility below 6 timeouts": (
        _short_visibility,
        queue_violations,
        "ReceiptJobsQueue: VisibilityTimeout 60 < 6 x ReceiptsFunction Timeout 60",
    ),
    "no partial batch failures": (
        _no_partial_batch,
        queue_violations,
        "NotifyFunctionNotifications: no FunctionResponseTypes",
    ),
    "DLQ alarm dropped": (_drop_dlq_alarm, queue_violations, "ReceiptJobsDLQ: no CloudWatch alarm"),
    "TTL on the audit table": (_audit_ttl, table_violations, "AuditTable: has a TTL"),
    "intake errors unwatched": (
        _drop("IntakeErrorsAlarm"),
        intake_alarm_violations,
        "IntakeFunction: no alarm on AWS/Lambda Errors",
    ),
    "API 5xx unwatched": (
        _drop("ApiServerErrorsAlarm"),
        intake_alarm_violations,
        "no alarm on AWS/ApiGateway 5xx",
    ),
    "weasyprint layer on links": (
        _weasyprint_on_links,
        runtime_violations,
        "attached to ['LinksFunction', 'ReceiptsFunction']",
    ),
}


@pytest.mark.parametrize("regression", list(REGRESSIONS))
def test_rules_report_a_planted_regression(
    regression: str, translated: dict[str, Template]
) -> None:
    # Given the prod template, which the rule accepts, and a copy with one regression planted,
    # When the rule checks the copy, Then it reports that regression.
    mutate, rule, expected = REGRESSIONS[regression]
    assert rule(Stack.of(translated["prod"], "prod")) == []
    template = copy.deepcopy(translated["prod"])
    mutate(template)
    violations = rule(Stack.of(template, "prod"))
    assert any(expected in violation for violation in violations), violations


def test_wiring_rule_reports_a_missing_route_and_a_missing_handler(
    source: Template, tmp_path: Path
) -> None:
    # Given a source template whose receipt PDF route is gone, Then the missing route is reported;
    # and Given handlers looked up in an empty checkout, Then every wired function is reported.
    mutated = copy.deepcopy(source)
    del mutated["Resources"]["LinksFunction"]["Properties"]["Events"]["ReceiptPdf"]
    assert wiring_violations(mutated) == ["route GET /r/{token}/pdf: missing"]
    functions = [
        r for r in source["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
    ]
    assert len(wiring_violations(source, root=tmp_path)) == len(functions)


def test_every_admin_route_requires_iam_and_no_other_route_does(source: Template) -> None:
    # Given the routes of the source template, Then /admin/* is IAM-authorised (API Gateway
    # refuses unsigned calls before any function runs) and gateway/customer routes are open.
    routes = {}
    for resource in source["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                authorizer = (props.get("Auth") or {}).get("Authorizer")
                routes[f"{props['Method']} {props['Path']}"] = authorizer
    admin = {route: auth for route, auth in routes.items() if " /admin/" in route}
    assert admin and set(admin.values()) == {"AWS_IAM"}
    assert all(auth is None for route, auth in routes.items() if route not in admin)
    assert source["Resources"]["HttpApi"]["Properties"]["Auth"]["EnableIamAuthorizer"] is True


def test_alarm_topic_rule_accepts_a_customer_managed_key_for_cloudwatch(
    translated: dict[str, Template],
) -> None:
    # Given the ops topic encrypted with alias/aws/sns, Then the rule reports it; and Given a
    # customer managed key whose policy admits CloudWatch (the proposed fix), Then it is satisfied.
    template = copy.deepcopy(translated["prod"])
    template["Resources"][OPS_TOPIC]["Properties"]["KmsMasterKeyId"] = "alias/aws/sns"
    assert alarm_topic_key_violations(Stack.of(template, "prod")) != []
    template["Resources"]["AlertsKey"] = {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "KeyPolicy": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                        "Resource": "*",
                    }
                ]
            }
        },
    }
    template["Resources"][OPS_TOPIC]["Properties"]["KmsMasterKeyId"] = {"Ref": "AlertsKey"}
    assert alarm_topic_key_violations(Stack.of(template, "prod")) == []
