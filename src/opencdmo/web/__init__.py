"""Shared page furniture: base templates, styles, error pages."""
