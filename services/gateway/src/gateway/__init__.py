"""Minuta's gateway: REST and WebSocket API, persistence, and the pipeline orchestrator."""
