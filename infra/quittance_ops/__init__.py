"""Operator tooling: the ``quittance`` CLI, the local embedded stack and the demo."""
