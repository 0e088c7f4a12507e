"""Live terminal views on stderr: the upload bar and the per-stage progress of a meeting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from minuta_cli.follow import STAGES, FollowState
from minuta_cli.render import STAGE_LABELS, format_clock, status_label


@contextmanager
def upload_bar(console: Console, name: str, total: int) -> Iterator[Progress]:
    """A byte progress bar; yields the Progress whose task 0 is the upload."""
    progress = Progress(
        TextColumn("[bold]Uploading[/] {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    with progress:
        progress.add_task(name, total=total)
        yield progress


class StageView:
    """One bar per stage plus a status line, fed by the meeting's events."""

    def __init__(self, console: Console, show_segments: bool = True) -> None:
        self.console = console
        self.show_segments = show_segments
        self.progress = Progress(
            TextColumn("{task.description:<11}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("[dim]{task.fields[note]}"),
            console=console,
        )
        self.tasks: dict[str, TaskID] = {
            s: self.progress.add_task(STAGE_LABELS[s], total=100, note="") for s in STAGES
        }

    def __enter__(self) -> StageView:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def show_meeting(self, meeting: dict[str, Any]) -> None:
        """Show a REST snapshot (status label as the ingest note while queued)."""
        if meeting.get("status") == "queued":
            self.progress.update(self.tasks["ingest"], note=status_label(meeting))

    def on_event(self, event: dict[str, Any], state: FollowState) -> None:
        """Update the bars from one feed event; print live transcript lines above them."""
        for stage, task in self.tasks.items():
            self.progress.update(task, completed=state.percent[stage])
        current = str(event.get("stage"))
        if current in self.tasks:
            note = state.message if event.get("type") == "stage.progress" else ""
            self.progress.update(self.tasks[current], note=note[:40])
        data = event.get("data")
        if (
            self.show_segments
            and event.get("type") == "transcript.segment"
            and isinstance(data, dict)
        ):
            segment = data.get("segment", data)
            if isinstance(segment, dict) and segment.get("text"):
                who = f"{segment['speaker']}: " if segment.get("speaker") else ""
                clock = format_clock(float(segment.get("start") or 0))
                self.console.print(f"[dim][{clock}] {who}{str(segment['text']).strip()}[/]")
