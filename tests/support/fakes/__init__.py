"""Local fake servers that speak cloud APIs (Speechmatics, OpenAI-compatible) for tests."""
