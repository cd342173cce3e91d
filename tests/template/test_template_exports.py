"""The exports bucket as SAM deploys it: customers' export zips are personal data in clear, so
the bucket must let them go (no Object Lock, no versions, expired after a day), keep them
encrypted and private while they wait. Only the privacy API may write or read customers'
exports (``exports/customers/``), only the staff API the accountant's books
(``exports/books/``), each in its own folder."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from tests.template.test_template import (
    STAGES,
    TEMPLATE,
    Stack,
    Template,
    _tls_only_violations,
    allow_statements,
    as_list,
    grants,
    kms_key_of,
    mentions,
    props,
    ref_of,
    sub_text,
    translate,
)

BUCKET = "ExportsBucket"
WRITERS = {
    "PrivacyApiFunctionRole": "${ExportsBucket.Arn}/exports/customers/*",
    "ArchiveApiFunctionRole": "${ExportsBucket.Arn}/exports/books/*",
}
WRITER = "PrivacyApiFunctionRole"
WRITER_ACTIONS = {"s3:putobject", "s3:getobject"}


@pytest.fixture(scope="module")
def stacks() -> dict[str, Stack]:
    source = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    return {stage: Stack.of(translate(source, stage), stage) for stage in STAGES}


@pytest.fixture(params=STAGES)
def stack(request: pytest.FixtureRequest, stacks: dict[str, Stack]) -> Stack:
    return stacks[request.param]


def bucket_violations(stack: Stack) -> list[str]:
    bucket = stack.resources.get(BUCKET)
    if bucket is None or bucket["Type"] != "AWS::S3::Bucket":
        return [f"{BUCKET}: missing"]
    p = props(bucket)
    violations: list[str] = []
    if p.get("ObjectLockEnabled") not in (None, False, "false") or "ObjectLockConfiguration" in p:
        violations.append(f"{BUCKET}: Object Lock would keep personal data past its erasure")
    if (p.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
        violations.append(f"{BUCKET}: versioning keeps deleted exports as old versions")
    rules = as_list((p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration"))
    if not any(
        r.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") == "aws:kms"
        and kms_key_of(stack, r["ServerSideEncryptionByDefault"].get("KMSMasterKeyID")) == "DataKey"
        and r.get("BucketKeyEnabled") in (True, "true")
        for r in rules
    ):
        violations.append(f"{BUCKET}: not SSE-KMS with the DataKey and a bucket key")
    block = p.get("PublicAccessBlockConfiguration") or {}
    for flag in (
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ):
        if block.get(flag) not in (True, "true"):
            violations.append(f"{BUCKET}: public access block {flag} is not set")
    ownership = [
        r.get("ObjectOwnership") for r in (p.get("OwnershipControls") or {}).get("Rules", [])
    ]
    if ownership != ["BucketOwnerEnforced"]:
        violations.append(f"{BUCKET}: ACLs not disabled (BucketOwnerEnforced)")
    return violations


def lifecycle_violations(stack: Stack) -> list[str]:
    """A rule covering every export expires it after one day and aborts unfinished uploads."""
    rules = as_list(
        (props(stack.resources.get(BUCKET)).get("LifecycleConfiguration") or {}).get("Rules")
    )
    for rule in rules:
        prefix = rule.get("Prefix", (rule.get("Filter") or {}).get("Prefix", ""))
        if (
            rule.get("Status") == "Enabled"
            and "exports/".startswith(str(prefix))
            and int(rule.get("ExpirationInDays", 0)) == 1
            and int(
                (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation", 0)
            )
            == 1
        ):
            return []
    return [f"{BUCKET}: no enabled lifecycle rule expires exports/ and their uploads after 1 day"]


def _on_bucket(resources: list[Any]) -> bool:
    if BUCKET in mentions(resources):
        return True
    # A wildcard ARN reaches the bucket as well as a reference does.
    return any(
        isinstance(r, str) and (r == "*" or r.startswith("arn:aws:s3:::*")) for r in resources
    )


def access_violations(stack: Stack) -> list[str]:
    violations: list[str] = []
    writes: set[str] = set()
    for owner, statement in allow_statements(stack):
        resources = as_list(statement.get("Resource"))
        s3_actions = [
            str(a)
            for a in as_list(statement.get("Action"))
            if str(a).lower().startswith(("s3:", "*"))
        ]
        if not s3_actions or not _on_bucket(resources):
            continue
        label = f"{owner}/{statement.get('Sid', '?')}"
        if owner not in WRITERS:
            violations.append(f"{label}: only {', '.join(WRITERS)} may touch {BUCKET}")
            continue
        if {a.lower() for a in s3_actions} - WRITER_ACTIONS:
            violations.append(f"{label}: {s3_actions} beyond s3:PutObject/GetObject")
        if [sub_text(r) for r in resources] != [WRITERS[owner]]:
            violations.append(f"{label}: on {resources}, expected {WRITERS[owner]} only")
        if grants(statement, "s3:PutObject"):
            writes.add(owner)
    violations += [
        f"{o}: cannot write {folder}" for o, folder in WRITERS.items() if o not in writes
    ]
    return violations


def export_key_violations(stack: Stack) -> list[str]:
    """Each writer can encrypt (GenerateDataKey) and read (Decrypt) through S3 on the exports
    bucket, not use the DataKey for anything else."""
    able: set[str] = set()
    for owner, statement in allow_statements(stack):
        conditions = statement.get("Condition") or {}
        equals = {k.lower(): v for k, v in (conditions.get("StringEquals") or {}).items()}
        if (
            owner in WRITERS
            and grants(statement, "kms:GenerateDataKey")
            and grants(statement, "kms:Decrypt")
            and "DataKey" in mentions(as_list(statement.get("Resource")))
            and "kms:viaservice" in equals
            and ref_of(equals.get("kms:encryptioncontext:aws:s3:arn")) == BUCKET
        ):
            able.add(owner)
    return [
        f"{o}: no kms:GenerateDataKey+Decrypt on DataKey via S3 for {BUCKET}"
        for o in WRITERS
        if o not in able
    ]


def test_exports_bucket_is_deletable_encrypted_and_private(stack: Stack) -> None:
    assert bucket_violations(stack) == []


def test_exports_expire_after_one_day(stack: Stack) -> None:
    assert lifecycle_violations(stack) == []


def test_exports_bucket_refuses_plain_http(stack: Stack) -> None:
    assert _tls_only_violations(stack, BUCKET) == []


def test_each_writer_writes_and_reads_only_its_own_exports_folder(
    stack: Stack,
) -> None:
    assert access_violations(stack) == []
    assert export_key_violations(stack) == []


@pytest.mark.parametrize("function", ["PrivacyApiFunction", "ArchiveApiFunction"])
def test_each_writer_is_told_the_bucket(stack: Stack, function: str) -> None:
    env = props(stack.resources[function])["Environment"]["Variables"]
    assert ref_of(env["EXPORTS_BUCKET"]) == BUCKET


# ---------------------------------------------------------------- teeth


def _bucket_prop(key: str, value: Any) -> Callable[[Template], None]:
    def mutate(t: Template) -> None:
        t["Resources"][BUCKET]["Properties"][key] = value

    return mutate


def _grant_links(action: str, resource: Any) -> Callable[[Template], None]:
    def mutate(t: Template) -> None:
        policies = t["Resources"]["LinksFunctionRole"]["Properties"]["Policies"]
        policies[-1]["PolicyDocument"]["Statement"].append(
            {"Effect": "Allow", "Action": [action], "Resource": resource}
        )

    return mutate


def _widen_writer(t: Template) -> None:
    for policy in props(t["Resources"][WRITER])["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement.get("Sid") == "ExportsWriteAndLink":
                statement["Action"] = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
                statement["Resource"] = {"Fn::Sub": "${ExportsBucket.Arn}/*"}


def _books_reads_customers(t: Template) -> None:
    for policy in props(t["Resources"]["ArchiveApiFunctionRole"])["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement.get("Sid") == "BooksExportWriteAndLink":
                statement["Resource"] = {"Fn::Sub": "${ExportsBucket.Arn}/exports/*"}


def _two_day_lifecycle(t: Template) -> None:
    t["Resources"][BUCKET]["Properties"]["LifecycleConfiguration"]["Rules"][0][
        "ExpirationInDays"
    ] = 2


REGRESSIONS: dict[str, tuple[Callable[[Template], None], Callable[[Stack], list[str]], str]] = {
    "object lock": (_bucket_prop("ObjectLockEnabled", True), bucket_violations, "Object Lock"),
    "versioning": (
        _bucket_prop("VersioningConfiguration", {"Status": "Enabled"}),
        bucket_violations,
        "versioning",
    ),
    "no encryption": (_bucket_prop("BucketEncryption", {}), bucket_violations, "SSE-KMS"),
    "two-day lifecycle": (_two_day_lifecycle, lifecycle_violations, "after 1 day"),
    "links reads exports": (
        _grant_links("s3:GetObject", {"Fn::Sub": "${ExportsBucket.Arn}/exports/*"}),
        access_violations,
        "LinksFunctionRole",
    ),
    "links reads every bucket": (
        _grant_links("s3:GetObject", "arn:aws:s3:::*/*"),
        access_violations,
        "LinksFunctionRole",
    ),
    "writer deletes anywhere": (_widen_writer, access_violations, "beyond s3:PutObject"),
    "books writer reads customers' exports": (
        _books_reads_customers,
        access_violations,
        "expected",
    ),
}


@pytest.mark.parametrize("regression", list(REGRESSIONS))
def test_rules_report_a_planted_regression(regression: str, stacks: dict[str, Stack]) -> None:
    mutate, rule, expected = REGRESSIONS[regression]
    prod = stacks["prod"]
    assert rule(prod) == []
    template = copy.deepcopy(prod.template)
    mutate(template)
    violations = rule(Stack.of(template, "prod"))
    assert any(expected in violation for violation in violations), violations
