"""A first deploy in a fresh account (issue 18), read on the SAM-translated template of each
stage: what made ``sam deploy`` fail there, or the first webhook after it, stays fixed.

- no reserved concurrency unless a parameter asks (a new account's quota of 10 leaves nothing
  to reserve: CREATE_FAILED and a rollback);
- every role that writes under the archive's locked prefixes holds s3:PutObjectRetention (S3
  authorises Object Lock headers against it), and only in a form that cannot switch or
  shorten a lock; the receipts role reads a version's lock back (its recovery path);
- SES: the DKIM records are outputs, an identity that already exists is used rather than
  created again, and the sending policy works in the SES sandbox (where each recipient's
  identity is checked too) while the From address stays fixed;
- the guided deploy's no-authentication prompts are answered in README's Deploy section, and
  samconfig.toml deploys each stage without them."""

from __future__ import annotations

import copy
import re
import tomllib
from typing import Any

import pytest

from tests.template.test_template import (
    EXPECTED_ARCHIVE,
    LOCKED_WRITERS,
    RETENTION_ACTION,
    ROOT,
    STAGES,
    Stack,
    Template,
    allow_statements,
    as_list,
    grants,
    lock_keeping_retention_grant,
    props,
    source,  # noqa: F401 - fixture
    sub_text,
    translate,
    translated,  # noqa: F401 - fixture
)

LOCKED_PREFIXES = ("receipts/*", "evidence/*")
SES_SEND = ("ses:SendEmail", "ses:SendRawEmail")
DKIM_OUTPUTS = ("DkimRecord1", "DkimRecord2", "DkimRecord3")
README = ROOT / "README.md"
SAMCONFIG = ROOT / "samconfig.toml"


def stack_of(translated: dict[str, Template], stage: str) -> Stack:  # noqa: F811
    return Stack.of(translated[stage], stage)


# ---------------------------------------------------------------- the rules


def reserved_concurrency_violations(stack: Stack) -> list[str]:
    return [
        f"{name}: reserves {props(function)['ReservedConcurrentExecutions']} concurrent executions"
        for name, function in stack.of_type("AWS::Lambda::Function").items()
        if "ReservedConcurrentExecutions" in props(function)
    ]


def _archive_prefix(resource: Any) -> str | None:
    text = sub_text(resource)
    if text and text.startswith("${ArchiveBucket.Arn}/"):
        return text.removeprefix("${ArchiveBucket.Arn}/")
    return None


def locked_writer_violations(stack: Stack) -> list[str]:
    """Every role that may PutObject under a locked prefix holds, for that prefix, a
    s3:PutObjectRetention grant that keeps the stage's mode and at least its retention."""
    violations: list[str] = []
    statements = list(allow_statements(stack))
    for owner, statement in statements:
        if not grants(statement, "s3:PutObject"):
            continue
        for resource in as_list(statement.get("Resource")):
            prefix = _archive_prefix(resource)
            if prefix not in LOCKED_PREFIXES:
                continue
            kept = [
                s
                for o, s in statements
                if o == owner
                and grants(s, RETENTION_ACTION)
                and lock_keeping_retention_grant(stack, o, s)
                and prefix in {_archive_prefix(r) for r in as_list(s.get("Resource"))}
            ]
            if not kept:
                violations.append(
                    f"{owner}: writes {prefix} with Object Lock headers but holds no "
                    f"{RETENTION_ACTION} there that keeps {EXPECTED_ARCHIVE[stack.stage].mode}"
                )
    return violations


def ses_sending_violations(stack: Stack) -> list[str]:
    violations: list[str] = []
    for owner, statement in allow_statements(stack):
        if not any(grants(statement, action) for action in SES_SEND):
            continue
        label = f"{owner}/{statement.get('Sid', '?')}"
        identities = [
            sub_text(r) or str(r)
            for r in as_list(statement.get("Resource"))
            if "identity/" in str(r)
        ]
        if not any(text.endswith(":identity/*") for text in identities):
            violations.append(
                f"{label}: sends only as {identities}; in the SES sandbox each recipient's "
                "identity is authorised too, so test sends are denied"
            )
        from_address = (statement.get("Condition") or {}).get("StringEquals", {})
        # The stage view resolves !Ref SenderEmail to the parameter's value.
        sender = stack.template["Parameters"]["SenderEmail"]["Default"]
        if from_address.get("ses:FromAddress") != sender:
            violations.append(f"{label}: any From address may be used (no ses:FromAddress)")
    return violations


def dkim_output_violations(stack: Stack) -> list[str]:
    violations: list[str] = []
    for n, name in enumerate(DKIM_OUTPUTS, start=1):
        value = sub_text((stack.outputs.get(name) or {}).get("Value"))
        wanted = (
            f"${{SenderIdentity.DkimDNSTokenName{n}}}",
            f"${{SenderIdentity.DkimDNSTokenValue{n}}}",
        )
        if not value or not all(part in value for part in wanted) or " CNAME " not in value:
            violations.append(
                f"output {name}: not the identity's DKIM record {n} (name CNAME value)"
            )
    return violations


def _references(value: Any, name: str) -> bool:
    text = repr(value)
    return f"'{name}'" in text or f"${{{name}." in text or f"${{{name}}}" in text


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("stage", STAGES)
def test_no_function_reserves_concurrency_unless_asked(
    stage: str,
    translated: dict[str, Template],  # noqa: F811 - fixture
) -> None:
    assert reserved_concurrency_violations(stack_of(translated, stage)) == []


def test_the_reminders_reservation_is_there_when_the_parameter_asks(
    source: Template,  # noqa: F811 - fixture
) -> None:
    asked = {"RemindersReservedConcurrency": 2}
    stack = Stack.of(translate(source, "prod"), "prod", asked)
    assert reserved_concurrency_violations(stack) == [
        "RemindersFunction: reserves 2 concurrent executions"
    ]


@pytest.mark.parametrize("stage", STAGES)
def test_every_locked_writer_may_set_the_stage_lock_and_no_weaker_one(
    stage: str,
    translated: dict[str, Template],  # noqa: F811 - fixture
) -> None:
    stack = stack_of(translated, stage)
    assert locked_writer_violations(stack) == []
    # Every writer is there: intake (the gateway's delivery as evidence), the lookup stage
    # (the gateway's API answers as evidence) and receipts.
    owners = {o for o, s in allow_statements(stack) if lock_keeping_retention_grant(stack, o, s)}
    assert owners == set(LOCKED_WRITERS)


def test_a_retention_grant_that_could_switch_or_shorten_a_lock_is_refused(
    translated: dict[str, Template],  # noqa: F811 - fixture
) -> None:
    stack = stack_of(translated, "prod")
    owner, statement = next(
        (o, s)
        for o, s in allow_statements(stack)
        if o == "ReceiptsFunctionRole" and grants(s, RETENTION_ACTION)
    )
    switched = copy.deepcopy(statement)
    switched["Condition"]["StringEquals"]["s3:object-lock-mode"] = "GOVERNANCE"
    shortened = copy.deepcopy(statement)
    shortened["Condition"]["NumericGreaterThanEquals"][
        "s3:object-lock-remaining-retention-days"
    ] = 1
    unconditioned = {k: v for k, v in statement.items() if k != "Condition"}
    elsewhere = {**statement, "Resource": {"Fn::Sub": "${ArchiveBucket.Arn}/*"}}
    for weaker in (switched, shortened, unconditioned, elsewhere):
        assert not lock_keeping_retention_grant(stack, owner, weaker), weaker
    assert lock_keeping_retention_grant(stack, owner, statement)
    assert not lock_keeping_retention_grant(stack, "NotifyFunctionRole", statement)


@pytest.mark.parametrize("stage", STAGES)
def test_the_receipts_role_reads_a_versions_lock_back(
    stage: str,
    translated: dict[str, Template],  # noqa: F811 - fixture
) -> None:
    statements = [
        s for o, s in allow_statements(stack_of(translated, stage)) if o == "ReceiptsFunctionRole"
    ]
    assert any(
        grants(s, "s3:GetObjectRetention")
        and "receipts/*" in {_archive_prefix(r) for r in as_list(s.get("Resource"))}
        for s in statements
    )


@pytest.mark.parametrize("stage", STAGES)
def test_sending_works_in_the_ses_sandbox_from_the_one_address(
    stage: str,
    translated: dict[str, Template],  # noqa: F811 - fixture
) -> None:
    stack = stack_of(translated, stage)
    senders = {o for o, s in allow_statements(stack) if grants(s, "ses:SendRawEmail")}
    assert {"NotifyFunctionRole", "ArchiveApiFunctionRole"} <= senders
    assert ses_sending_violations(stack) == []


@pytest.mark.parametrize("stage", STAGES)
def test_the_dkim_records_to_add_are_outputs(
    stage: str,
    translated: dict[str, Template],  # noqa: F811 - fixture
) -> None:
    assert dkim_output_violations(stack_of(translated, stage)) == []


def test_an_existing_sender_identity_is_used_not_created_again(
    source: Template,  # noqa: F811 - fixture
) -> None:
    existing = {"SenderIdentityExists": "true"}
    stack = Stack.of(translate(source, "dev"), "dev", existing)
    assert "SenderIdentity" not in stack.resources
    # Nothing left behind refers to it (CloudFormation would refuse the template).
    assert [n for n, r in stack.resources.items() if _references(r, "SenderIdentity")] == []
    assert [n for n, o in stack.outputs.items() if _references(o, "SenderIdentity")] == []
    # The sending policy did not depend on the stack creating the identity.
    assert ses_sending_violations(stack) == []


def _unauthenticated_functions(template: Template) -> list[str]:
    """Functions with an HttpApi route that is not IAM-authorised: each one is a question of
    the guided deploy, whose default answer (N) aborts it."""
    found = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            auth = (event["Properties"].get("Auth") or {}).get("Authorizer")
            if event["Type"] == "HttpApi" and auth != "AWS_IAM":
                found.append(name)
                break
    return sorted(found)


def _deploy_section() -> str:
    text = README.read_text()
    found = re.search(r"^## Deploy\b.*?(?=^## )", text, flags=re.M | re.S)
    assert found, "README.md has no '## Deploy' section"
    return found.group(0)


def test_readme_answers_each_no_authentication_prompt(
    source: Template,  # noqa: F811 - fixture
) -> None:
    functions = _unauthenticated_functions(source)
    assert functions == ["IntakeFunction", "LinksFunction"]
    section = _deploy_section()
    for name in functions:
        prompt = f"{name} may not have authorization defined, Is this okay? [y/N]"
        assert prompt in section, f"README Deploy does not answer: {prompt}"
        line = next(line for line in section.splitlines() if prompt in line)
        assert re.search(r"\by\b", line.split(prompt, 1)[1]), f"no 'y' given for {name}"


def test_samconfig_deploys_each_stage_without_the_guided_questions(
    source: Template,  # noqa: F811 - fixture
) -> None:
    config = tomllib.loads(SAMCONFIG.read_text())
    for stage in STAGES:
        deploy = config[stage]["deploy"]["parameters"]
        assert f"Stage={stage}" in deploy["parameter_overrides"]
        assert "CAPABILITY_IAM" in deploy["capabilities"]
        assert deploy["confirm_changeset"] is True
        assert deploy["stack_name"] == f"quittance-{stage}"
        # Every parameter it sets exists in the template.
        names = re.findall(r"(\w+)=", deploy["parameter_overrides"])
        assert set(names) <= set(source["Parameters"]), names
    # The layers are built in the arm64 build image (weasyprint's native libraries).
    assert config["default"]["build"]["parameters"]["use_container"] is True


def test_readme_deploy_covers_what_a_fresh_account_trips_on(
    translated: dict[str, Template],  # noqa: F811 - fixture
) -> None:
    section = _deploy_section()
    for needed in (
        "binfmt",  # arm64 build images on an x86_64 host
        "SMS sandbox",
        "spend limit of 1 USD",
        "SES sandbox",
        "production access",
        "COMPLIANCE mode for ten years",
        "ROLLBACK_COMPLETE",  # what a failed first deploy leaves, and how to clean it
        *DKIM_OUTPUTS[:1],
    ):
        assert needed in section, needed
    # Every resource the stack keeps after a failed deploy is named in the clean-up.
    retained = [
        name
        for name, resource in translated["prod"]["Resources"].items()
        if resource.get("DeletionPolicy") == "Retain"
        and resource["Type"] != "AWS::Lambda::LayerVersion"
    ]
    assert retained and all(f"`{name}`" in section for name in retained), retained
