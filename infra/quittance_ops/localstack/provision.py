"""Create every resource of template.yaml in moto, in dependency order.

Each supported type has one creator; a type without a creator fails the start-up, so the
template can never hold a resource the local stack silently skips."""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quittance_ops.localstack.template import Resolver, UnresolvedReference, references


@dataclass
class FunctionSpec:
    """What the local stack needs to run one AWS::Serverless::Function in-process."""

    logical_id: str
    code_uri: str
    handler: str
    timeout: int
    memory: int
    environment: dict[str, str]
    http_routes: list[tuple[str, str]] = field(default_factory=list)
    iam_routes: set[tuple[str, str]] = field(default_factory=set)
    """Routes whose authoriser is AWS_IAM: the local gateway checks their SigV4 signature."""
    sqs_sources: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, str]] = field(default_factory=list)
    """EventBridge Scheduler events: not run locally, invoked on demand."""


@dataclass
class Provisioned:
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    webhook_secrets: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    not_enforced: list[str] = field(default_factory=list)


class UnsupportedResource(RuntimeError):
    pass


def _random_secret(length: int, punctuation: bool) -> str:
    alphabet = string.ascii_letters + string.digits + (string.punctuation if punctuation else "")
    return "".join(secrets.choice(alphabet) for _ in range(length))


class Provisioner:
    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, str],
        clients: Callable[[str], Any],
        *,
        stack_name: str,
        region: str,
        account: str,
    ) -> None:
        self.template = template
        self.clients = clients
        self.stack = stack_name
        self.region = region
        self.account = account
        self.result = Provisioned()
        self.resolver = Resolver(
            template,
            parameters,
            {
                "AWS::Region": region,
                "AWS::AccountId": account,
                "AWS::Partition": "aws",
                "AWS::StackName": stack_name,
                "AWS::URLSuffix": "amazonaws.com",
            },
            self._attribute,
        )
        self._creators: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
            "AWS::KMS::Key": self._kms_key,
            "AWS::KMS::Alias": self._kms_alias,
            "AWS::SecretsManager::Secret": self._secret,
            "AWS::DynamoDB::Table": self._table,
            "AWS::S3::Bucket": self._bucket,
            "AWS::S3::BucketPolicy": self._bucket_policy,
            "AWS::SQS::Queue": self._queue,
            "AWS::SQS::QueuePolicy": self._queue_policy,
            "AWS::SNS::Topic": self._topic,
            "AWS::SNS::TopicPolicy": self._topic_policy,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::CloudWatch::Alarm": self._alarm,
            "AWS::SES::ConfigurationSet": self._configuration_set,
            "AWS::SES::EmailIdentity": self._email_identity,
            "AWS::SES::ConfigurationSetEventDestination": self._event_destination,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::Serverless::LayerVersion": self._layer,
            "AWS::Serverless::HttpApi": self._http_api,
            "AWS::Serverless::Function": self._function,
        }

    # ---------------------------------------------------------------- orchestration
    def _attribute(self, logical_id: str, name: str) -> Any:
        created = self.result.attributes.get(logical_id)
        if created is None or name not in created:
            raise UnresolvedReference(f"{logical_id}.{name}")
        return created[name]

    def _name(self, logical_id: str, lower: bool = False) -> str:
        name = f"{self.stack}-{logical_id}"
        return name.lower() if lower else name

    def order(self) -> list[str]:
        resources: dict[str, Any] = self.template["Resources"]
        function_globals = references((self.template.get("Globals") or {}).get("Function", {}))
        pending = {
            logical: (
                references(spec.get("Properties", {}))
                | set(_depends_on(spec))
                | (function_globals if spec["Type"] == "AWS::Serverless::Function" else set())
            )
            & set(resources)
            for logical, spec in resources.items()
        }
        ordered: list[str] = []
        while pending:
            ready = sorted(k for k, deps in pending.items() if deps <= set(ordered))
            if not ready:
                raise RuntimeError(f"circular references among {sorted(pending)}")
            ordered.extend(ready)
            for k in ready:
                del pending[k]
        return ordered

    def provision(self) -> Provisioned:
        for logical in self.order():
            spec = self.template["Resources"][logical]
            if not self.resolver.condition(spec.get("Condition")):
                self.result.skipped.append(logical)
                continue
            creator = self._creators.get(spec["Type"])
            if creator is None:
                raise UnsupportedResource(
                    f"{logical}: the local stack cannot create {spec['Type']}"
                )
            props = self.resolver.resolve(spec.get("Properties", {}))
            self.result.attributes[logical] = creator(logical, props)
        return self.result

    # ---------------------------------------------------------------- creators
    def _kms_key(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        kms = self.clients("kms")
        meta = kms.create_key(
            Description=props.get("Description", logical),
            Policy=json.dumps(props["KeyPolicy"]) if "KeyPolicy" in props else None,
        )["KeyMetadata"]
        if props.get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=meta["KeyId"])
        return {"Ref": meta["KeyId"], "Arn": meta["Arn"], "KeyId": meta["KeyId"]}

    def _kms_alias(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        self.clients("kms").create_alias(
            AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"]
        )
        return {"Ref": props["AliasName"]}

    def _secret(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        value = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if generate:
            generated = _random_secret(
                int(generate.get("PasswordLength", 32)),
                not generate.get("ExcludePunctuation", False),
            )
            if "GenerateStringKey" in generate:
                document = json.loads(generate.get("SecretStringTemplate", "{}"))
                document[generate["GenerateStringKey"]] = generated
                value = json.dumps(document)
            else:
                value = generated
        meta = self.template["Resources"][logical].get("Metadata", {}).get("LocalStack", {})
        if meta.get("GenerateWebhookSecrets"):
            # A fresh signing secret per provider, printed to stack.json so that a gateway
            # CLI or a script can sign deliveries for this local stack.
            providers = list(json.loads(value or "{}"))
            self.result.webhook_secrets = {
                p: "whsec_" + _random_secret(32, punctuation=False) for p in providers
            }
            value = json.dumps({p: [s] for p, s in self.result.webhook_secrets.items()})
        kwargs: dict[str, Any] = {"Name": self._name(logical), "SecretString": value or ""}
        if props.get("KmsKeyId"):
            kwargs["KmsKeyId"] = props["KmsKeyId"]
        arn = self.clients("secretsmanager").create_secret(**kwargs)["ARN"]
        return {"Ref": arn, "Id": arn}

    def _table(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        ddb = self.clients("dynamodb")
        name = props.get("TableName", self._name(logical))
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("SSESpecification"):
            kwargs["SSESpecification"] = {"Enabled": props["SSESpecification"]["SSEEnabled"]}
        if props.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        if "DeletionProtectionEnabled" in props:
            kwargs["DeletionProtectionEnabled"] = bool(props["DeletionProtectionEnabled"])
        table = ddb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        pitr = props.get("PointInTimeRecoverySpecification", {})
        if pitr.get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
        return {"Ref": name, "Arn": table["TableArn"], "StreamArn": table.get("LatestStreamArn")}

    def _bucket(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        s3 = self.clients("s3")
        name = props.get("BucketName", self._name(logical, lower=True))
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        if props.get("ObjectLockEnabled"):
            kwargs["ObjectLockEnabledForBucket"] = True
        s3.create_bucket(**kwargs)
        if props.get("VersioningConfiguration"):
            s3.put_bucket_versioning(
                Bucket=name, VersioningConfiguration=props["VersioningConfiguration"]
            )
        lock = props.get("ObjectLockConfiguration")
        if lock:
            retention = lock["Rule"]["DefaultRetention"]
            s3.put_object_lock_configuration(
                Bucket=name,
                ObjectLockConfiguration={
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {
                        "DefaultRetention": {
                            "Mode": retention["Mode"],
                            "Days": int(retention["Days"]),
                        }
                    },
                },
            )
        encryption = props.get("BucketEncryption")
        if encryption:
            rules = [
                {
                    "ApplyServerSideEncryptionByDefault": dict(
                        rule["ServerSideEncryptionByDefault"]
                    ),
                    "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False)),
                }
                for rule in encryption["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(
                Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules}
            )
        if props.get("PublicAccessBlockConfiguration"):
            s3.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration={
                    k: bool(v) for k, v in props["PublicAccessBlockConfiguration"].items()
                },
            )
        if props.get("OwnershipControls"):
            s3.put_bucket_ownership_controls(
                Bucket=name, OwnershipControls=props["OwnershipControls"]
            )
        lifecycle = props.get("LifecycleConfiguration")
        if lifecycle:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name,
                LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in lifecycle["Rules"]]},
            )
        queues = (props.get("NotificationConfiguration") or {}).get("QueueConfigurations")
        if queues:
            # moto sends S3 events to SQS as S3 does (and, as S3 does, a test event now).
            s3.put_bucket_notification_configuration(
                Bucket=name,
                NotificationConfiguration={"QueueConfigurations": [_queue_rule(q) for q in queues]},
            )
        return {
            "Ref": name,
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
        }

    def _bucket_policy(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        # moto evaluates a Deny statement without its Condition, so "deny when not TLS" would
        # deny every request. Such statements are left out locally (and listed in
        # stack.json); tests assert them on the SAM-translated template instead.
        document = dict(props["PolicyDocument"])
        statements = document.get("Statement", [])
        kept = [st for st in statements if not (st.get("Effect") == "Deny" and "Condition" in st)]
        self.result.not_enforced.extend(
            f"{logical}:{st.get('Sid', '?')}" for st in statements if st not in kept
        )
        if kept:
            document["Statement"] = kept
            self.clients("s3").put_bucket_policy(
                Bucket=props["Bucket"], Policy=json.dumps(document)
            )
        return {"Ref": props["Bucket"]}

    def _queue(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        sqs = self.clients("sqs")
        name = props.get("QueueName", self._name(logical))
        attributes: dict[str, str] = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in props:
                attributes[key] = str(props[key])
        if "SqsManagedSseEnabled" in props:
            attributes["SqsManagedSseEnabled"] = str(bool(props["SqsManagedSseEnabled"])).lower()
        if "RedrivePolicy" in props:
            policy = props["RedrivePolicy"]
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": policy["deadLetterTargetArn"],
                    "maxReceiveCount": str(policy["maxReceiveCount"]),
                }
            )
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return {"Ref": url, "Arn": arn, "QueueName": name, "QueueUrl": url}

    def _queue_policy(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        # Stored as the queue's Policy attribute; moto does not evaluate it on SNS deliveries.
        sqs = self.clients("sqs")
        for url in props["Queues"]:
            sqs.set_queue_attributes(
                QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])}
            )
        return {"Ref": logical}

    def _topic_policy(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        sns = self.clients("sns")
        for arn in props["Topics"]:
            sns.set_topic_attributes(
                TopicArn=arn,
                AttributeName="Policy",
                AttributeValue=json.dumps(props["PolicyDocument"]),
            )
        return {"Ref": logical}

    def _topic(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        attributes = {}
        if props.get("KmsMasterKeyId"):
            attributes["KmsMasterKeyId"] = props["KmsMasterKeyId"]
        name = props.get("TopicName", self._name(logical))
        arn = self.clients("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
        return {"Ref": arn, "TopicArn": arn, "TopicName": name}

    def _subscription(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        arn = self.clients("sns").subscribe(
            TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"]
        )["SubscriptionArn"]
        return {"Ref": arn}

    def _alarm(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        name = props.get("AlarmName", self._name(logical))
        keys = (
            "AlarmDescription", "Namespace", "MetricName", "Dimensions", "Statistic", "Period",
            "EvaluationPeriods", "Threshold", "ComparisonOperator", "TreatMissingData",
            "AlarmActions",
        )  # fmt: skip
        kwargs = {k: props[k] for k in keys if k in props}
        kwargs["Period"] = int(kwargs["Period"])
        kwargs["EvaluationPeriods"] = int(kwargs["EvaluationPeriods"])
        kwargs["Threshold"] = float(kwargs["Threshold"])  # CloudWatch's own API type
        self.clients("cloudwatch").put_metric_alarm(AlarmName=name, **kwargs)
        return {"Ref": name, "Arn": f"arn:aws:cloudwatch:{self.region}:{self.account}:alarm:{name}"}

    def _configuration_set(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        name = props.get("Name", self._name(logical))
        self.clients("sesv2").create_configuration_set(ConfigurationSetName=name)
        return {"Ref": name}

    def _email_identity(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        identity = props["EmailIdentity"]
        kwargs: dict[str, Any] = {"EmailIdentity": identity}
        config = (props.get("ConfigurationSetAttributes") or {}).get("ConfigurationSetName")
        if config:
            kwargs["ConfigurationSetName"] = config
        self.clients("sesv2").create_email_identity(**kwargs)
        # moto's v1 backend holds the send check; verify there too so sends are accepted.
        self.clients("ses").verify_domain_identity(Domain=identity)
        return {"Ref": identity}

    def _event_destination(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        # moto's SES v2 has no event destinations; its v1 API (one configuration set store
        # for both) records one, but moto never publishes SES events anywhere. Locally an event
        # reaches the feedback function only when something publishes it to the topic.
        destination = props["EventDestination"]
        self.clients("ses").create_configuration_set_event_destination(
            ConfigurationSetName=props["ConfigurationSetName"],
            EventDestination={
                "Name": destination["Name"],
                "Enabled": bool(destination.get("Enabled", False)),
                "MatchingEventTypes": list(destination["MatchingEventTypes"]),
                "SNSDestination": {"TopicARN": destination["SnsDestination"]["TopicARN"]},
            },
        )
        self.result.not_enforced.append(
            f"{logical}: moto publishes no SES events; publish them to "
            f"{destination['SnsDestination']['TopicARN']}"
        )
        return {"Ref": destination["Name"]}

    def _log_group(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        logs = self.clients("logs")
        name = props.get("LogGroupName", f"/quittance/{self.stack}/{logical}")
        logs.create_log_group(logGroupName=name)
        if "RetentionInDays" in props:
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(props["RetentionInDays"])
            )
        return {"Ref": name, "Arn": f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}:*"}

    def _layer(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        # Layers package code for Lambda; locally the same code is the installed package.
        arn = f"arn:aws:lambda:{self.region}:{self.account}:layer:{self._name(logical)}:1"
        return {"Ref": arn}

    def _http_api(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        # Served by the local gateway; its routes come from the functions' HttpApi events.
        return {"Ref": "local", "ApiEndpoint": self.resolver.parameters.get("PublicBaseUrl", "")}

    def _function(self, logical: str, props: dict[str, Any]) -> dict[str, Any]:
        globals_ = self.resolver.resolve((self.template.get("Globals") or {}).get("Function", {}))
        env = {
            **((globals_.get("Environment") or {}).get("Variables") or {}),
            **((props.get("Environment") or {}).get("Variables") or {}),
        }
        spec = FunctionSpec(
            logical_id=logical,
            code_uri=props["CodeUri"],
            handler=props["Handler"],
            timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
            memory=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
            environment={k: str(v) for k, v in env.items()},
        )
        for event_name, event in (props.get("Events") or {}).items():
            kind, eprops = event["Type"], event.get("Properties", {})
            if kind == "HttpApi":
                route = (eprops["Method"].upper(), eprops["Path"])
                spec.http_routes.append(route)
                if (eprops.get("Auth") or {}).get("Authorizer") == "AWS_IAM":
                    spec.iam_routes.add(route)
            elif kind == "SQS":
                spec.sqs_sources.append(
                    {
                        "name": event_name,
                        "queue_arn": eprops["Queue"],
                        "batch_size": int(eprops.get("BatchSize", 10)),
                        "report_failures": "ReportBatchItemFailures"
                        in (eprops.get("FunctionResponseTypes") or []),
                    }
                )
            elif kind == "ScheduleV2":
                # moto has no EventBridge Scheduler that could invoke an in-process handler:
                # the schedule is listed as not run locally, and run on demand instead
                # (``quittance local remind``).
                spec.schedules.append(
                    {"name": event_name, "expression": str(eprops.get("ScheduleExpression"))}
                )
                self.result.not_enforced.append(
                    f"{logical}:{event_name} (EventBridge Scheduler, not run locally)"
                )
            else:
                raise UnsupportedResource(f"{logical}: event type {kind} has no local runner")
        self.result.functions[logical] = spec
        name = self._name(logical)
        return {"Ref": name, "Arn": f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"}


def _depends_on(spec: dict[str, Any]) -> list[str]:
    depends = spec.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


def _queue_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One AWS::S3::Bucket QueueConfiguration as S3's API takes it."""
    rules = ((rule.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    queue: dict[str, Any] = {"QueueArn": rule["Queue"], "Events": [rule["Event"]]}
    if rules:
        filters = [{"Name": r["Name"], "Value": r["Value"]} for r in rules]
        queue["Filter"] = {"Key": {"FilterRules": filters}}
    return queue


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One AWS::S3::Bucket lifecycle rule as S3's API takes it."""
    converted: dict[str, Any] = {
        "ID": rule.get("Id", "rule"),
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "NoncurrentVersionExpiration" in rule:
        converted["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
        }
    if "AbortIncompleteMultipartUpload" in rule:
        days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        converted["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(days)}
    return converted
