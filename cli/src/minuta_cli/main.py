"""The ``minuta`` command: typer app and the entry point that maps errors to exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from minuta_cli import stack
from minuta_cli.client import Api, meeting_path
from minuta_cli.config import Config
from minuta_cli.errors import CliError, Exit
from minuta_cli.follow import follow
from minuta_cli.render import FINAL_STATUSES, failure_reason, meeting_rows, status_label
from minuta_cli.views import StageView, upload_bar

app = typer.Typer(
    help="Minuta: meeting recordings to transcripts and minutes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
keys_app = typer.Typer(
    help="Manage API keys (runs on the gateway's machine).", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class TranscriptFormat(StrEnum):
    txt = "txt"
    srt = "srt"
    vtt = "vtt"
    json = "json"


class MinutesFormat(StrEnum):
    md = "md"
    json = "json"


UrlOpt = Annotated[
    str | None,
    typer.Option("--url", help="Gateway URL (env MINUTA_URL; default http://127.0.0.1:8000)."),
]
KeyOpt = Annotated[str | None, typer.Option("--api-key", help="API key (env MINUTA_API_KEY).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the raw JSON answer.")]


@app.callback()
def _root(ctx: typer.Context, url: UrlOpt = None, api_key: KeyOpt = None) -> None:
    ctx.obj = (url, api_key)


@contextmanager
def _api(ctx: typer.Context, url: str | None, api_key: str | None) -> Iterator[Api]:
    """An API client; options given after the command win over those before it."""
    root_url, root_key = ctx.obj if isinstance(ctx.obj, tuple) else (None, None)
    api = Api(Config.load(url or root_url, api_key if api_key is not None else root_key))
    try:
        yield api
    finally:
        api.close()


def _print_json(value: Any) -> None:
    out.print_json(json.dumps(value))


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output}")


def _finished_code(meeting: dict[str, Any]) -> Exit:
    status = meeting.get("status")
    if status == "failed":
        err.print(f"[red]meeting {meeting.get('id')} failed: {failure_reason(meeting)}[/]")
        return Exit.MEETING_FAILED
    if status == "cancelled":
        err.print(f"[yellow]meeting {meeting.get('id')} was cancelled[/]")
        return Exit.MEETING_FAILED
    return Exit.OK


def _submit_fields(title: str | None, options: dict[str, str | None]) -> dict[str, str]:
    fields = {"title": title, **options}
    return {k: v for k, v in fields.items() if v}


def _submit_source(api: Api, source: str, fields: dict[str, str]) -> dict[str, Any]:
    if source.startswith(("http://", "https://")):
        return dict(api.json("POST", "/v1/meetings", json={"source_url": source, **fields}))
    path = Path(source)
    if not path.is_file():
        raise CliError(Exit.USAGE, f"{source}: no such file (give a file path or an http(s) URL)")
    with upload_bar(err, path.name, path.stat().st_size) as bar:
        return api.upload(path, fields, lambda n: bar.advance(bar.task_ids[0], n))


@app.command()
def submit(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(metavar="FILE|URL", help="An audio/video file, or an http(s) URL.")
    ],
    follow_: Annotated[
        bool, typer.Option("--follow", "-f", help="Show live progress, then print the minutes.")
    ] = False,
    title: Annotated[str | None, typer.Option(help="Meeting title.")] = None,
    engine: Annotated[str | None, typer.Option(help="Transcription engine.")] = None,
    summarize_engine: Annotated[str | None, typer.Option(help="Summary engine.")] = None,
    language: Annotated[str | None, typer.Option(help="Spoken language, e.g. en.")] = None,
    template: Annotated[str | None, typer.Option(help="Minutes template.")] = None,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """Submit a recording; prints its id (or, with --follow, its minutes)."""
    fields = _submit_fields(
        title,
        {
            "transcribe_engine": engine,
            "summarize_engine": summarize_engine,
            "language": language,
            "template": template,
        },
    )
    with _api(ctx, url, api_key) as api:
        accepted = _submit_source(api, source, fields)
        meeting_id = str(accepted.get("id"))
        err.print(f"submitted [bold]{meeting_id}[/]: {status_label(accepted)}")
        if not follow_:
            out.print(meeting_id)
            return
        with StageView(err) as view:
            view.show_meeting(accepted)
            final = follow(api, meeting_id, view.on_event)
        code = _finished_code(final)
        if code is Exit.OK:
            _write(api.request("GET", meeting_path(meeting_id, "/minutes?format=md")).text, None)
    raise typer.Exit(int(code))


@app.command()
def status(
    ctx: typer.Context,
    meeting_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """Show a meeting's status (exit 1 if it failed or was cancelled)."""
    with _api(ctx, url, api_key) as api:
        meeting = api.meeting(meeting_id)
    if as_json:
        _print_json(meeting)
    else:
        out.print(f"{meeting.get('id')}  {meeting.get('title') or ''}  {status_label(meeting)}")
    if meeting.get("status") in FINAL_STATUSES:
        raise typer.Exit(int(_finished_code(meeting)))


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return [m for m in body if isinstance(m, dict)]
    if isinstance(body, dict):
        for key in ("items", "meetings", "data"):
            if isinstance(body.get(key), list):
                return [m for m in body[key] if isinstance(m, dict)]
    return []


@app.command("list")
def list_(
    ctx: typer.Context,
    status_: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """List your meetings, newest first."""
    params: dict[str, str | int] = {"limit": limit}
    if status_:
        params["status"] = status_
    with _api(ctx, url, api_key) as api:
        body = api.json("GET", "/v1/meetings", params=params)
    if as_json:
        _print_json(body)
        return
    table = Table("id", "title", "status", "created", box=None, pad_edge=False)
    for row in meeting_rows(_items(body)):
        table.add_row(*row)
    out.print(table)


@app.command()
def transcript(
    ctx: typer.Context,
    meeting_id: Annotated[str, typer.Argument(metavar="ID")],
    fmt: Annotated[TranscriptFormat, typer.Option("--format", "-F")] = TranscriptFormat.txt,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """Print (or save) a meeting's transcript as txt, srt, vtt or json."""
    with _api(ctx, url, api_key) as api:
        text = api.request("GET", meeting_path(meeting_id, f"/transcript?format={fmt.value}")).text
    _write(text, output)


@app.command()
def minutes(
    ctx: typer.Context,
    meeting_id: Annotated[str, typer.Argument(metavar="ID")],
    fmt: Annotated[MinutesFormat, typer.Option("--format", "-F")] = MinutesFormat.md,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
    url: UrlOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """Print (or save) a meeting's minutes as Markdown or JSON."""
    with _api(ctx, url, api_key) as api:
        text = api.request("GET", meeting_path(meeting_id, f"/minutes?format={fmt.value}")).text
    _write(text, output)


def _action(
    ctx: typer.Context, meeting_id: str, verb: str, url: str | None, api_key: str | None
) -> None:
    with _api(ctx, url, api_key) as api:
        body = api.json("POST", meeting_path(meeting_id, f"/{verb}"))
    meeting = body if isinstance(body, dict) else {}
    err.print(
        f"{meeting_id}: {status_label(meeting) if meeting.get('status') else verb + ' requested'}"
    )


@app.command()
def cancel(
    ctx: typer.Context,
    meeting_id: Annotated[str, typer.Argument(metavar="ID")],
    url: UrlOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """Cancel a queued or running meeting."""
    _action(ctx, meeting_id, "cancel", url, api_key)


@app.command()
def retry(
    ctx: typer.Context,
    meeting_id: Annotated[str, typer.Argument(metavar="ID")],
    url: UrlOpt = None,
    api_key: KeyOpt = None,
) -> None:
    """Retry a failed meeting from the stage that failed."""
    _action(ctx, meeting_id, "retry", url, api_key)


def _gateway_command(*args: str) -> None:
    """Run ``python -m gateway ARGS`` (needs the gateway's settings, e.g. GATEWAY_DATABASE_URL)."""
    try:
        done = subprocess.run([sys.executable, "-m", "gateway", *args], check=False)
    except OSError as e:
        raise CliError(Exit.SERVER, f"cannot run the gateway: {e}") from e
    if done.returncode != 0:
        raise CliError(Exit.SERVER, f"`gateway {' '.join(args)}` failed (exit {done.returncode})")


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="Tenant name (created if new).")],
    admin: Annotated[bool, typer.Option(help="May manage the queue and dead letters.")] = False,
) -> None:
    """Create an API key for a tenant and print it (shown once)."""
    _gateway_command("keys", "create", "--tenant", tenant, *(["--admin"] if admin else []))


@app.command()
def migrate() -> None:
    """Apply the database migrations (GATEWAY_DATABASE_URL)."""
    _gateway_command("migrate")


@app.command()
def up(
    service: Annotated[
        list[str] | None, typer.Option("--service", "-s", help="Run only these (repeatable).")
    ] = None,
    no_migrate: Annotated[bool, typer.Option("--no-migrate", help="Skip migrations.")] = False,
    blob_root: Annotated[Path | None, typer.Option(help="Blob store directory for all.")] = None,
    namespace: Annotated[str | None, typer.Option(help="Exchange/queue name prefix.")] = None,
    amqp_url: Annotated[str | None, typer.Option(help="RabbitMQ URL for all services.")] = None,
    grace: Annotated[float, typer.Option(help="Seconds to let in-flight work finish.")] = 30.0,
) -> None:
    """Run the stack locally: migrate, then gateway, ingest, transcriber and summarizer."""
    names = service or list(stack.SERVICES)
    unknown = sorted(set(names) - set(stack.SERVICES))
    if unknown:
        raise CliError(
            Exit.USAGE,
            f"unknown service {', '.join(unknown)}; choose from {', '.join(stack.SERVICES)}",
        )
    env = stack.stack_env(
        dict(os.environ), blob_root, namespace, amqp_url, interactive=err.is_terminal
    )
    if not no_migrate and "gateway" in names:
        stack.migrate(env, err)
    raise typer.Exit(stack.run_stack(names, env, err, grace))


def run() -> None:
    """Console-script entry: one line on stderr and a documented exit code for every error."""
    try:
        app()
    except CliError as e:
        err.print(f"[red]minuta: {e.message}[/]", soft_wrap=True, markup=True)
        sys.exit(int(e.code))
    except KeyboardInterrupt:
        err.print("minuta: interrupted")
        sys.exit(130)
    except Exception as e:  # the last resort: never a traceback on a user's terminal
        if os.environ.get("MINUTA_DEBUG"):
            raise
        err.print(f"minuta: unexpected error: {type(e).__name__}: {e}", markup=False)
        sys.exit(int(Exit.SERVER))


if __name__ == "__main__":
    run()
