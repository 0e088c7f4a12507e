"""Where the gateway is and which key to use: flags first, then the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

from minuta_cli.errors import CliError, Exit

DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Config:
    """The gateway's base URL and the API key (may be empty for commands that need none)."""

    url: str
    api_key: str

    @classmethod
    def load(cls, url: str | None = None, api_key: str | None = None) -> Config:
        """Build from explicit values, falling back to MINUTA_URL and MINUTA_API_KEY."""
        base = (url or os.environ.get("MINUTA_URL") or DEFAULT_URL).rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise CliError(Exit.USAGE, f"MINUTA_URL must start with http:// or https://: {base}")
        key = api_key if api_key is not None else os.environ.get("MINUTA_API_KEY", "")
        return cls(url=base, api_key=key.strip())

    def require_key(self) -> str:
        """The API key, or a usage error telling the user how to provide one."""
        if not self.api_key:
            raise CliError(
                Exit.AUTH,
                "no API key: set MINUTA_API_KEY or pass --api-key "
                "(create one with `minuta keys create --tenant NAME`)",
            )
        return self.api_key

    @property
    def ws_url(self) -> str:
        """The WebSocket base URL matching ``url``."""
        if self.url.startswith("https://"):
            return "wss://" + self.url.removeprefix("https://")
        return "ws://" + self.url.removeprefix("http://")
