"""Pure HTTP-side rules: ranges, signatures, rate limits, validation messages, keys."""

from __future__ import annotations

import time
from uuid import uuid4

import pytest
from gateway.api.exports import RangeNotSatisfiable, parse_range
from gateway.api.models import SubmitOptions
from gateway.api.validation import invalid_from
from gateway.auth import RateLimiter, hash_secret, new_key
from gateway.errors import RateLimited
from gateway.webhooks import sign, verify
from pydantic import ValidationError


def test_ranges() -> None:
    assert parse_range("bytes=0-3", 10) == (0, 3)
    assert parse_range("bytes=5-", 10) == (5, 9)
    assert parse_range("bytes=-4", 10) == (6, 9)
    assert parse_range("bytes=8-100", 10) == (8, 9)
    for bad in ("bytes=10-", "bytes=5-2", "items=0-1", "bytes=-"):
        with pytest.raises(RangeNotSatisfiable):
            parse_range(bad, 10)


def test_signature_round_trip_and_tampering() -> None:
    ts = int(time.time())
    sig = sign("whsec_x", ts, '{"a":1}')
    assert verify("whsec_x", str(ts), '{"a":1}', sig)
    assert not verify("whsec_x", str(ts), '{"a":2}', sig)
    assert not verify("whsec_y", str(ts), '{"a":1}', sig)
    assert not verify("whsec_x", str(ts - 3600), '{"a":1}', sign("whsec_x", ts - 3600, '{"a":1}'))


def test_rate_limiter_allows_a_burst_then_says_when() -> None:
    limiter = RateLimiter(per_minute=6, burst=2)
    key = uuid4()
    limiter.check(key)
    limiter.check(key)
    with pytest.raises(RateLimited) as e:
        limiter.check(key)
    assert int(e.value.headers["Retry-After"]) >= 1
    limiter.check(uuid4())  # other keys are unaffected


def test_validation_messages_name_the_field() -> None:
    with pytest.raises(ValidationError) as e:
        SubmitOptions.model_validate({"max_speakers": 99, "colour": "red"})
    detail = invalid_from(e.value).detail
    assert "field 'max_speakers'" in detail
    assert "field 'colour'" in detail
    with pytest.raises(ValidationError):
        SubmitOptions.model_validate({"min_speakers": 5, "max_speakers": 2})


def test_keys_are_random_and_only_hashes_are_kept() -> None:
    key, prefix, digest = new_key()
    assert key.startswith(f"mk_{prefix}_")
    assert digest == hash_secret(key)
    assert key not in digest
    assert new_key()[0] != key
