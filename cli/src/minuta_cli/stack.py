"""``minuta up``: run the whole stack on this machine as child processes.

Every child's output is read line by line and printed with the service's name in front,
so one terminal shows the whole pipeline. Children run in their own process group: a
Ctrl-C reaches only this supervisor, which then stops them in order (SIGTERM, a grace
period for in-flight work, then SIGKILL) and waits for all of them.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import IO

from rich.console import Console
from rich.text import Text

from minuta_cli.errors import CliError, Exit

SERVICES = ("gateway", "ingest", "transcriber", "summarizer")
PREFIXES = {"gateway": "GATEWAY_", "ingest": "INGEST_", "transcriber": "TRANSCRIBER_",
            "summarizer": "SUMMARIZER_"}  # fmt: skip
COLOURS = {"gateway": "cyan", "ingest": "magenta", "transcriber": "green", "summarizer": "yellow"}


def stack_env(
    base: dict[str, str],
    blob_root: Path | None = None,
    namespace: str | None = None,
    amqp_url: str | None = None,
    interactive: bool = False,
) -> dict[str, str]:
    """The environment for every service: shared settings copied to each service's prefix.

    Each service reads only its own prefix (``GATEWAY_BLOB_ROOT``…), so a value that must be
    the same everywhere (the blob root, the namespace, the broker) is set under all four.
    """
    env = dict(base)
    if interactive:
        # Children write to a pipe, so they would log JSON; a person at a terminal reads
        # the console format better (unless they asked for JSON).
        for prefix in PREFIXES.values():
            env.setdefault(prefix + "LOG_JSON", "false")
    shared = {"BLOB_ROOT": str(blob_root) if blob_root else None, "NAMESPACE": namespace,
              "AMQP_URL": amqp_url}  # fmt: skip
    for key, value in shared.items():
        if value is not None:
            for prefix in PREFIXES.values():
                env[prefix + key] = value
    return env


def migrate(env: dict[str, str], console: Console) -> None:
    """Apply the database migrations (``python -m gateway migrate``)."""
    console.print("[bold]migrating the database…[/]")
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "migrate"], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise CliError(Exit.SERVER, "migration failed: " + (lines[-1] if lines else "no output"))


class Stack:
    """The running children and the threads copying their output."""

    def __init__(self, console: Console, grace: float = 30.0) -> None:
        self.console = console
        self.grace = grace
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.width = 0

    def start(self, services: Sequence[str], env: dict[str, str]) -> None:
        """Spawn ``python -m <service>`` for each one, output piped to the multiplexer."""
        self.width = max(len(name) for name in services)
        for name in services:
            proc = subprocess.Popen(
                [sys.executable, "-m", name],
                env={**env, "PYTHONUNBUFFERED": "1"},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.procs[name] = proc
            assert proc.stdout is not None
            thread = threading.Thread(target=self._pump, args=(name, proc.stdout), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _pump(self, name: str, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = Text(f"{name:<{self.width}} | ", style=COLOURS.get(name, "white"))
            line.append(raw.decode(errors="replace").rstrip())
            with self._lock:
                self.console.print(line, soft_wrap=True, highlight=False)

    def wait_any(self) -> tuple[str, int]:
        """Block until one child exits; returns its name and exit code."""
        while True:
            for name, proc in self.procs.items():
                code = proc.poll()
                if code is not None:
                    return name, code
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM every child (workers first, gateway last), wait, then SIGKILL stragglers."""
        for name in reversed(list(self.procs)):
            if self.procs[name].poll() is None:
                self.procs[name].send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for name, proc in self.procs.items():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.console.print(f"[red]{name} did not stop in {self.grace:.0f}s; killing it[/]")
                proc.kill()
                proc.wait(10)
        for thread in self._threads:
            thread.join(5)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_stack(services: Sequence[str], env: dict[str, str], console: Console, grace: float) -> int:
    """Run until Ctrl-C/SIGTERM (exit 0) or until a child dies (exit 5, all others stopped)."""
    stack = Stack(console, grace)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    # Explicitly: a shell that starts a background job may have set SIGINT to "ignore".
    signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        stack.start(services, env)
        name, code = stack.wait_any()
        console.print(f"[red bold]{name} exited with code {code}; stopping the stack[/]")
        result = int(Exit.SERVER)
    except KeyboardInterrupt:
        console.print("[bold]stopping…[/]")
        result = int(Exit.OK)
    finally:
        # A second Ctrl-C during shutdown must not leave orphans behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, previous)
    console.print("[bold]stack stopped[/]")
    return result
