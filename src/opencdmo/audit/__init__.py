"""Tamper-evident audit trail: append-only entries, hash-chained per tenant."""
