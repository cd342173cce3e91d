"""The local embedded stack: moto server on 127.0.0.1 provisioned from template.yaml, an HTTP
gateway that invokes the handlers in-process with API Gateway v2 events, and one SQS pump per
event source. No Docker, no AWS account; everything lives in memory."""
