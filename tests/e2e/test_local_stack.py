"""The local stack builds itself from template.yaml, for either stage, and says how to reach it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from quittance_ops.deliveries.stripe import stripe_payment_intent_succeeded
from quittance_ops.localstack.template import Resolver, load_template

from .conftest import ROOT, RunningStack, start_stack, stop_stack
from .test_webhook_to_receipt import post

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-local_stack")]


def test_every_template_resource_exists_in_the_local_stack(stack: RunningStack) -> None:
    template = load_template(ROOT / "template.yaml")
    # The stack runs the prod stage with the other parameters' defaults: a resource whose
    # condition is false there (the alarm email's subscription) is not created.
    defaults = Resolver(template, {"Stage": "prod"}, {}, lambda *_: None)
    absent = {
        k for k, v in template["Resources"].items() if not defaults.condition(v.get("Condition"))
    }
    assert "OpsAlertsSubscription" in absent and "SenderIdentity" not in absent
    assert set(stack.resources) == set(template["Resources"]) - absent


def test_stack_json_tells_how_to_sign_and_where_to_post(stack: RunningStack) -> None:
    assert stack.api_url.startswith("http://127.0.0.1:")
    assert stack.endpoint.startswith("http://127.0.0.1:")
    assert stack.info["webhook_secrets"]["stripe"].startswith("whsec_")
    assert stack.info["webhook_urls"]["stripe"] == f"{stack.api_url}/webhooks/stripe"
    # What moto cannot enforce is said, not hidden.
    assert "ArchiveBucketPolicy:TlsOnly" in stack.info["not_enforced_locally"]


def test_every_route_and_queue_has_its_handler(stack: RunningStack) -> None:
    functions = stack.info["functions"]
    routes = {route for f in functions.values() for route in f["routes"]}
    template = load_template(ROOT / "template.yaml")
    declared = {
        f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}"
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "HttpApi"
    }
    assert {"POST /webhooks/{provider}", "GET /r/{token}", "GET /r/{token}/pdf"} <= declared
    assert routes == declared
    consumed = {arn.rsplit(":", 1)[1] for f in functions.values() for arn in f["queues"]}
    main_queues = {
        url.rsplit("/", 1)[1]
        for logical, url in stack.resources.items()
        if logical.endswith("Queue")
    }
    assert consumed == main_queues


def test_prod_archive_is_compliance_locked_for_ten_years(stack: RunningStack) -> None:
    lock = stack.client("s3").get_object_lock_configuration(
        Bucket=stack.resources["ArchiveBucket"]
    )["ObjectLockConfiguration"]
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("COMPLIANCE", 3650)


def test_an_unknown_route_is_404_like_api_gateway(stack: RunningStack) -> None:
    request = urllib.request.Request(f"{stack.api_url}/nowhere", method="GET")
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        assert error.code == 404
        assert json.loads(error.read()) == {"message": "Not Found"}
    else:
        pytest.fail("an unknown route answered")


def test_the_dev_stage_gets_a_governance_one_day_archive_and_takes_a_cli_secret(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    dev_out = tmp_path_factory.mktemp("dev")
    process, dev = start_stack(
        dev_out,
        stage="dev",
        extra=["--webhook-secret", "stripe=whsec_printed_by_stripe_listen"],
    )
    try:
        lock = dev.client("s3").get_object_lock_configuration(
            Bucket=dev.resources["ArchiveBucket"]
        )["ObjectLockConfiguration"]
        retention = lock["Rule"]["DefaultRetention"]
        assert (retention["Mode"], retention["Days"]) == ("GOVERNANCE", 1)
        # A delivery signed by `stripe listen`'s own secret is accepted, as is ours.
        for secret in ("whsec_printed_by_stripe_listen", dev.info["webhook_secrets"]["stripe"]):
            delivery = stripe_payment_intent_succeeded(
                secret=secret, invoice_number="F-CLI", amount_minor=100
            )
            status, _ = post(dev, delivery)
            assert status == 202
    finally:
        assert stop_stack(process, dev_out) == 0


def test_ctrl_c_stops_a_stack_whose_parent_blocked_sigint(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """CI runners and supervisors may start us with SIGINT blocked; Ctrl-C must still stop."""
    out = tmp_path_factory.mktemp("blocked")
    process, running = start_stack(out, inherit_blocked_signals=True)
    assert running.api_url.startswith("http://127.0.0.1:")
    assert stop_stack(process, out) == 0
    assert "local stack stopped in" in (out / "stack.log").read_text()
