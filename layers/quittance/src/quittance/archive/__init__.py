"""The legal archive: write-once, Object-Locked receipts and their retention policy."""
