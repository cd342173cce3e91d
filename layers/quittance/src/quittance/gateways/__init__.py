"""The lookup stage: complete a gateway's thin webhook event from the gateway's own API.

Real events are thin (a current Stripe PaymentIntent carries no email and its charge only as
an id; GoCardless events carry no amount and no payer). Intake verifies, deduplicates and
acknowledges at once, and queues a :class:`~quittance.models.lookups.GatewayLookup` (ids
only) for each event it cannot map from the payload alone; the ``lookup`` function reads what
is missing through the ports of :mod:`quittance.gateways.ports` and hands canonical payment
events to the ledger. Failures of the gateway's API are retried through the queue."""
