"""`.env.example` lists every setting of every service (STYLE: settings are documented)."""

from __future__ import annotations

from scripts.gen_env_example import OUT, render


def test_env_example_is_current() -> None:
    assert OUT.read_text() == render(), (
        ".env.example is stale: run `uv run python scripts/gen_env_example.py`"
    )
