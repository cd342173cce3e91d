"""``quittance doctor`` and ``quittance smoke`` against a fresh local stack, as an operator
runs them against a deployed one: doctor lists what blocks real customers and exits 1, and
exits 0 once each is set up; smoke follows one signed test delivery to an archived, locked,
verified receipt and prints each stage with its time.

The stack runs in this process, so that the one thing no API sets can be played: AWS
support granting SES production access (moto's sending quota is the sandbox's, 200 a day,
and only a support case raises it)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.moto_api._internal.models import moto_api_backend
from moto.ses.models import SESQuota
from typer.testing import CliRunner

from quittance.settings import load
from quittance_ops.cli import app
from quittance_ops.localstack.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("local_stack")]


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # moto keeps its state in the process, not in the server, and the functions' settings
    # are cached per process: another in-process stack of this worker (test_privacy_scene)
    # would find every resource already there, or the other stack's names.
    fresh_process_state()
    try:
        with LocalStack(ROOT, out_dir=tmp_path_factory.mktemp("doctor"), stage="dev") as stack:
            yield stack
    finally:
        fresh_process_state()


def fresh_process_state() -> None:
    moto_api_backend.reset()
    load.cache_clear()


def cli(stack: LocalStack, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--stack", str(stack.out_dir / "stack.json")])


def last_json(output: str) -> dict[str, Any]:
    """The command's JSON answer (the in-process functions' log lines share stdout)."""
    start = output.rindex('\n{\n  "ok"') + 1 if '\n{\n  "ok"' in output else output.index("{")
    return json.loads(output[start:])  # type: ignore[no-any-return]


def blocking(result: Any) -> dict[str, str]:
    answer = last_json(result.output)
    return {f["check"]: f["detail"] for f in answer["findings"] if f["status"] == "blocks"}


def test_doctor_lists_the_blockers_then_passes_once_they_are_set_up(
    dev_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fresh stack (dev), When the operator runs doctor
    fresh = cli(dev_stack, "doctor", "--json")
    # Then it exits 1 and names what stands between the stack and real customers
    assert fresh.exit_code == 1, fresh.output
    assert set(blocking(fresh)) == {"SES sandbox", "SMS spend limit", "alarm email"}
    findings = {f["check"]: f for f in last_json(fresh.output)["findings"]}
    # What is ready says so: identity, DKIM records, secrets, the stage's Object Lock.
    assert findings["SES identity"]["status"] == "ok"
    assert "._domainkey.example.com CNAME " in findings["DKIM"]["detail"]
    assert findings["webhook secrets"]["detail"] == "set for gocardless, standard, stripe"
    assert findings["Object Lock"]["detail"] == "GOVERNANCE, 1 days default"
    # The demo company on a dev stage is a warning, not a blocker.
    assert findings["seller profile"]["status"] == "warn"
    assert all(f["fix"] for f in findings.values() if f["status"] != "ok")

    # When each blocker is set up as the operator would
    sns = dev_stack.client("sns")
    sns.set_sms_attributes(attributes={"MonthlySpendLimit": "50"})
    sns.subscribe(
        TopicArn=dev_stack.resource("OpsAlertsTopic"), Protocol="email", Endpoint="ops@example.org"
    )
    raised = SESQuota.__init__

    def production_access(self: SESQuota, sent: int) -> None:
        raised(self, sent)
        self.max24_hour_send = 50_000  # what AWS grants with production access
        self.max_send_rate = 14

    monkeypatch.setattr(SESQuota, "__init__", production_access)
    # Then doctor exits 0
    ready = cli(dev_stack, "doctor")
    assert ready.exit_code == 0, ready.output
    assert "nothing blocks real customers" in ready.output


def test_smoke_follows_a_test_delivery_to_a_locked_verified_receipt(
    dev_stack: LocalStack,
) -> None:
    result = cli(dev_stack, "smoke", "--json", "--email", "ops@example.org", "--timeout", "90")
    assert result.exit_code == 0, result.output
    answer = last_json(result.output)
    stages = {s["name"]: s for s in answer["stages"]}
    assert list(stages) == ["intake", "ledger", "archive", "hash", "messages"]
    assert all(s["ok"] for s in stages.values())
    # Each stage has its time, in order, from the delivery on.
    times = [s["seconds"] for s in answer["stages"]]
    assert times == sorted(times) and times[-1] > 0
    assert answer["invoice"].startswith("SMOKE-") and answer["provider"] == "standard"
    assert "GOVERNANCE until " in stages["archive"]["detail"]
    assert "payment_confirmed sent" in stages["messages"]["detail"]


def test_smoke_prints_the_stages_and_their_times(dev_stack: LocalStack) -> None:
    result = cli(dev_stack, "smoke")
    assert result.exit_code == 0, result.output
    times = []
    for stage in ("intake", "ledger", "archive", "hash", "messages"):
        found = re.search(rf"ok\s+{stage}\s+(\d+\.\d\d) s  \S", result.output)
        assert found, f"{stage} not printed with its time:\n{result.output}"
        times.append(float(found.group(1)))
    assert times == sorted(times)
    assert re.search(
        r"smoke test: invoice SMOKE-\d{8}T\d{6}-[0-9A-F]{4} \(test mode\)", result.output
    )
    assert "none expected: no --email given" in result.output
