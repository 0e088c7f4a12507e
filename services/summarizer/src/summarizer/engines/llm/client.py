"""One chat request with structured output, repaired when invalid, errors named.

Error mapping (the worker runtime turns these into ``stage.failed`` events):

=========================================  ===========================================
server says                                 we raise
=========================================  ===========================================
401 / 403                                   PermanentError ``llm_auth``
404 (unknown model)                         PermanentError ``llm_unknown_model``
400 context_length_exceeded                 ContextExceeded (engine splits and retries)
400 response_format unsupported (auto)      fall back to JSON mode, same request
other 400 / 422                             PermanentError ``llm_bad_request``
429 (after in-process retries)              RetryableError ``llm_rate_limited`` + retry_after
429 insufficient_quota                      PermanentError ``llm_quota``
5xx, timeout, connection refused            RetryableError
=========================================  ===========================================
"""

from __future__ import annotations

import email.utils
import re
import time
from dataclasses import dataclass
from typing import Any

import openai
import structlog
from pydantic import ValidationError
from shared.errors import PermanentError, RetryableError

from shared import metrics
from summarizer.engines.llm.prompts import estimate_tokens, messages_tokens, system_prompt
from summarizer.engines.llm.schema import LLMMinutes, json_schema
from summarizer.settings import ResponseFormat, Settings
from summarizer.templates import Template

log = structlog.get_logger("summarizer.llm")

_CONTEXT_CODES = {"context_length_exceeded", "exceed_context_size_error"}
_CONTEXT_TEXT = re.compile(
    r"maximum context length|context (?:length|window|size)|too many tokens|prompt is too long",
    re.IGNORECASE,
)
_FORMAT_TEXT = re.compile(r"response_format|json_schema|structured output", re.IGNORECASE)


class ContextExceeded(Exception):
    """The server rejected a prompt as longer than the model's context."""

    def __init__(self, prompt_tokens: int) -> None:
        super().__init__(f"prompt of ~{prompt_tokens} tokens exceeds the model's context")
        self.prompt_tokens = prompt_tokens


@dataclass
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0


def retry_after(headers: Any) -> float | None:
    """Seconds a ``Retry-After`` (or ``retry-after-ms``) header asks to wait."""
    if headers is None:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _detail(e: openai.APIStatusError) -> str:
    body = e.body if isinstance(e.body, dict) else {}
    return str(body.get("message") or e.message)[:300]


class ChatClient:
    """Asks one model for ``LLMMinutes``; keeps the usage of every call it made."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        model: str,
        settings: Settings,
        template: Template,
        instructions: str | None,
    ) -> None:
        self.client, self.model, self.settings = client, model, settings
        self.template, self.instructions = template, instructions
        self.mode: ResponseFormat = settings.openai_response_format
        self.params: dict[str, Any] = {
            "temperature": settings.temperature,
            "max_tokens": settings.max_output_tokens,
        }
        self.usage = Usage()

    def system(self) -> str:
        return system_prompt(self.template, self.instructions, self.mode == "json_object")

    async def minutes(self, user: str) -> LLMMinutes:
        """A validated answer to ``user``; invalid answers are sent back with the error."""
        extra: list[dict[str, str]] = []
        for attempt in range(self.settings.max_repair_attempts + 1):
            messages = [
                {"role": "system", "content": self.system()},
                {"role": "user", "content": user},
                *extra,
            ]
            content, finish = await self._complete(messages)
            try:
                return LLMMinutes.model_validate_json(content)
            except ValidationError as e:
                error = _short_error(e, finish)
                log.warning("llm_output_invalid", attempt=attempt + 1, error=error[:200])
                metrics.ENGINE_ERRORS.labels("summarize", "openai", "invalid_output").inc()
                extra = [
                    {"role": "assistant", "content": content},
                    {
                        "role": "user",
                        "content": f"That answer is invalid: {error}\n"
                        "Reply with the corrected JSON object only.",
                    },
                ]
        raise PermanentError(
            f"model {self.model!r} gave no valid minutes after "
            f"{self.settings.max_repair_attempts} repair attempts: {error[:300]}",
            code="llm_invalid_output",
        )

    def _adapt(self, detail: str) -> bool:
        """Change what the server refused, once each; True if the request should be re-sent.

        Servers without JSON-schema support get JSON mode; reasoning models (o-series,
        gpt-5) refuse ``max_tokens`` and a non-default ``temperature``.
        """
        if self.mode == "auto" and _FORMAT_TEXT.search(detail):
            log.info("llm_json_schema_unsupported_using_json_mode", model=self.model)
            self.mode = "json_object"
            return True
        if "max_tokens" in self.params and "max_completion_tokens" in detail:
            self.params["max_completion_tokens"] = self.params.pop("max_tokens")
            return True
        if "temperature" in self.params and "temperature" in detail:
            del self.params["temperature"]
            return True
        return False

    def _format(self) -> dict[str, Any]:
        if self.mode == "json_object":
            return {"type": "json_object"}
        return {
            "type": "json_schema",
            "json_schema": {"name": "minutes", "schema": json_schema(), "strict": True},
        }

    async def _complete(self, messages: list[dict[str, str]]) -> tuple[str, str | None]:
        try:
            resp = await self.client.chat.completions.create(  # type: ignore[call-overload]
                model=self.model,
                messages=messages,
                response_format=self._format(),
                **self.params,
            )
        except openai.BadRequestError as e:
            if e.code in _CONTEXT_CODES or _CONTEXT_TEXT.search(_detail(e)):
                raise ContextExceeded(messages_tokens(messages)) from e
            if self._adapt(_detail(e)):
                messages = [{"role": "system", "content": self.system()}, *messages[1:]]
                return await self._complete(messages)
            raise _permanent(e, "llm_bad_request", "the model server refused the request") from e
        except openai.APIError as e:
            raise _translate(e, self.model, str(self.client.base_url)) from e
        self._count(resp, messages)
        choice = resp.choices[0] if resp.choices else None
        if choice is None or (choice.message.content is None and choice.message.refusal):
            reason = choice.message.refusal if choice else "no choices in the response"
            raise PermanentError(f"model {self.model!r} refused: {reason}", code="llm_refused")
        return choice.message.content or "", choice.finish_reason

    def _count(self, resp: Any, messages: list[dict[str, str]]) -> None:
        usage = resp.usage
        content = resp.choices[0].message.content if resp.choices else ""
        tokens_in = usage.prompt_tokens if usage else messages_tokens(messages)
        tokens_out = usage.completion_tokens if usage else estimate_tokens(content or "")
        self.usage.tokens_in += tokens_in
        self.usage.tokens_out += tokens_out
        self.usage.calls += 1
        metrics.LLM_TOKENS.labels("input", self.model).inc(tokens_in)
        metrics.LLM_TOKENS.labels("output", self.model).inc(tokens_out)


def _short_error(e: ValidationError, finish: str | None) -> str:
    if finish == "length":
        return "the answer was cut off at the token limit; answer more briefly."
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"
        for err in e.errors()[:8]
    )


def _permanent(e: openai.APIStatusError, code: str, what: str) -> PermanentError:
    metrics.ENGINE_ERRORS.labels("summarize", "openai", code).inc()
    return PermanentError(f"{what} (HTTP {e.status_code}): {_detail(e)}", code=code)


def _translate(e: openai.APIError, model: str, base_url: str) -> Exception:
    """A library error as our taxonomy: what a person must fix, or what retries later."""
    if isinstance(e, openai.AuthenticationError | openai.PermissionDeniedError):
        return _permanent(
            e,
            "llm_auth",
            f"the model server at {base_url} rejected the credentials; "
            "check SUMMARIZER_OPENAI_API_KEY",
        )
    if isinstance(e, openai.NotFoundError):
        return _permanent(e, "llm_unknown_model", f"model {model!r} is not available at {base_url}")
    if isinstance(e, openai.RateLimitError):
        if e.code == "insufficient_quota":
            return _permanent(e, "llm_quota", "the model account has no quota left")
        metrics.ENGINE_ERRORS.labels("summarize", "openai", "rate_limited").inc()
        wait = retry_after(e.response.headers)
        return RetryableError(
            f"rate limited by {base_url}: {_detail(e)}", code="llm_rate_limited", retry_after=wait
        )
    if isinstance(e, openai.APITimeoutError):
        metrics.ENGINE_ERRORS.labels("summarize", "openai", "timeout").inc()
        return RetryableError(f"the model server at {base_url} timed out", code="llm_timeout")
    if isinstance(e, openai.APIConnectionError):
        metrics.ENGINE_ERRORS.labels("summarize", "openai", "unreachable").inc()
        return RetryableError(
            f"cannot reach the model server at {base_url}: {e}", code="llm_unreachable"
        )
    if isinstance(e, openai.APIStatusError):
        if e.status_code >= 500 or e.status_code in (408, 409):
            metrics.ENGINE_ERRORS.labels("summarize", "openai", "server_error").inc()
            return RetryableError(
                f"model server error (HTTP {e.status_code}): {_detail(e)}",
                code="llm_server_error",
                retry_after=retry_after(e.response.headers),
            )
        return _permanent(e, "llm_bad_request", "the model server refused the request")
    return RetryableError(f"model request failed: {e}", code="llm_error")
