"""template.yaml's SES feedback loop, on the SAM-translated template of each stage: the
configuration set publishes bounces, complaints and deliveries to an encrypted topic that SES is
allowed to use (and nothing more), the topic feeds a queue only it may write to, the feedback
function drains that queue with a role that can do its job and no more, and failures alarm.

cfn-lint and the SAM translation of the whole template are asserted in test_template.py; the
rules here follow its style: each returns violations, and each is shown to catch a regression
planted in a copy of the template."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from tests.template.test_template import (
    OPS_TOPIC,
    STAGES,
    TEMPLATE,
    Stack,
    Template,
    as_list,
    grants,
    kms_key_of,
    mentions,
    props,
    ref_of,
    translate,
)

CONFIGURATION_SET = "EmailConfigurationSet"
FEEDBACK = "FeedbackFunction"
FEEDBACK_ROLE = "FeedbackFunctionRole"
REQUIRED_EVENTS = {"bounce", "complaint", "delivery"}
SES_KEY_ACTIONS = {"kms:decrypt", "kms:generatedatakey*", "kms:generatedatakey"}
# What the feedback function may do, per table: read and update the message log and the profile
# (suppression), and the idempotency record of the SMS fallback. Never Query, Scan or Delete.
FEEDBACK_TABLE_ACTIONS = {
    "LedgerTable": {"dynamodb:getitem", "dynamodb:updateitem"},
    "CustomersTable": {"dynamodb:getitem", "dynamodb:updateitem"},
    "IdempotencyTable": {
        "dynamodb:getitem",
        "dynamodb:putitem",
        "dynamodb:updateitem",
        "dynamodb:deleteitem",
    },
}
SUPPRESSION_ATTRIBUTES = {"pk", "email_suppressed"}


def _services(statement: dict[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    return (
        [str(s) for s in as_list(principal.get("Service"))] if isinstance(principal, dict) else []
    )


def email_events_violations(stack: Stack) -> list[str]:
    violations: list[str] = []
    destinations = [
        p
        for p in map(props, stack.of_type("AWS::SES::ConfigurationSetEventDestination").values())
        if ref_of(p.get("ConfigurationSetName")) == CONFIGURATION_SET
    ]
    topics = set()
    for p in destinations:
        destination = p.get("EventDestination") or {}
        missing = REQUIRED_EVENTS - {str(t) for t in as_list(destination.get("MatchingEventTypes"))}
        if destination.get("Enabled") is not True or missing:
            violations.append(
                f"event destination: enabled={destination.get('Enabled')},"
                f" missing {sorted(missing)}"
            )
        topic = ref_of((destination.get("SnsDestination") or {}).get("TopicARN"))
        if stack.type_of(topic) == "AWS::SNS::Topic":
            topics.add(topic)
    if not topics:
        return [
            *violations,
            f"{CONFIGURATION_SET}: no event destination to an SNS topic of the template",
        ]

    for topic in sorted(topics):
        key = kms_key_of(stack, props(stack.resources[topic]).get("KmsMasterKeyId"))
        if key is None:
            violations.append(f"{topic}: not encrypted with a customer managed key of the template")
        else:
            violations += _ses_key_violations(stack, key, topic)
        violations += _delivery_violations(stack, topic)
    return violations


def _ses_key_violations(stack: Stack, key: str, topic: str) -> list[str]:
    """SES may Decrypt and GenerateDataKey under conditions that scope it, and nothing else."""
    violations: list[str] = []
    usable = False
    for statement in as_list(props(stack.resources[key]).get("KeyPolicy", {}).get("Statement")):
        if "ses.amazonaws.com" not in _services(statement) or statement.get("Effect") != "Allow":
            continue
        actions = {str(a).lower() for a in as_list(statement.get("Action"))}
        if not actions <= SES_KEY_ACTIONS:
            violations.append(
                f"{key}: grants ses.amazonaws.com {sorted(actions - SES_KEY_ACTIONS)}"
            )
        if not statement.get("Condition"):
            violations.append(f"{key}: lets ses.amazonaws.com use the key without a condition")
        usable |= grants(statement, "kms:Decrypt") and grants(statement, "kms:GenerateDataKey")
    if not usable:
        violations.append(
            f"{key}: SES cannot Decrypt and GenerateDataKey, so {topic} gets no events"
        )
    return violations


def _delivery_violations(stack: Stack, topic: str) -> list[str]:
    """The topic feeds a queue that the feedback function consumes; only the topic may write."""
    queues = {
        ref_of(p.get("Endpoint"))
        for p in map(props, stack.of_type("AWS::SNS::Subscription").values())
        if ref_of(p.get("TopicArn")) == topic and p.get("Protocol") == "sqs"
    }
    consumed = {
        ref_of(p.get("EventSourceArn"))
        for p in map(props, stack.of_type("AWS::Lambda::EventSourceMapping").values())
        if ref_of(p.get("FunctionName")) == FEEDBACK
    }
    fed = queues & consumed
    if not fed:
        return [f"{topic}: no SQS subscription to a queue that {FEEDBACK} consumes"]
    violations: list[str] = []
    for queue in sorted(q for q in fed if q):
        writers = [
            statement
            for p in map(props, stack.of_type("AWS::SQS::QueuePolicy").values())
            if queue in mentions(p.get("Queues"))
            for statement in as_list(p.get("PolicyDocument", {}).get("Statement"))
            if statement.get("Effect") == "Allow"
        ]
        if not any("sns.amazonaws.com" in _services(s) for s in writers):
            violations.append(f"{queue}: no queue policy lets SNS deliver {topic}")
        for statement in writers:
            source = (statement.get("Condition") or {}).get("ArnEquals", {}).get("aws:SourceArn")
            if ref_of(source) != topic:
                violations.append(f"{queue}: {statement.get('Sid', '?')} is not limited to {topic}")
    return violations


def feedback_role_violations(stack: Stack) -> list[str]:
    violations: list[str] = []
    role = stack.resources.get(FEEDBACK_ROLE)
    if role is None:
        return [f"{FEEDBACK_ROLE}: missing"]
    for policy in as_list(props(role).get("Policies")):
        for statement in as_list(policy.get("PolicyDocument", {}).get("Statement")):
            if statement.get("Effect") != "Allow":
                continue
            label = f"{FEEDBACK_ROLE}/{statement.get('Sid', '?')}"
            actions = {str(a).lower() for a in as_list(statement.get("Action"))}
            targets = mentions(statement.get("Resource"))
            dynamo = {a for a in actions if a.startswith("dynamodb:")}
            for table in targets & set(FEEDBACK_TABLE_ACTIONS):
                if extra := dynamo - FEEDBACK_TABLE_ACTIONS[table]:
                    violations.append(f"{label}: {sorted(extra)} on {table}")
            if dynamo and not targets & set(FEEDBACK_TABLE_ACTIONS):
                violations.append(f"{label}: DynamoDB actions on {sorted(targets) or '*'}")
            if "CustomersTable" in targets and "dynamodb:updateitem" in dynamo:
                limited = (statement.get("Condition") or {}).get("ForAllValues:StringEquals", {})
                if (
                    not set(as_list(limited.get("dynamodb:Attributes"))) <= SUPPRESSION_ATTRIBUTES
                    or not limited
                ):
                    violations.append(f"{label}: may rewrite any attribute of a customer profile")
            if any(a.startswith("sqs:send") for a in actions) and targets != {"NotificationsQueue"}:
                violations.append(
                    f"{label}: sends to {sorted(targets)}, not only NotificationsQueue"
                )
            if any(a.startswith(("ses:", "sns:")) for a in actions):
                violations.append(f"{label}: {sorted(actions)} (feedback sends nothing itself)")
    alarmed = any(
        props(alarm).get("Namespace") == "AWS/Lambda"
        and props(alarm).get("MetricName") == "Errors"
        and any(ref_of(d.get("Value")) == FEEDBACK for d in as_list(props(alarm).get("Dimensions")))
        and any(ref_of(a) == OPS_TOPIC for a in as_list(props(alarm).get("AlarmActions")))
        for alarm in stack.of_type("AWS::CloudWatch::Alarm").values()
    )
    if not alarmed:
        violations.append(f"{FEEDBACK}: no Errors alarm with an action to {OPS_TOPIC}")
    return violations


@pytest.fixture(scope="module")
def translated() -> dict[str, Template]:
    source = yaml_parse(TEMPLATE.read_text(encoding="utf-8"))
    return {stage: translate(source, stage) for stage in STAGES}


@pytest.fixture(params=STAGES)
def stack(request: pytest.FixtureRequest, translated: dict[str, Template]) -> Stack:
    return Stack.of(translated[request.param], request.param)


def test_ses_events_reach_the_feedback_queue_through_a_key_ses_may_use(stack: Stack) -> None:
    assert email_events_violations(stack) == []


def test_the_feedback_role_updates_status_and_suppression_and_queues_sms_only(
    stack: Stack,
) -> None:
    assert feedback_role_violations(stack) == []


# ---------------------------------------------------------------- the rules have teeth


def _resource(t: Template, kind: str) -> dict[str, Any]:
    return next(props(r) for r in t["Resources"].values() if r["Type"] == kind)


def _drop_bounces(t: Template) -> None:
    destination = _resource(t, "AWS::SES::ConfigurationSetEventDestination")["EventDestination"]
    destination["MatchingEventTypes"].remove("bounce")


def _aws_managed_topic_key(t: Template) -> None:
    t["Resources"]["EmailEventsTopic"]["Properties"]["KmsMasterKeyId"] = "alias/aws/sns"


def _ses_key_admin(t: Template) -> None:
    for statement in props(t["Resources"]["EmailEventsKey"])["KeyPolicy"]["Statement"]:
        if "ses.amazonaws.com" in _services(statement):
            statement["Action"] = "kms:*"


def _queue_open_to_any_topic(t: Template) -> None:
    for statement in _resource(t, "AWS::SQS::QueuePolicy")["PolicyDocument"]["Statement"]:
        del statement["Condition"]


def _grant_feedback(action: str, resource: Any) -> Callable[[Template], None]:
    def mutate(t: Template) -> None:
        policies = t["Resources"][FEEDBACK_ROLE]["Properties"]["Policies"]
        policies[-1]["PolicyDocument"]["Statement"].append(
            {"Effect": "Allow", "Action": [action], "Resource": resource}
        )

    return mutate


def _unlimited_suppression(t: Template) -> None:
    for policy in t["Resources"][FEEDBACK_ROLE]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement.get("Sid") == "SuppressEmail":
                del statement["Condition"]


def _drop_errors_alarm(t: Template) -> None:
    del t["Resources"]["FeedbackErrorsAlarm"]


REGRESSIONS: dict[str, tuple[Callable[[Template], None], Callable[[Stack], list[str]], str]] = {
    "bounces not published": (_drop_bounces, email_events_violations, "missing ['bounce']"),
    "topic under alias/aws/sns": (
        _aws_managed_topic_key,
        email_events_violations,
        "EmailEventsTopic: not encrypted with a customer managed key",
    ),
    "SES administers the key": (
        _ses_key_admin,
        email_events_violations,
        "grants ses.amazonaws.com ['kms:*']",
    ),
    "queue open to any topic": (
        _queue_open_to_any_topic,
        email_events_violations,
        "is not limited to EmailEventsTopic",
    ),
    "Scan of the customers": (
        _grant_feedback("dynamodb:Scan", {"Fn::GetAtt": ["CustomersTable", "Arn"]}),
        feedback_role_violations,
        "['dynamodb:scan'] on CustomersTable",
    ),
    "profile rewrite": (
        _unlimited_suppression,
        feedback_role_violations,
        "SuppressEmail: may rewrite any attribute",
    ),
    "sends email itself": (
        _grant_feedback("ses:SendEmail", "*"),
        feedback_role_violations,
        "feedback sends nothing itself",
    ),
    "errors alarm dropped": (_drop_errors_alarm, feedback_role_violations, "no Errors alarm"),
}


@pytest.mark.parametrize("regression", list(REGRESSIONS))
def test_rules_report_a_planted_regression(
    regression: str, translated: dict[str, Template]
) -> None:
    mutate, rule, expected = REGRESSIONS[regression]
    assert rule(Stack.of(translated["prod"], "prod")) == []
    template = copy.deepcopy(translated["prod"])
    mutate(template)
    violations = rule(Stack.of(template, "prod"))
    assert any(expected in violation for violation in violations), violations
