"""quittance: proof of payment — verified gateway events, PDF/A receipts, a WORM archive."""

__version__ = "0.1.0"
