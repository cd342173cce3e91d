"""The ledger: invoices, payments and receipts, the truth every later stage stands on."""
