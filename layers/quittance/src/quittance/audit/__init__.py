"""The audit trail of staff actions."""
