"""Payments staff record by hand: cheques and cash handed over at the counter."""
