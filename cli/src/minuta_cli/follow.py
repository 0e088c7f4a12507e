"""Follow one meeting's live event feed (WebSocket) until it finishes.

The feed replays everything after ``after_seq`` and then streams live events, so a
dropped connection is resumed from the last ``seq`` seen without missing or repeating
anything. REST is the safety net: after a disconnect, or when the feed is quiet, the
meeting's status is fetched so a missed final event cannot hang the command.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import connect

from minuta_cli.client import Api, meeting_path
from minuta_cli.errors import CliError, Exit
from minuta_cli.render import FINAL_STATUSES

QUIET_POLL_S = 15.0
MAX_RECONNECTS = 8
STAGES = ("ingest", "transcribe", "summarize")


@dataclass
class FollowState:
    """What the feed said so far: per-stage percent, current status, the last seq."""

    last_seq: int = 0
    status: str = "queued"
    percent: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    message: str = ""

    def apply(self, event: dict[str, Any]) -> bool:
        """Fold one event in; False if it was already seen (a replay after reconnect)."""
        seq = event.get("seq")
        if isinstance(seq, int):
            if seq <= self.last_seq:
                return False
            self.last_seq = seq
        status = event.get("status")
        if isinstance(status, str) and status:
            self.status = status
        stage = event.get("stage")
        raw = event.get("data")
        data: dict[str, Any] = raw if isinstance(raw, dict) else {}
        kind = str(event.get("type", ""))
        if stage in self.percent:
            if kind == "stage.progress" and isinstance(data.get("percent"), int | float):
                self.percent[stage] = max(self.percent[stage], float(data["percent"]))
                self.message = str(data.get("message") or "")
            elif kind.endswith(".completed"):
                self.percent[stage] = 100.0
        if self.status == "completed":
            self.percent = dict.fromkeys(STAGES, 100.0)
        return True

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES


def events_url(ws_base: str, meeting_id: str, ticket: str, after_seq: int) -> str:
    """The meeting feed's URL resuming after ``after_seq``."""
    query = urlencode({"ticket": ticket, "after_seq": after_seq})
    return f"{ws_base}{meeting_path(meeting_id, '/events')}?{query}"


def follow(
    api: Api, meeting_id: str, on_event: Callable[[dict[str, Any], FollowState], None]
) -> dict[str, Any]:
    """Stream events to ``on_event`` until the meeting finishes; returns the final meeting."""
    state = FollowState()
    failures = 0
    while True:
        try:
            _stream(api, meeting_id, state, on_event)
            failures = 0
        except InvalidStatus as e:
            code = e.response.status_code
            if code in (401, 403, 404):
                raise CliError(Exit.AUTH if code != 404 else Exit.NOT_FOUND, _ws_error(code)) from e
            failures += 1
        except (OSError, WebSocketException, TimeoutError):
            failures += 1
        meeting = api.meeting(meeting_id)
        state.status = str(meeting.get("status", state.status))
        if state.finished:
            return meeting
        if failures > MAX_RECONNECTS:
            raise CliError(Exit.SERVER, "lost the event feed and could not reconnect")
        time.sleep(min(2.0**failures, 10.0) if failures else 0.2)


def _stream(
    api: Api,
    meeting_id: str,
    state: FollowState,
    on_event: Callable[[dict[str, Any], FollowState], None],
) -> None:
    """One WebSocket connection: apply events until the meeting ends or the feed is quiet."""
    url = events_url(api.config.ws_url, meeting_id, api.ws_ticket(), state.last_seq)
    with connect(url, open_timeout=10, close_timeout=2, proxy=None) as ws:
        while True:
            try:
                raw = ws.recv(timeout=QUIET_POLL_S)
            except TimeoutError:
                # A quiet feed: make sure no final event was missed, then keep listening.
                state.status = str(api.meeting(meeting_id).get("status", state.status))
                if state.finished:
                    return
                continue
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("type") != "ping" and state.apply(event):
                on_event(event, state)
                if state.finished:
                    return


def _ws_error(code: int) -> str:
    if code == 404:
        return "the meeting's event feed was not found"
    return f"the gateway refused the event feed (HTTP {code}): check the API key"
