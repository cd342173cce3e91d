"""template.yaml's reminders: a daily EventBridge Scheduler schedule in the business's time
zone, failures that end in an alarmed DLQ, and a role that can do no more than the run needs."""

from __future__ import annotations

from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from tests.template.test_template import OPS_TOPIC, STAGES, TEMPLATE, as_list, ref_of, translate

FUNCTION = "RemindersFunction"


@pytest.fixture(scope="module", params=STAGES)
def resources(request: pytest.FixtureRequest) -> dict[str, Any]:
    translated: dict[str, Any] = translate(yaml_parse(TEMPLATE.read_text()), request.param)
    return dict(translated["Resources"])


def _of_type(resources: dict[str, Any], type_: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == type_}


def test_a_daily_schedule_invokes_the_reminders_function_in_paris_time(
    resources: dict[str, Any],
) -> None:
    [schedule] = [
        s["Properties"]
        for s in _of_type(resources, "AWS::Scheduler::Schedule").values()
        if ref_of(s["Properties"]["Target"]["Arn"]) == FUNCTION
    ]
    assert schedule["ScheduleExpression"] == "cron(0 9 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert "Name" not in schedule  # generated: dev and prod stacks may share an account
    target = schedule["Target"]
    assert ref_of(target["DeadLetterConfig"]["Arn"]) == "RemindersDLQ"
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1


def test_a_run_that_keeps_failing_ends_in_an_alarmed_dlq(resources: dict[str, Any]) -> None:
    function = resources[FUNCTION]["Properties"]
    assert ref_of(function["DeadLetterConfig"]["TargetArn"]) == "RemindersDLQ"
    [invoke_config] = [
        c["Properties"]
        for c in _of_type(resources, "AWS::Lambda::EventInvokeConfig").values()
        if ref_of(c["Properties"]["FunctionName"]) == FUNCTION
    ]
    assert invoke_config["MaximumRetryAttempts"] == 2
    watching = [
        a["Properties"]
        for a in _of_type(resources, "AWS::CloudWatch::Alarm").values()
        if any(ref_of(d["Value"]) == "RemindersDLQ" for d in a["Properties"]["Dimensions"])
    ]
    assert watching and all(
        ref_of(action) == OPS_TOPIC for a in watching for action in a["AlarmActions"]
    )
    assert resources["RemindersDLQ"]["Properties"]["SqsManagedSseEnabled"] is True


def test_logs_are_kept_for_the_stage_retention(resources: dict[str, Any]) -> None:
    function = resources[FUNCTION]["Properties"]
    assert ref_of(function["LoggingConfig"]["LogGroup"]) == "RemindersLogs"
    assert resources["RemindersLogs"]["Properties"]["RetentionInDays"]


def _statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    role = resources[f"{FUNCTION}Role"]["Properties"]
    return [
        statement
        for policy in role["Policies"]
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]


def test_the_role_reads_open_invoices_by_index_and_writes_only_what_a_claim_needs(
    resources: dict[str, Any],
) -> None:
    actions: dict[str, set[str]] = {}
    for statement in _statements(resources):
        for action in as_list(statement["Action"]):
            targets = {str(ref_of(r) or r) for r in as_list(statement["Resource"])}
            actions.setdefault(action, set()).update(targets)
    dynamodb = {a for a in actions if a.startswith("dynamodb:")}
    assert dynamodb == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
    }
    assert "dynamodb:Scan" not in actions and "dynamodb:DeleteItem" not in actions
    [index] = [
        r["Fn::Sub"]
        for s in _statements(resources)
        if s.get("Sid") == "OpenInvoicesAndReminderSteps"
        for r in as_list(s["Resource"])
        if isinstance(r, dict) and isinstance(r.get("Fn::Sub"), str)
    ]
    assert index.endswith("/index/gsi4")
    # It queues notifications and reports its own failure; it never touches customers or S3.
    assert {a for a in actions if a.startswith("sqs:")} == {"sqs:SendMessage*", "sqs:SendMessage"}
    assert not any(a.startswith(("s3:", "ses:", "kms:", "secretsmanager:")) for a in actions)
    text = str(_statements(resources))
    assert "CustomersTable" not in text and "ArchiveBucket" not in text
