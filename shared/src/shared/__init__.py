"""Minuta's shared library: message schemas, broker helpers, settings, storage, logging, metrics."""
