"""Exit codes scripts can rely on, and the one error type the commands raise."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """Process exit codes of ``minuta`` (documented in docs/cli.md)."""

    OK = 0
    #: The meeting ended ``failed`` or ``cancelled``.
    MEETING_FAILED = 1
    #: Bad arguments, or a request the server rejected as invalid (4xx other than below).
    USAGE = 2
    NOT_FOUND = 3
    #: Missing, wrong or insufficient API key (401/403).
    AUTH = 4
    #: The server failed (5xx), was busy (429) or could not be reached.
    SERVER = 5


class CliError(Exception):
    """An error reported as one line on stderr, exiting with ``code``."""

    def __init__(self, code: Exit, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def exit_for_status(status: int) -> Exit:
    """The exit code for an HTTP error status."""
    if status in (401, 403):
        return Exit.AUTH
    if status == 404:
        return Exit.NOT_FOUND
    if status == 429 or status >= 500:
        return Exit.SERVER
    return Exit.USAGE
