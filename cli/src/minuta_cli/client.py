"""A thin client of the gateway's REST API that turns every failure into a ``CliError``."""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from minuta_cli.config import Config
from minuta_cli.errors import CliError, Exit, exit_for_status

CHUNK = 256 * 1024
ProgressFn = Callable[[int], None]


def error_message(response: httpx.Response) -> str:
    """One line from the API's ``{"error", "detail"}`` body, or the status text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("error")
        if isinstance(detail, list):  # FastAPI validation errors
            detail = "; ".join(str(d.get("msg", d)) for d in detail if isinstance(d, dict))
        code = body.get("error")
        if detail:
            return f"{detail} ({code})" if code and code != detail else str(detail)
    text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
    return text or f"HTTP {response.status_code} {response.reason_phrase}"


def multipart_body(
    path: Path, fields: dict[str, str], progress: ProgressFn | None = None
) -> tuple[str, int, Iterator[bytes]]:
    """A streamed multipart/form-data body: (content type, length, chunks).

    Written by hand (instead of httpx's ``files=``) so the upload is read in chunks and
    each chunk sent can be reported to a progress bar.
    """
    boundary = uuid.uuid4().hex
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    filename = path.name.replace('"', "_")
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {ctype}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = path.stat().st_size

    def chunks() -> Iterator[bytes]:
        yield head
        with path.open("rb") as f:
            while block := f.read(CHUNK):
                yield block
                if progress is not None:
                    progress(len(block))
        yield tail

    return f"multipart/form-data; boundary={boundary}", len(head) + size + len(tail), chunks()


class Api:
    """Calls to the gateway; raises ``CliError`` with the right exit code on failure."""

    def __init__(self, config: Config, timeout: float = 30.0) -> None:
        self.config = config
        headers = {"Authorization": f"Bearer {config.require_key()}"}
        self._http = httpx.Client(base_url=config.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request; a non-2xx answer or a network error becomes a ``CliError``."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as e:
            raise CliError(Exit.SERVER, f"{self.config.url} did not answer in time") from e
        except httpx.TransportError as e:
            raise CliError(Exit.SERVER, f"cannot reach {self.config.url}: {e}") from e
        if response.is_error:
            raise CliError(exit_for_status(response.status_code), error_message(response))
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request and decode its JSON body."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as e:
            raise CliError(Exit.SERVER, f"{path} did not return JSON") from e

    def meeting(self, meeting_id: str) -> dict[str, Any]:
        """GET one meeting."""
        return dict(self.json("GET", f"/v1/meetings/{_safe_id(meeting_id)}"))

    def upload(self, path: Path, fields: dict[str, str], progress: ProgressFn) -> dict[str, Any]:
        """POST a file as a streamed multipart upload, reporting bytes sent."""
        ctype, length, body = multipart_body(path, fields, progress)
        headers = {"Content-Type": ctype, "Content-Length": str(length)}
        timeout = httpx.Timeout(30.0, write=None)  # a big file may take long to send
        return dict(
            self.json("POST", "/v1/meetings", content=body, headers=headers, timeout=timeout)
        )

    def ws_ticket(self) -> str:
        """A short-lived ticket that authenticates one WebSocket connection."""
        body = self.json("POST", "/v1/ws-ticket")
        ticket = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(ticket, str):
            raise CliError(Exit.SERVER, "the gateway returned no WebSocket ticket")
        return ticket


def _safe_id(meeting_id: str) -> str:
    """Reject ids that would change the URL path (the server 404s anything else unknown)."""
    if not meeting_id or any(c in meeting_id for c in "/?#% "):
        raise CliError(Exit.NOT_FOUND, f"no meeting with id {meeting_id!r}")
    return meeting_id


def meeting_path(meeting_id: str, suffix: str = "") -> str:
    """``/v1/meetings/{id}{suffix}`` with the id checked."""
    return f"/v1/meetings/{_safe_id(meeting_id)}{suffix}"
