"""Ingest engines: ``pyav`` (decode and normalize, the default) and ``noop`` (probe only)."""
