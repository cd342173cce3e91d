"""template.yaml for customer messages: the notify function may send SMS and nothing else on
SNS, reads only receipts from the archive, gets every message setting; the links function
serves the one-click unsubscribe routes and may only record consent on the customers table."""

from __future__ import annotations

from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse

from quittance.settings import LinksSettings, NotifySettings
from tests.template.test_template import (
    STAGES,
    TEMPLATE,
    Stack,
    Template,
    as_list,
    props,
    translate,
)


@pytest.fixture(scope="module")
def source() -> Template:
    return yaml_parse(TEMPLATE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=STAGES)
def stack(request: pytest.FixtureRequest, source: Template) -> Stack:
    return Stack.of(translate(source, request.param), request.param)


def statements(stack: Stack, function: str) -> list[dict[str, Any]]:
    role = props(stack.resources[f"{function}Role"])
    return [
        statement
        for policy in role.get("Policies") or []
        for statement in as_list(policy["PolicyDocument"]["Statement"])
    ]


def test_notify_may_publish_sms_but_no_topic(stack: Stack) -> None:
    sns = [s for s in statements(stack, "NotifyFunction") if "sns:Publish" in as_list(s["Action"])]
    allow = [s for s in sns if s["Effect"] == "Allow"]
    deny = [s for s in sns if s["Effect"] == "Deny"]
    assert [s["Resource"] for s in allow] == ["*"]  # SMS publishes name no resource
    [denied] = deny
    assert denied["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}


def test_notify_reads_only_receipts_from_the_archive(stack: Stack) -> None:
    s3 = [
        s
        for s in statements(stack, "NotifyFunction")
        if any(str(a).startswith("s3:") for a in as_list(s["Action"]))
    ]
    assert [sorted(as_list(s["Action"])) for s in s3] == [["s3:GetObject", "s3:GetObjectVersion"]]
    assert s3[0]["Resource"] == {"Fn::Sub": "${ArchiveBucket.Arn}/receipts/*"}


def test_notify_and_links_get_every_setting_they_require(source: Template) -> None:
    def env(function: str) -> set[str]:
        variables = props(source["Resources"][function])["Environment"]["Variables"]
        return set(variables)

    for function, settings in (
        ("NotifyFunction", NotifySettings),
        ("LinksFunction", LinksSettings),
    ):
        wanted = {
            str(field.alias)
            for name, field in settings.model_fields.items()
            if name not in ("stage", "aws_region") and not name.startswith(("seller_", "brand"))
        }
        optional_elsewhere = {"PRESIGNED_URL_SECONDS", "LINK_TTL_DAYS", "DEFAULT_PHONE_REGION"}
        optional_elsewhere |= {"OFFER_TEXT_FR", "OFFER_TEXT_EN", "OFFER_URL"}
        assert wanted - optional_elsewhere <= env(function), function


def test_links_serves_one_click_unsubscribe(source: Template) -> None:
    events = props(source["Resources"]["LinksFunction"])["Events"].values()
    routes = {(e["Properties"]["Method"], e["Properties"]["Path"]) for e in events}
    assert {("GET", "/u/{token}"), ("POST", "/u/{token}")} <= routes


def test_links_may_only_update_customer_profiles(stack: Stack) -> None:
    on_customers = [
        s
        for s in statements(stack, "LinksFunction")
        if s["Resource"] == {"Fn::GetAtt": ["CustomersTable", "Arn"]}
    ]
    assert [as_list(s["Action"]) for s in on_customers] == [["dynamodb:UpdateItem"]]
