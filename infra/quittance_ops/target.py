"""The stack a command works on: the local one (its ``stack.json``) or a deployed one (its
CloudFormation outputs and resources, with the caller's own AWS credentials). Every command
that reaches AWS resolves its ``--stack`` / ``--aws-stack`` here, so they all mean the same."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import typer
from botocore.credentials import Credentials
from botocore.exceptions import BotoCoreError, ClientError

from quittance_ops.project import local_stack_json


@dataclass(frozen=True)
class Target:
    """``resources``: logical id → physical id (a queue's URL, a bucket's or a table's name);
    ``outputs``: the stack's outputs (empty locally, where ``resources`` says it all)."""

    name: str
    session: boto3.session.Session
    api_url: str
    resources: Mapping[str, str]
    outputs: Mapping[str, str] = field(default_factory=dict)
    endpoint_url: str | None = None
    local: dict[str, Any] = field(default_factory=dict)  # a local stack's stack.json

    @property
    def region(self) -> str:
        return str(self.session.region_name)

    @property
    def is_local(self) -> bool:
        return bool(self.local)

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]

    def resource(self, logical_id: str) -> str:
        try:
            return self.resources[logical_id]
        except KeyError:
            raise typer.BadParameter(f"stack {self.name} has no {logical_id}") from None

    def credentials(self) -> Credentials:
        found = self.session.get_credentials()
        if found is None:
            raise typer.BadParameter("no AWS credentials found (aws configure / AWS_PROFILE)")
        return found


def local_target(stack_json: Path) -> Target:
    info = json.loads(stack_json.read_text())
    session = boto3.session.Session(
        region_name=info["region"],
        aws_access_key_id=info["credentials"]["aws_access_key_id"],
        aws_secret_access_key=info["credentials"]["aws_secret_access_key"],
    )
    return Target(
        name=str(stack_json),
        session=session,
        api_url=info.get("api_url", ""),  # none when only the AWS side is described
        # A stack.json written for the staff API alone (a test's) names no resources.
        resources=dict(info.get("resources", {})),
        endpoint_url=info.get("moto_endpoint"),
        local=info,
    )


def aws_target(stack_name: str, session: boto3.session.Session | None = None) -> Target:
    session = session or boto3.session.Session()
    cloudformation = session.client("cloudformation")
    try:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        resources: dict[str, str] = {}
        for page in cloudformation.get_paginator("list_stack_resources").paginate(
            StackName=stack_name
        ):
            for resource in page["StackResourceSummaries"]:
                if resource.get("PhysicalResourceId") and (
                    resource.get("ResourceStatus") != "DELETE_COMPLETE"
                ):
                    resources[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    except (ClientError, BotoCoreError) as exc:
        raise typer.BadParameter(f"stack {stack_name}: {exc}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return Target(
        name=stack_name,
        session=session,
        api_url=outputs.get("ApiUrl", ""),
        resources=resources,
        outputs=outputs,
    )


def open_target(stack: Path | None = None, aws_stack: str | None = None) -> Target:
    """``--aws-stack NAME`` if given, else the local stack (``--stack`` or out/local)."""
    if aws_stack:
        return aws_target(aws_stack)
    return local_target(local_stack_json(stack))
