"""Security rules that need no network: log redaction, the published error schema."""

from __future__ import annotations

import logging

from gateway.__main__ import RedactSecrets, redact
from gateway.app import create_app
from gateway.settings import Settings
from gateway.ws import origin_allowed


def test_secret_query_parameters_are_redacted() -> None:
    line = redact("/v1/events?ticket=abc_DEF-1&after_seq=3")
    assert "abc_DEF-1" not in line
    assert line == "/v1/events?ticket=***&after_seq=3"
    assert (
        redact("/x?a=1&key=mk_1_2&token=t&signature=s") == "/x?a=1&key=***&token=***&signature=***"
    )
    assert redact("/v1/meetings?limit=5") == "/v1/meetings?limit=5"


def test_the_filter_rewrites_uvicorn_handshake_lines() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        (("127.0.0.1", 5000), "/v1/events?ticket=SECRET"),
        None,
    )
    assert RedactSecrets().filter(record)
    assert "SECRET" not in record.getMessage()
    assert "/v1/events?ticket=***" in record.getMessage()


def test_openapi_documents_422_as_the_error_body() -> None:
    schema = create_app(Settings(migrate_on_start=False)).openapi()
    body = schema["components"]["schemas"]["HTTPValidationError"]
    assert body["required"] == ["error", "detail"]
    assert body["properties"]["detail"]["type"] == "string"
    assert "ValidationError" not in schema["components"]["schemas"]


def test_websocket_origins_listed_or_the_gateway_s_own() -> None:
    listed = ["http://localhost:8000"]
    assert origin_allowed(None, "x:1", listed)  # not a browser
    assert origin_allowed("http://localhost:8000", "elsewhere:9", listed)
    assert origin_allowed("http://minuta.example:8080", "minuta.example:8080", listed)
    assert origin_allowed("https://minuta.example", "minuta.example", listed)
    assert origin_allowed("http://10.0.0.5", "10.0.0.5:80", listed)
    assert not origin_allowed("http://evil.example:8080", "minuta.example:8080", listed)
    assert not origin_allowed("http://minuta.example:8081", "minuta.example:8080", listed)
    assert not origin_allowed("null", "minuta.example", listed)
    assert not origin_allowed("http://minuta.example", None, listed)
