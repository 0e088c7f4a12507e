"""The one error taxonomy every service maps failures onto."""

from __future__ import annotations


class MinutaError(Exception):
    """Root of every error Minuta raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class RetryableError(MinutaError):
    """A transient fault: the stage goes back to the backlog and is retried with backoff."""

    code = "transient"

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PermanentError(MinutaError):
    """The input or configuration cannot succeed: the meeting fails with this message."""

    code = "permanent"


class CancelledByUser(MinutaError):
    """The user cancelled the meeting while the stage ran."""

    code = "cancelled"
