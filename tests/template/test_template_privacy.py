"""IAM rules of privacy by design, on the template as SAM deploys it: only the functions
that must read contact data can unwrap a customer's data key, only intake can mint one or
write evidence, and the data-subject routes are IAM-authorised."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from tests.template.test_template import (
    STAGES,
    TEMPLATE,
    Stack,
    Template,
    allow_statements,
    as_list,
    grants,
    mentions,
    translate,
)

# Intake seals (profile fields, evidence); notify and receipts write to the payer; feedback
# compares a bounced address with the one on file; the privacy API exports and erases;
# archive_api may open evidence for the compliance bundle; bank_api and bank_import compare
# a transfer's payer with the registered customer's name (amount-and-name matching).
MAY_OPEN = {
    "IntakeFunctionRole",
    "LookupFunctionRole",
    "NotifyFunctionRole",
    "ReceiptsFunctionRole",
    "FeedbackFunctionRole",
    "PrivacyApiFunctionRole",
    "ArchiveApiFunctionRole",
    "BankApiFunctionRole",
    "BankImportFunctionRole",
}
MUST_OPEN = MAY_OPEN - {"ArchiveApiFunctionRole"}  # the compliance branch adds its own
# Intake for payers a gateway tells of (lookup for those its API tells of); archive_api for
# customers staff register with an invoice before any payment.
MAY_MINT = {"IntakeFunctionRole", "LookupFunctionRole", "ArchiveApiFunctionRole"}
# Intake keeps the gateway's delivery; the lookup stage what the gateway's API answered.
EVIDENCE_WRITERS = {"IntakeFunctionRole", "LookupFunctionRole"}
EVIDENCE_READERS = {"PrivacyApiFunctionRole", "ArchiveApiFunctionRole"}
PRIVACY_ROUTES = {
    ("/admin/customers/{customer_id}", "DELETE"),
    ("/admin/customers/{customer_id}/export", "GET"),
    ("/admin/customers/{customer_id}/consents/marketing", "PUT"),
}


def _via_service(statement: dict[str, Any]) -> bool:
    conditions = statement.get("Condition") or {}
    return any(key.lower() == "kms:viaservice" for op in conditions.values() for key in op)


def _on_data_key(resources: list[Any]) -> bool:
    return "DataKey" in mentions(resources) or "*" in resources


def customer_key_users(stack: Stack, action: str) -> set[str]:
    """Roles that can call ``action`` on the DataKey directly (not through S3 or Secrets
    Manager): that is what unwrapping or minting a customer's data key takes."""
    return {
        owner
        for owner, statement in allow_statements(stack)
        if grants(statement, action)
        and _on_data_key(as_list(statement.get("Resource")))
        and not _via_service(statement)
    }


def _arn_text(resource: Any) -> str:
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        return str(sub[0] if isinstance(sub, list) else sub)
    return str(resource)


def s3_users(stack: Stack, action: str, prefix: str) -> set[str]:
    found = set()
    for owner, statement in allow_statements(stack):
        if not grants(statement, action):
            continue
        for resource in as_list(statement.get("Resource")):
            text = _arn_text(resource)
            if f"/{prefix}" in text or text.endswith("}/*") or text == "*":
                found.add(owner)
    return found


def privacy_violations(stack: Stack) -> list[str]:
    problems = []
    openers = customer_key_users(stack, "kms:Decrypt")
    if extra := openers - MAY_OPEN:
        problems.append(f"may unwrap customer data keys without need: {sorted(extra)}")
    if missing := MUST_OPEN - openers:
        problems.append(f"cannot unwrap customer data keys: {sorted(missing)}")
    if extra := customer_key_users(stack, "kms:GenerateDataKey") - MAY_MINT:
        problems.append(f"may mint customer data keys: {sorted(extra)}")
    if extra := s3_users(stack, "s3:PutObject", "evidence/") - EVIDENCE_WRITERS:
        problems.append(f"may write evidence: {sorted(extra)}")
    if extra := s3_users(stack, "s3:GetObject", "evidence/") - EVIDENCE_READERS:
        problems.append(f"may read evidence: {sorted(extra)}")
    return problems


@pytest.fixture(scope="module")
def source() -> Template:
    return yaml_parse(TEMPLATE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def stacks(source: Template) -> dict[str, Stack]:
    return {stage: Stack.of(translate(source, stage), stage) for stage in STAGES}


def test_only_the_functions_that_need_contact_data_can_decrypt_it(
    stacks: dict[str, Stack],
) -> None:
    for stack in stacks.values():
        assert privacy_violations(stack) == []


def test_the_ledger_never_touches_customer_keys(stacks: dict[str, Stack]) -> None:
    stack = stacks["prod"]
    assert "LedgerFunctionRole" not in customer_key_users(stack, "kms:Decrypt")
    assert "LinksFunctionRole" not in customer_key_users(stack, "kms:Decrypt")


def test_data_subject_routes_are_iam_authorised(source: Template) -> None:
    events = source["Resources"]["PrivacyApiFunction"]["Properties"]["Events"]
    routes = {
        (e["Properties"]["Path"], e["Properties"]["Method"]): e["Properties"]["Auth"]["Authorizer"]
        for e in events.values()
    }
    assert set(routes) == PRIVACY_ROUTES
    assert set(routes.values()) == {"AWS_IAM"}


def test_rule_reports_a_planted_decrypt_grant_on_the_ledger(source: Template) -> None:
    planted = copy.deepcopy(source)
    statements = planted["Resources"]["LedgerFunction"]["Properties"]["Policies"][-1]["Statement"]
    statements.append(
        {
            "Sid": "Planted",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": {"Fn::GetAtt": ["DataKey", "Arn"]},
            "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "customer-data-key"}},
        }
    )
    assert privacy_violations(Stack.of(translate(planted, "prod"), "prod")) == [
        "may unwrap customer data keys without need: ['LedgerFunctionRole']"
    ]


def test_rule_reports_a_planted_bucket_wide_read(source: Template) -> None:
    planted = copy.deepcopy(source)
    statements = planted["Resources"]["LinksFunction"]["Properties"]["Policies"][-1]["Statement"]
    statements.append(
        {
            "Sid": "Planted",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": {"Fn::Sub": "${ArchiveBucket.Arn}/*"},
        }
    )
    assert privacy_violations(Stack.of(translate(planted, "prod"), "prod")) == [
        "may read evidence: ['LinksFunctionRole']"
    ]


def test_traces_never_keep_a_function_s_answers_or_errors(stacks: dict[str, Stack]) -> None:
    """Every traced function runs with Powertools' response and error capture off: X-Ray
    would otherwise keep an export or a profile as segment metadata."""
    for stage, stack in stacks.items():
        traced = {
            name: function
            for name, function in stack.of_type("AWS::Lambda::Function").items()
            if function["Properties"].get("TracingConfig", {}).get("Mode") == "Active"
        }
        assert len(traced) >= 9, sorted(traced)  # every function is traced
        for name, function in traced.items():
            variables = function["Properties"]["Environment"]["Variables"]
            assert variables.get("POWERTOOLS_TRACER_CAPTURE_RESPONSE") == "false", (stage, name)
            assert variables.get("POWERTOOLS_TRACER_CAPTURE_ERROR") == "false", (stage, name)
