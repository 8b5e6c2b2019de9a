"""opencdmo."""
