"""Webhook receivers on 127.0.0.1, as a system using Baton's API would run them: each path checks
every delivery's signature with its client's secret (the `standardwebhooks` package, an
implementation that is not Baton's), answers as scripted (else 204), and records every post.
A post of a chosen type can be held unanswered, so a test can kill Baton while it waits."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from adapters.http.server import serve


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: int | None = None


@dataclass(frozen=True)
class Post:
    path: str
    id: str
    type: str
    payload: dict[str, Any]
    status: int  # what the receiver answered (or will, for a held post)


@dataclass
class Receivers:
    secrets: dict[str, str] = field(default_factory=dict)  # path -> the client's secret
    script: dict[str, deque[Answer]] = field(default_factory=dict)  # path -> next answers
    always: dict[str, Answer] = field(default_factory=dict)  # path -> once the script is out
    posts: list[Post] = field(default_factory=list)
    forged: int = 0  # posts whose signature did not verify
    hold_type: str | None = None  # hold the first post of this type unanswered
    held: asyncio.Event = field(default_factory=asyncio.Event)
    base: str = ""
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    async def start(self) -> Receivers:
        app = web.Application()
        app.router.add_post("/{path}", self._receive)
        self._runner = await serve(app, "127.0.0.1", 0)
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    def at(self, path: str) -> list[Post]:
        """Every post this path received, in order."""
        return [p for p in self.posts if p.path == path]

    def accepted(self, path: str) -> list[str]:
        """The webhook ids this path answered 2xx, in order, repeats included."""
        return [p.id for p in self.at(path) if 200 <= p.status < 300]

    def handled(self, path: str) -> dict[str, Post]:
        """What a receiver that drops duplicates by webhook-id (as the README says) handled:
        each id once, the first post of it."""
        seen: dict[str, Post] = {}
        for post in self.at(path):
            if 200 <= post.status < 300:
                seen.setdefault(post.id, post)
        return seen

    async def _receive(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            payload = Webhook(self.secrets[path]).verify(body, headers)
        except (KeyError, WebhookVerificationError):
            self.forged += 1
            return web.Response(status=401)
        assert headers["webhook-id"] == payload["id"]
        scripted = self.script.get(path)
        answer = scripted.popleft() if scripted else self.always.get(path, Answer(204))
        self.posts.append(Post(path, payload["id"], payload["type"], payload, answer.status))
        if self.hold_type == payload["type"] and not self.held.is_set():
            self.held.set()
            await self._release.wait()  # Baton is killed waiting for this answer
        headers_out = {"Retry-After": str(answer.retry_after)} if answer.retry_after else {}
        return web.Response(status=answer.status, headers=headers_out)
