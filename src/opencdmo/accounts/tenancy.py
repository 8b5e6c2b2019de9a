"""The caller's tenant scope, entered by the middleware, tasks and commands.

The scope itself and every lookup derived from a model's tenancy declaration live in
``opencdmo.core.tenancy``; this module keeps the name the accounts front doors import.
"""

from __future__ import annotations

from opencdmo.core.tenancy import caller_scope

__all__ = ["caller_scope"]
