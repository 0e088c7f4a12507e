"""A fake OpenAI-compatible chat server for tests: ``POST /v1/chat/completions``.

It speaks the documented HTTP API (status codes, error bodies, headers) so the real
``openai`` client talks to it exactly as to api.openai.com, vLLM or llama.cpp:

- ``Authorization: Bearer <api_key>`` checked → 401 ``invalid_api_key``;
- unknown ``model`` → 404 ``model_not_found``;
- ``response_format`` ``json_schema`` (needs ``name`` and a ``schema``) or ``json_object``
  (needs the word "json" in the messages); ``json_schema=False`` makes it refuse schemas
  with a 400 like servers that only have JSON mode;
- ``reasoning=True``: refuses ``max_tokens`` and a non-default ``temperature`` like OpenAI's
  reasoning models;
- ``context_tokens``: a prompt (+ ``max_tokens``) over it → 400 ``context_length_exceeded``
  (tokens counted as characters / 4);
- replies come from ``script`` (first in, first out), then from ``default``; a reply may be an
  error with headers (429 + Retry-After) or ``hold`` the request until the client goes away,
  which sets ``disconnected``.

    async with FakeOpenAI(context_tokens=2000) as fake:
        fake.script.append(Reply(content='{"title": ...}'))
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=fake.api_key)
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


@dataclass
class Reply:
    """One scripted answer: assistant ``content`` (200), or an ``error`` with ``status``."""

    content: str | None = None
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hold: bool = False
    finish_reason: str = "stop"


Responder = Callable[[dict[str, Any]], Reply]
#: An error the server answers with: status and body.
Problem = tuple[int, dict[str, Any]]


def error_body(
    message: str, code: str | None, type_: str = "invalid_request_error", param: str | None = None
) -> dict[str, Any]:
    """The error object shape of the OpenAI API."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def count_tokens(body: dict[str, Any]) -> int:
    """The fake's token count of a request's prompt: characters / 4."""
    return sum(len(str(m.get("content") or "")) for m in body.get("messages", [])) // 4


class FakeOpenAI:
    """The server; use as ``async with``. ``requests`` holds every body received."""

    def __init__(
        self,
        *,
        api_key: str = "sk-test",
        models: tuple[str, ...] = ("fake-model",),
        context_tokens: int | None = None,
        json_schema: bool = True,
        reasoning: bool = False,
    ) -> None:
        self.api_key, self.models = api_key, models
        self.context_tokens, self.json_schema = context_tokens, json_schema
        self.reasoning = reasoning
        self.script: list[Reply | Responder] = []
        self.default: Responder | None = None
        self.requests: list[dict[str, Any]] = []
        self.answered: list[dict[str, Any]] = []  # requests that got a 200
        self.rejected_for_context = 0
        self.holding = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FakeOpenAI:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            interface="asgi3",
            lifespan="off",
            ws="none",
            http="h11",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.ensure_future(self._server.serve(sockets=[sock]))
        async with asyncio.timeout(10):
            while not self._server.started:
                await asyncio.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        assert self._task is not None
        self._server.should_exit = True
        async with asyncio.timeout(10):
            await self._task

    # ---- the ASGI app -------------------------------------------------------------------

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["method"] != "POST" or scope["path"] != "/v1/chat/completions":
            await self._send(send, 404, error_body(f"Unknown path {scope['path']}", None))
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        body = json.loads(raw)
        self.requests.append(body)
        problem = (
            self._access_error(headers, body)
            or self._param_error(body)
            or self._format_error(body)
            or self._context_error(body)
        )
        if problem is not None:
            await self._send(send, *problem)
            return
        reply = self._next_reply(body)
        if reply.hold:
            await self._hold(receive)
            return
        if reply.status != 200:
            await self._send(send, reply.status, reply.error, reply.headers)
            return
        self.answered.append(body)
        await self._send(send, 200, self._completion(body, reply), reply.headers)

    def _access_error(self, headers: dict[str, str], body: dict[str, Any]) -> Problem | None:
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, error_body("Incorrect API key provided.", "invalid_api_key")
        model = body.get("model")
        if model not in self.models:
            message = f"The model `{model}` does not exist or you do not have access to it."
            return 404, error_body(message, "model_not_found")
        return None

    def _param_error(self, body: dict[str, Any]) -> Problem | None:
        """What OpenAI's reasoning models say to parameters they do not take."""
        if not self.reasoning:
            return None
        if "max_tokens" in body:
            message = (
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead."
            )
            return 400, error_body(message, "unsupported_parameter", param="max_tokens")
        if body.get("temperature", 1) != 1:
            message = (
                f"Unsupported value: 'temperature' does not support {body['temperature']} with "
                "this model. Only the default (1) value is supported."
            )
            return 400, error_body(message, "unsupported_value", param="temperature")
        return None

    def _format_error(self, body: dict[str, Any]) -> Problem | None:
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema") or {}
            if not self.json_schema:
                message = (
                    "Invalid parameter: 'response_format' of type 'json_schema' is not "
                    "supported with this model."
                )
                return 400, error_body(message, None, param="response_format")
            if not spec.get("name") or not isinstance(spec.get("schema"), dict):
                return 400, error_body("json_schema needs a name and a schema", None)
        if fmt.get("type") == "json_object" and "json" not in json.dumps(body["messages"]).lower():
            message = (
                "'messages' must contain the word 'json' in some form, "
                "to use 'response_format' of type 'json_object'."
            )
            return 400, error_body(message, None)
        return None

    def _context_error(self, body: dict[str, Any]) -> Problem | None:
        answer = body.get("max_completion_tokens") or body.get("max_tokens") or 0
        tokens = count_tokens(body) + int(answer)
        if self.context_tokens is None or tokens <= self.context_tokens:
            return None
        self.rejected_for_context += 1
        message = (
            f"This model's maximum context length is {self.context_tokens} tokens. "
            f"However, your messages resulted in {tokens} tokens. "
            "Please reduce the length of the messages."
        )
        return 400, error_body(message, "context_length_exceeded", param="messages")

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        item = self.script.pop(0) if self.script else self.default
        if item is None:
            return Reply(
                status=500, error=error_body("fake: nothing scripted", None, "server_error")
            )
        return item if isinstance(item, Reply) else item(body)

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        prompt = count_tokens(body)
        completion = len(reply.content or "") // 4
        return {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content, "refusal": None},
                    "finish_reason": reply.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }

    async def _hold(self, receive: Receive) -> None:
        """Answer nothing; return when the client closes the connection."""
        self.holding.set()
        while (await receive())["type"] != "http.disconnect":
            pass
        self.disconnected.set()

    @staticmethod
    async def _send(
        send: Send, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        hdrs = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
        ]
        hdrs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        await send({"type": "http.response.start", "status": status, "headers": hdrs})
        await send({"type": "http.response.body", "body": data})
