"""Typed domain errors. Adapters translate AWS errors into these; handlers map them to answers."""

from __future__ import annotations


class QuittanceError(Exception):
    """Base of every error the domain raises on purpose."""

    code: str = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnknownProvider(QuittanceError):
    code = "unknown_provider"


class SignatureMissing(QuittanceError):
    code = "signature_missing"


class SignatureInvalid(QuittanceError):
    code = "signature_invalid"


class TimestampOutOfTolerance(QuittanceError):
    code = "timestamp_out_of_tolerance"


class PayloadInvalid(QuittanceError):
    code = "payload_invalid"

    def __init__(self, detail: str, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class QueueUnavailable(QuittanceError):
    """A message could not be handed to the next stage; the caller must not acknowledge."""

    code = "queue_unavailable"


class AlreadyExists(QuittanceError):
    """A write-once record (archived object, receipt) is already there."""

    code = "already_exists"


class NotFound(QuittanceError):
    code = "not_found"


class InvoiceCancelled(QuittanceError):
    """A cancelled invoice stays cancelled: the business issues a new invoice instead."""

    code = "invoice_cancelled"


class LinkInvalid(QuittanceError):
    code = "link_invalid"


class LinkExpired(QuittanceError):
    code = "link_expired"


class DeliveryInProgress(QuittanceError):
    """The same event is being accepted concurrently; the gateway should retry shortly."""

    code = "delivery_in_progress"


class BodyTooLarge(QuittanceError):
    code = "body_too_large"


class UnsupportedMediaType(QuittanceError):
    code = "unsupported_media_type"


class CustomerErased(QuittanceError):
    """The customer's data key was destroyed (or never existed): their sealed data is gone."""

    code = "customer_erased"


class SentNotLogged(QuittanceError):
    """The provider accepted a message but its log entry could not be written: the job will
    be retried and the message sent again (the one window of reliability guarantee 8)."""

    code = "sent_not_logged"
    # The warning notify logs for it: what operators and the chaos run count.
    log_line = "message sent, not logged: the retry sends it again"

    def __init__(self, channel: str) -> None:
        super().__init__(f"{channel} message sent, its log entry not written")
        self.channel = channel


class SealInvalid(QuittanceError):
    """A sealed value failed authentication: tampered, truncated, or sealed for another use."""

    code = "seal_invalid"


class GatewayUnavailable(QuittanceError):
    """A gateway's API did not answer usefully (429, 5xx, a timeout, a network error): the
    lookup is retried later through its queue."""

    code = "gateway_unavailable"


class GatewayKeyRejected(QuittanceError):
    """The gateway refused quittance's API key (missing, revoked, lacking a permission): an
    operator must act; the lookups wait in their dead-letter queue meanwhile."""

    code = "gateway_key_rejected"


class GatewayObjectMissing(QuittanceError):
    """The gateway says the object an event names does not exist (404)."""

    code = "gateway_object_missing"
