"""Alembic migrations of the gateway's schema (raw SQL revisions)."""
