"""Least privilege around the compliance desk, over every function's policies after the SAM
transform: only the staff API reads the archive for staff, puts legal holds or writes
evidence bundles; no function changes retention, bypasses governance, deletes a version or a
ledger record, or updates or deletes an audit entry (the trail is append-only: conditional
puts)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.template.test_template import (
    AUDIT_TABLE,
    Stack,
    Template,
    allow_statements,
    as_list,
    grants,
    lock_keeping_retention_grant,
    mentions,
    source,  # noqa: F401 - fixture
    sub_text,
    translated,  # noqa: F401 - fixture
)

# The IAM-authorised /admin APIs: each call is a staff member's, audited.
STAFF_ROLES = frozenset({"ArchiveApiFunctionRole", "PrivacyApiFunctionRole", "BankApiFunctionRole"})
NEVER = (
    "s3:PutObjectRetention",
    "s3:BypassGovernanceRetention",
    "s3:DeleteObjectVersion",
    "s3:DeleteObject",
    "s3:PutBucketObjectLockConfiguration",
)
STAFF_ONLY_S3 = ("s3:PutObjectLegalHold", "s3:GetObjectLegalHold", "s3:ListBucketVersions")
AUDIT_NEVER = (
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:DeleteTable",
)
# The ledger leaves the books only by staff, with their own credentials (ledger retire).
LEDGER_TABLE = "LedgerTable"
LEDGER_NEVER = (
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLDelete",
    "dynamodb:DeleteTable",
)
BUNDLE_PREFIX = "evidence-bundles/"
AUDIT_ARN = {"Fn::GetAtt": [AUDIT_TABLE, "Arn"]}


def _resource_texts(statement: dict[str, Any]) -> list[str]:
    return [sub_text(r) or str(r) for r in as_list(statement.get("Resource"))]


def compliance_violations(stack: Stack) -> list[str]:
    violations: list[str] = []
    for owner, statement in allow_statements(stack):
        label = f"{owner}/{statement.get('Sid', '?')}"
        staff = owner in STAFF_ROLES
        for action in NEVER:
            if action == "s3:PutObjectRetention" and lock_keeping_retention_grant(
                stack, owner, statement
            ):
                continue  # a locked writer's grant: test_template_first_deploy.py
            if grants(statement, action):
                violations.append(f"{label}: grants {action}")
        if not staff:
            violations.extend(
                f"{label}: grants {action} (staff API only)"
                for action in STAFF_ONLY_S3
                if grants(statement, action)
            )
            if any(BUNDLE_PREFIX in t for t in _resource_texts(statement)):
                violations.append(f"{label}: touches {BUNDLE_PREFIX} (staff API only)")
        resources = as_list(statement.get("Resource"))
        on_audit = AUDIT_TABLE in mentions(resources) or any(
            isinstance(r, str) and ("*" in r and ("dynamodb" in r or r == "*")) for r in resources
        )
        if LEDGER_TABLE in mentions(resources) or "*" in resources:
            violations.extend(
                f"{label}: grants {action} on {LEDGER_TABLE}"
                for action in LEDGER_NEVER
                if grants(statement, action)
            )
        if on_audit:
            violations.extend(
                f"{label}: grants {action} on {AUDIT_TABLE}"
                for action in AUDIT_NEVER
                if grants(statement, action)
            )
            if not staff and grants(statement, "dynamodb:PutItem"):
                violations.append(f"{label}: writes {AUDIT_TABLE} (staff APIs only)")
    return violations


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_only_the_staff_api_holds_reads_for_staff_and_appends_audit(
    stage: str,
    translated: dict[str, Template],  # noqa: F811 - fixture
) -> None:
    assert compliance_violations(Stack.of(translated[stage], stage)) == []


def test_the_staff_api_has_what_the_desk_needs(translated: dict[str, Template]) -> None:  # noqa: F811
    statements = [s for o, s in allow_statements(Stack.of(translated["prod"], "prod"))
                  if o == "ArchiveApiFunctionRole"]  # fmt: skip
    for action in ("s3:PutObjectLegalHold", "s3:ListBucketVersions", "s3:GetObjectVersion",
                   "dynamodb:PutItem", "ses:SendRawEmail"):  # fmt: skip
        assert any(grants(s, action) for s in statements), action


def _plant(role: str, action: str, resource: Any) -> Any:
    def mutate(t: Template) -> None:
        policies = t["Resources"][role]["Properties"]["Policies"]
        policies[-1]["PolicyDocument"]["Statement"].append(
            {"Sid": "Planted", "Effect": "Allow", "Action": [action], "Resource": resource}
        )

    return mutate


PLANTED = {
    "legal hold from links": (
        _plant("LinksFunctionRole", "s3:PutObjectLegalHold", {"Fn::Sub": "${ArchiveBucket.Arn}/*"}),
        "LinksFunctionRole/Planted: grants s3:PutObjectLegalHold",
    ),
    "staff api deletes versions": (
        _plant("ArchiveApiFunctionRole", "s3:DeleteObjectVersion",
               {"Fn::Sub": "${ArchiveBucket.Arn}/receipts/*"}),
        "grants s3:DeleteObjectVersion",
    ),
    "staff api updates audit": (
        _plant("ArchiveApiFunctionRole", "dynamodb:UpdateItem", AUDIT_ARN),
        "grants dynamodb:UpdateItem on AuditTable",
    ),
    "receipts writes bundles": (
        _plant("ReceiptsFunctionRole", "s3:PutObject",
               {"Fn::Sub": "${ArchiveBucket.Arn}/evidence-bundles/*"}),
        "touches evidence-bundles/",
    ),
    "staff api deletes ledger records": (
        _plant("ArchiveApiFunctionRole", "dynamodb:DeleteItem",
               {"Fn::GetAtt": ["LedgerTable", "Arn"]}),
        "grants dynamodb:DeleteItem on LedgerTable",
    ),
    "notify writes the audit": (
        _plant("NotifyFunctionRole", "dynamodb:PutItem", AUDIT_ARN),
        "writes AuditTable",
    ),
}  # fmt: skip


@pytest.mark.parametrize("planted", list(PLANTED))
def test_the_rule_reports_a_planted_grant(
    planted: str,
    translated: dict[str, Template],  # noqa: F811
) -> None:
    mutate, expected = PLANTED[planted]
    template = copy.deepcopy(translated["prod"])
    mutate(template)
    violations = compliance_violations(Stack.of(template, "prod"))
    assert any(expected in v for v in violations), violations
