"""Malformed media through the whole stack (gateway + the real ingest worker): every kind
ends as a clear 4xx or a ``failed`` meeting whose reason a person can act on; never a
500, a stuck meeting, or a worker that crashes (and so is restarted in a loop)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.stack import Stack
from tests.security.conftest import client, upload, wait_status
from tests.security.malformed import KINDS

pytestmark = pytest.mark.integration

#: Words that only a programmer can act on; a user-facing reason must not be one of these.
_INTERNAL = ("Traceback", "Exception", "Errno", "object has no attribute", "NoneType")


def _actionable(reason: str) -> bool:
    return len(reason) >= 15 and not any(word in reason for word in _INTERNAL)


async def _outcome(gw_url: str, key: str, data: bytes, name: str) -> dict[str, Any]:
    async with client(gw_url, key) as c:
        r = await upload(c, data, name)
        if r.status_code != 202:
            return {"http": r.status_code, "body": r.json()}
        m = await wait_status(c, r.json()["id"], {"failed", "transcribing", "completed"}, 90)
        return {"http": 202, "status": m["status"], "error": m["error"]}


async def test_malformed_media_gets_a_clear_answer(
    sec_stack: Stack, gw_url: str, tmp_path: Path
) -> None:
    ingest_pids = {p.popen.pid for p in sec_stack.running("ingest")}
    files = {kind: make(tmp_path) for kind, make in KINDS.items() if kind != "silence_only"}
    files["zero_bytes"] = (b"", "empty.wav")
    keys = [await sec_stack.key("media-a"), await sec_stack.key("media-b")]
    results = await asyncio.gather(
        *(
            _outcome(gw_url, keys[i % 2], data, name)
            for i, (data, name) in enumerate(files.values())
        )
    )
    outcomes = dict(zip(files, results, strict=True))
    assert len(outcomes) >= 15
    wrong = {}
    for kind, out in outcomes.items():
        if out["http"] != 202:
            body = out["body"]
            ok = 400 <= out["http"] < 500 and body.get("error") and _actionable(body["detail"])
        else:
            err = out["error"] or {}
            ok = out["status"] == "failed" and _actionable(err.get("reason") or "")
            ok = ok and err.get("stage") == "ingest"
        if not ok:
            wrong[kind] = out
    assert not wrong, f"not a clear rejection: {wrong}"
    assert "too long" in str(outcomes["too_long"]).lower() or "longer" in str(
        outcomes["too_long"]
    ), outcomes["too_long"]
    # The worker that saw all of this is the one that started: no crash, no restart.
    assert {p.popen.pid for p in sec_stack.running("ingest")} == ingest_pids


async def test_silence_only_fails_with_a_reason(
    sec_stack: Stack, gw_url: str, tmp_path: Path
) -> None:
    data, name = KINDS["silence_only"](tmp_path)
    out = await _outcome(gw_url, await sec_stack.key("media-silence"), data, name)
    assert out["http"] == 202
    assert out["status"] == "failed", out
    assert _actionable(out["error"]["reason"])
