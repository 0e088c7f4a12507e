"""A fake OpenAI-compatible speech-to-text server: ``POST /v1/audio/transcriptions``.

Speaks the documented API so the real ``openai`` client talks to it as to api.openai.com or
a self-hosted server (speaches, vLLM):

- multipart ``file``, ``model``, ``response_format``, ``timestamp_granularities[]``,
  ``language``; ``Authorization: Bearer <api_key>`` checked → 401 ``invalid_api_key``;
- unknown ``model`` → 404; an empty or tiny ``file`` → 400 (the audio is rejected);
- ``failures``: (status, headers) answered first, in order (e.g. 429 with Retry-After, 503);
- the reply is ``verbose_json`` for ``sentences``: one segment per sentence, words timed
  ``word_s`` apart.

    async with FakeOpenAIAudio(sentences=["Hello there."]) as fake:
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=fake.api_key)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeOpenAIAudio:
    api_key: str = "sk-test"
    models: tuple[str, ...] = ("whisper-1",)
    sentences: list[str] = field(default_factory=list)
    word_s: float = 0.3
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> FakeOpenAIAudio:
        app = web.Application(client_max_size=512 * 1024**2)
        app.router.add_post("/v1/audio/transcriptions", self._transcribe)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _transcribe(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.", "invalid_api_key")
        if self.failures:
            status, headers = self.failures.pop(0)
            resp = _error(status, f"injected {status}", "injected")
            resp.headers.update(headers)
            return resp
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return _error(400, "file is required", "invalid_request_error")
        data = upload.file.read()
        fields = {
            "model": form.get("model"),
            "response_format": form.get("response_format"),
            "timestamp_granularities": form.getall("timestamp_granularities[]", []),
            "language": form.get("language"),
            "filename": upload.filename,
            "size": len(data),
        }
        self.uploads.append(fields)
        if fields["model"] not in self.models:
            return _error(404, f"The model {fields['model']} does not exist", "model_not_found")
        if len(data) < 100:
            return _error(400, "Audio file might be corrupted or unsupported", "invalid_value")
        return web.json_response(self.verbose_json(fields["language"]))

    def verbose_json(self, language: Any) -> dict[str, Any]:
        segments, words = [], []
        t = 0.0
        for i, sentence in enumerate(self.sentences):
            start = t
            for w in sentence.split():
                words.append(
                    {"word": w.strip(".,?!"), "start": round(t, 2), "end": round(t + 0.25, 2)}
                )
                t += self.word_s
            segments.append(
                {
                    "id": i,
                    "seek": 0,
                    "start": round(start, 2),
                    "end": round(t, 2),
                    "text": " " + sentence,
                    "tokens": [],
                    "temperature": 0.0,
                    "avg_logprob": -0.2,
                    "compression_ratio": 1.2,
                    "no_speech_prob": 0.01,
                }
            )
            t += 0.5
        return {
            "task": "transcribe",
            "language": "english" if language in (None, "en") else str(language),
            "duration": round(t, 2),
            "text": " ".join(self.sentences),
            "segments": segments,
            "words": words,
        }


def _error(status: int, message: str, code: str) -> web.Response:
    body = {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }
    return web.json_response(body, status=status)
