"""Payments that reach the bank account directly: ISO 20022 statements read safely, credits
matched to open invoices, and what cannot be matched kept for staff review."""
