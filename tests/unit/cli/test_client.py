"""The upload body and error lines, checked without a network."""

from __future__ import annotations

import os
import subprocess
import sys
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path

import httpx
from minuta_cli.client import error_message, multipart_body


def test_multipart_body_carries_fields_and_file_and_reports_progress(tmp_path: Path) -> None:
    audio = tmp_path / "talk.wav"
    audio.write_bytes(b"RIFF" + bytes(range(256)) * 3000)
    sent: list[int] = []
    ctype, length, chunks = multipart_body(audio, {"title": "Weekly"}, sent.append)
    body = b"".join(chunks)
    assert len(body) == length
    assert sum(sent) == audio.stat().st_size
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
    parts = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
    assert parts["title"].get_content() == "Weekly"
    assert parts["file"].get_filename() == "talk.wav"
    assert parts["file"].get_payload(decode=True) == audio.read_bytes()


def test_error_message_prefers_the_api_detail() -> None:
    r = httpx.Response(404, json={"error": "not_found", "detail": "no such meeting"})
    assert error_message(r) == "no such meeting (not_found)"
    r = httpx.Response(422, json={"detail": [{"msg": "field required"}]})
    assert error_message(r) == "field required"
    assert error_message(httpx.Response(502, text="")) == "HTTP 502 Bad Gateway"


def _minuta(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point (the exit code and stderr a user gets)."""
    return subprocess.run(
        [sys.executable, "-m", "minuta_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MINUTA_API_KEY": "", **(env or {})},
    )


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    assert _minuta("transcript", "abc", "--format", "docx").returncode == 2
    missing = _minuta("submit", str(tmp_path / "none.wav"), "--api-key", "k")
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"minuta: {tmp_path / 'none.wav'}: no such file (give a file path or an http(s) URL)"
    ]


def test_missing_key_is_an_auth_error_without_traceback() -> None:
    result = _minuta("status", "abc")
    assert result.returncode == 4
    assert "no API key" in result.stderr
    assert "Traceback" not in result.stderr
