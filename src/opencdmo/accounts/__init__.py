"""Organisations, users, roles, API tokens and the caller's tenant scope."""
