"""Builders: ``AppSpec`` → runtime artifacts (models, views, APIs, permissions); pure and deterministic."""
