"""A fake of the Speechmatics batch API v2 for tests, on 127.0.0.1 with a random port.

It implements what the official ``speechmatics-batch`` client calls, with the documented
shapes: ``POST /v2/jobs`` (multipart ``config`` + ``data_file``), ``GET /v2/jobs/{id}``,
``GET /v2/jobs/{id}/transcript`` (json-v2) and ``DELETE /v2/jobs/{id}?force=true``.

- ``Authorization: Bearer <api_key>`` checked → 401;
- ``failures``: (method, path suffix, status, headers) answered first, in order, e.g.
  ``("POST", "/jobs", 429, {"Retry-After": "0.1"})`` or ``("GET", "", 503, {})``;
- ``reject_reason``: jobs end ``rejected`` with that error message;
- ``polls_until_done``: status polls a job stays ``running`` (``None``: forever);
- ``turns``: the speech the fake "recognises": (speaker, text) pairs, timed one word per
  ``word_s`` seconds, punctuation attached to the previous word.

    async with FakeSpeechmatics(turns=[("S1", "Hello there."), ("S2", "Hi.")]) as fake:
        client = AsyncClient(api_key=fake.api_key, url=fake.url)
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Failure = tuple[str, str, int, dict[str, str]]


@dataclass
class FakeJob:
    id: str
    config: dict[str, Any]
    data: bytes
    data_name: str
    polls: int = 0
    status: str = "running"


@dataclass
class FakeSpeechmatics:
    api_key: str = "sm-test-key"
    turns: list[tuple[str, str]] = field(default_factory=list)
    word_s: float = 0.4
    polls_until_done: int | None = 1
    reject_reason: str | None = None
    failures: list[Failure] = field(default_factory=list)
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    deleted: list[tuple[str, bool]] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    async def __aenter__(self) -> FakeSpeechmatics:
        app = web.Application(middlewares=[self._gate], client_max_size=512 * 1024**2)
        app.router.add_post("/v2/jobs", self._submit)
        app.router.add_get("/v2/jobs/{id}", self._status)
        app.router.add_get("/v2/jobs/{id}/transcript", self._transcript)
        app.router.add_delete("/v2/jobs/{id}", self._delete)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path, dict(request.query)))
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _error(401, "Unauthorized", "Permission Denied")
        for i, (method, suffix, status, headers) in enumerate(self.failures):
            if method == request.method and request.path.endswith(suffix):
                del self.failures[i]
                resp = _error(status, "Injected", f"injected {status}")
                resp.headers.update(headers)
                return resp
        result: web.StreamResponse = await handler(request)
        return result

    async def _submit(self, request: web.Request) -> web.Response:
        form = await request.post()
        config = json.loads(str(form["config"]))
        upload = form["data_file"]
        if not isinstance(upload, web.FileField):
            return _error(400, "Bad Request", "data_file missing")
        job = FakeJob(uuid.uuid4().hex[:10], config, upload.file.read(), upload.filename)
        self.jobs[job.id] = job
        return web.json_response({"id": job.id}, status=201)

    def _job(self, request: web.Request) -> FakeJob:
        job = self.jobs.get(request.match_info["id"])
        if job is None:
            raise web.HTTPNotFound(text='{"code": 404, "error": "Job not found"}')
        return job

    async def _status(self, request: web.Request) -> web.Response:
        job = self._job(request)
        job.polls += 1
        if job.status == "running":
            if self.reject_reason is not None:
                job.status = "rejected"
            elif self.polls_until_done is not None and job.polls >= self.polls_until_done:
                job.status = "done"
        body: dict[str, Any] = {
            "id": job.id,
            "status": job.status,
            "created_at": "2026-01-01T00:00:00.000Z",
            "data_name": job.data_name,
            "config": job.config,
        }
        if job.status == "rejected":
            body["errors"] = [
                {"timestamp": "2026-01-01T00:00:01.000Z", "message": self.reject_reason}
            ]
        return web.json_response({"job": body})

    async def _transcript(self, request: web.Request) -> web.Response:
        job = self._job(request)
        if job.status != "done":
            return _error(404, "Not Found", "Job is not done")
        body = {
            "format": "2.9",
            "job": {
                "id": job.id,
                "created_at": "2026-01-01T00:00:00.000Z",
                "data_name": job.data_name,
                "duration": 10,
            },
            "metadata": {
                "created_at": "2026-01-01T00:00:02.000Z",
                "type": "transcription",
                "transcription_config": job.config.get("transcription_config", {}),
            },
            "results": self.results(),
        }
        return web.json_response(body, content_type="application/vnd.speechmatics.v2+json")

    async def _delete(self, request: web.Request) -> web.Response:
        job = self._job(request)
        force = request.query.get("force") == "true"
        if job.status == "running" and not force:
            return _error(423, "Locked", "Job is running")
        job.status = "deleted"
        self.deleted.append((job.id, force))
        return web.json_response({"job": {"id": job.id, "status": "deleted"}})

    def results(self) -> list[dict[str, Any]]:
        """json-v2 ``results`` for ``turns``."""
        out: list[dict[str, Any]] = []
        t = 0.0
        for speaker, text in self.turns:
            for token in re.findall(r"[\w']+|[.,?!]", text):
                alt = {"content": token, "confidence": 0.95, "language": "en", "speaker": speaker}
                if token in ".,?!":
                    out.append(
                        {
                            "type": "punctuation",
                            "start_time": t,
                            "end_time": t,
                            "is_eos": token in ".?!",
                            "attaches_to": "previous",
                            "alternatives": [alt],
                        }
                    )
                    continue
                out.append(
                    {
                        "type": "word",
                        "start_time": round(t, 2),
                        "end_time": round(t + self.word_s * 0.8, 2),
                        "alternatives": [alt],
                    }
                )
                t += self.word_s
            t += 0.6
        return out


def _error(status: int, error: str, detail: str) -> web.Response:
    return web.json_response({"code": status, "error": error, "detail": detail}, status=status)
