"""Counting requests against a limit in fixed windows, in the database (services.py says why)."""
