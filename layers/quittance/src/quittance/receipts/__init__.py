"""Payment receipts and credit notes: the document model and its PDF/A-3b renderer."""
