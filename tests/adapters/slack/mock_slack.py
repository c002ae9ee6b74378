"""A local stand-in for Slack's Web API: records every call, answers with the shapes of Slack's
own OpenAPI examples, checks required arguments and every Block Kit payload, and can be told
to fail (429 with Retry-After, 500, an error code) before it succeeds.

It also takes response_url posts (/hooks/…), serves Socket Mode's WebSocket (/socket) and
answers OAuth's oauth.v2.access.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from adapters.http.server import serve
from tests.adapters.slack.blockkit import SAMPLES, message_problems, view_problems

SPEC = json.loads((SAMPLES / "web-api" / "slack_web_openapi_v2.bot-subset.json").read_text())
BOT_USER = "UBATONBOT"


def _example(method: str) -> dict[str, Any]:
    operation = next(iter(SPEC["paths"][f"/{method}"].values()))
    return copy.deepcopy(operation["responses"]["200"]["examples"]["application/json"])


def _required(method: str) -> list[str]:
    path = SPEC["paths"].get(f"/{method}")
    if path is None:
        return []
    operation = next(iter(path.values()))
    return [p["name"] for p in operation.get("parameters", [])
            if p.get("required") and p["name"] != "token"]


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str


@dataclass
class Fail:
    """A scripted failure: an HTTP status (with Retry-After) or Slack error code."""

    status: int = 200
    error: str = ""
    retry_after: int | None = None


@dataclass
class Hook:
    path: str
    body: dict[str, Any]


@dataclass
class MockSlack:
    team: str = "T0ACME"
    calls: list[Call] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    messages: dict[tuple[str, str], str] = field(default_factory=dict)
    posted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    scripts: dict[str, deque[Fail]] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)  # seconds a method takes to answer
    socket_inbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    socket_outbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    url: str = ""
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- control ------------------------------------------------------------------------

    async def start(self) -> MockSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/hooks/{name:.*}", self._hook)
        app.router.add_post("/upload/{file}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = await serve(app, "127.0.0.1", 0)  # a free port
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api(self) -> str:
        return f"{self.url}/api/"

    def hook_url(self, name: str) -> str:
        return f"{self.url}/hooks/{name}"

    def fail(self, method: str, *failures: Fail) -> None:
        """Answer the next calls of `method` with these failures, in order."""
        self.scripts.setdefault(method, deque()).extend(failures)

    def add_user(self, user: str, name: str, *, email: str = "", tz: str = "UTC",
                 bot: bool = False) -> None:
        self.users[user] = {"id": user, "team_id": self.team, "name": name.lower(),
                            "real_name": name, "tz": tz, "is_bot": bot, "deleted": False,
                            "profile": {"real_name": name, "display_name": name,
                                        "email": email}}

    def to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        return [c.method for c in self.calls]

    async def _until(self, ready: Callable[[], bool], within: float) -> None:
        async with asyncio.timeout(within):
            while not ready():
                self._arrived.clear()
                await self._arrived.wait()

    async def wait_for(self, method: str, count: int = 1, within: float = 5.0) -> list[Call]:
        """The calls of `method` once there are at least `count` of them."""
        await self._until(lambda: len(self.to(method)) >= count, within)
        return self.to(method)

    async def wait_for_hooks(self, count: int, within: float = 5.0) -> list[Hook]:
        await self._until(lambda: len(self.hooks) >= count, within)
        return self.hooks

    # --- the Web API --------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(dict(await request.post()))
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else \
            str(args.pop("token", ""))
        args.pop("token", None)
        for key in ("blocks", "view", "users"):
            if isinstance(args.get(key), str) and args[key].startswith(("[", "{")):
                args[key] = json.loads(args[key])
        self.calls.append(Call(method, args, token))
        self._arrived.set()
        if method in self.slow:
            await asyncio.sleep(self.slow[method])
        self._check(method, args)
        scripted = self.scripts.get(method)
        if scripted:
            failure = scripted.popleft()
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            if failure.status != 200:
                default = "ratelimited" if failure.status == 429 else "internal_error"
                return web.json_response({"ok": False, "error": failure.error or default},
                                         status=failure.status, headers=headers)
            return web.json_response({"ok": False, "error": failure.error})
        missing = [name for name in _required(method) if not args.get(name)]
        if missing:
            return web.json_response({"ok": False, "error": "invalid_arguments",
                                      "missing": missing})
        if not token and method not in ("oauth.v2.access", "api.test"):
            return web.json_response({"ok": False, "error": "not_authed"})
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        body = answer(args, token) if answer else {"ok": True}
        return web.json_response(body)

    def _check(self, method: str, args: dict[str, Any]) -> None:
        where = f"{method}"
        if isinstance(args.get("blocks"), list):
            self.problems += [f"{where}: {p}" for p in message_problems(args["blocks"])]
        if isinstance(args.get("view"), dict):
            self.problems += [f"{where}: {p}" for p in view_problems(args["view"])]
        text = args.get("text")
        if isinstance(text, str) and len(text) > 40_000:
            self.problems.append(f"{where}: text of {len(text)} characters")

    def _next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _auth_test(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        body = _example("auth.test")
        body.update(team_id=self.team, user_id=BOT_USER, bot_id="BBATON", user="baton")
        return body

    @staticmethod
    def channel_id(channel: str) -> str:
        """The id Slack gives a post's channel: a user's DM, a #name's channel."""
        if channel.startswith(("U", "W")):
            return "D" + channel[1:]
        if channel.startswith("#"):
            return "C" + channel[1:].upper().replace("-", "")
        return channel

    def _chat_postMessage(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        body = _example("chat.postMessage")
        ts = self._next_ts()
        channel = self.channel_id(str(args["channel"]))
        body.update(channel=channel, ts=ts)
        body["message"].update(ts=ts, text=args.get("text", ""), blocks=args.get("blocks", []))
        self.posted.setdefault(channel, []).append(
            {"type": "message", "ts": ts, "text": args.get("text", ""),
             "thread_ts": args.get("thread_ts"), "metadata": args.get("metadata")})
        return body

    def _conversations_open(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        body = _example("conversations.open")
        body["channel"]["id"] = self.channel_id(str(args["users"]))
        return body

    def _chat_update(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        body = _example("chat.update")
        body.update(channel=args["channel"], ts=args["ts"], text=args.get("text", ""))
        return body

    def _chat_postEphemeral(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        body = _example("chat.postEphemeral")
        body["message_ts"] = self._next_ts()
        return body

    def _chat_getPermalink(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        body = _example("chat.getPermalink")
        channel, ts = args["channel"], str(args["message_ts"]).replace(".", "")
        body.update(channel=channel,
                    permalink=f"https://acme.slack.com/archives/{channel}/p{ts}")
        return body

    def _users_info(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        body = _example("users.info")
        body["user"] = {**body["user"], **user,
                        "profile": {**body["user"]["profile"], **user["profile"]}}
        return body

    def _usergroups_users_list(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        members = self.groups.get(str(args.get("usergroup")))
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": members}

    def _views_open(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        body = _example("views.open")
        body["view"].update(args["view"], id=f"V{next(self._ts):05d}")
        return body

    def _views_publish(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        body = _example("views.publish")
        body["view"].update(args["view"], id=f"V{next(self._ts):05d}")
        return body

    def _conversations_history(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        """A seeded message (`messages`, by channel and ts), or the channel's posts."""
        body = _example("conversations.history")
        channel = str(args.get("channel"))
        if args.get("latest"):
            text = self.messages.get((channel, str(args["latest"])))
            body["messages"] = [] if text is None else [
                {"type": "message", "user": "U0BOB", "ts": args["latest"], "text": text}]
        else:
            posts = [p for p in self.posted.get(channel, []) if not p["thread_ts"]]
            body["messages"] = list(reversed(posts))[: int(args.get("limit", 100))]
        body["has_more"] = False
        return body

    def _conversations_replies(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        body = _example("conversations.replies")
        channel, ts = str(args.get("channel")), str(args.get("ts"))
        text = self.messages.get((channel, ts))
        replies = [p for p in self.posted.get(channel, []) if p["thread_ts"] == ts]
        body["messages"] = ([] if text is None else [
            {"type": "message", "user": "U0BOB", "ts": ts, "text": text}]) + replies
        body["has_more"] = False
        return body

    def _oauth_v2_access(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        # Shape of https://docs.slack.dev/reference/methods/oauth.v2.access (success example).
        return {"ok": True, "access_token": "xoxb-installed-team-token", "token_type": "bot",
                "scope": "commands,chat:write", "bot_user_id": BOT_USER, "app_id": "A0BATON",
                "team": {"name": "Installed Co", "id": "T0INSTALLED"}, "enterprise": None,
                "is_enterprise_install": False,
                "authed_user": {"id": "U0INSTALLER", "scope": "", "access_token": None,
                                "token_type": None}}

    def _files_getUploadURLExternal(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        file = f"F{next(self._ts):06d}"
        return {"ok": True, "upload_url": f"{self.url}/upload/{file}", "file_id": file}

    def _files_completeUploadExternal(self, args: dict[str, Any],
                                      token: str) -> dict[str, Any]:
        files = args["files"] if isinstance(args["files"], list) else json.loads(args["files"])
        return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")}
                                      for f in files]}

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file"]] = await request.read()
        return web.Response(text="OK")

    def _apps_connections_open(self, args: dict[str, Any], token: str) -> dict[str, Any]:
        ws = self.url.replace("http://", "ws://")
        return {"ok": True, "url": f"{ws}/socket?ticket=t"}

    # --- response_url and Socket Mode -----------------------------------------------------

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        if isinstance(body.get("blocks"), list):
            self.problems += [f"response_url: {p}" for p in message_problems(body["blocks"])]
        self.hooks.append(Hook(request.match_info["name"], body))
        self._arrived.set()
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, pass on each envelope queued in `socket_inbox`, and queue
        every acknowledgement Baton sends back in `socket_outbox`."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "mock"}, "connection_info": {"app_id": "A"}})

        async def forward() -> None:
            while True:
                await ws.send_json(await self.socket_inbox.get())

        sender = asyncio.get_running_loop().create_task(forward())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self.socket_outbox.put(json.loads(message.data))
        finally:
            sender.cancel()
        return ws
