"""API fuzzing: schemathesis generates requests for every operation of the gateway's own
OpenAPI (valid admin key, so every route is reached past auth) and checks that none is
answered with a server error and that every documented response matches its schema.
Bounded: a few examples per operation, so the whole run stays well under two minutes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.chaos.stack import Stack

pytestmark = pytest.mark.integration
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture(scope="session")
async def fuzz_key(sec_stack: Stack) -> str:
    return await sec_stack.key(f"fuzz-{uuid.uuid4().hex[:6]}", admin=True)


#: What every error of the gateway looks like (docs/api.md, gateway/errors.py).
ERROR_BODY = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
}


def _openapi(url: str) -> dict[str, Any]:
    raw: dict[str, Any] = httpx.get(url + "/openapi.json", timeout=10).json()
    return raw


@pytest.fixture(scope="session")
def api_schema(gw_url: str) -> schemathesis.BaseSchema:
    raw = _openapi(gw_url)
    # The published 422 schema is FastAPI's default, not what the gateway sends (see the
    # xfail test below); checked against the real shape so every other mismatch shows.
    raw["components"]["schemas"]["HTTPValidationError"] = ERROR_BODY
    return schemathesis.openapi.from_dict(raw)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_server_errors_and_responses_match_the_schema(
    case: schemathesis.Case, fuzz_key: str, gw_url: str
) -> None:
    case.call_and_validate(
        base_url=gw_url, headers={"Authorization": f"Bearer {fuzz_key}"}, checks=CHECKS, timeout=30
    )


def test_the_published_422_schema_is_the_real_error_shape(gw_url: str) -> None:
    raw = _openapi(gw_url)
    assert (
        raw["components"]["schemas"]["HTTPValidationError"]
        .get("properties", {})
        .get("detail", {})
        .get("type")
        == "string"
    )
