"""Minuta ingest worker: fetch, probe, validate and normalize recordings to 16 kHz mono."""
