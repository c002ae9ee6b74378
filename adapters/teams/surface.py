"""Baton's Teams surface: /api/messages served by our own aiohttp route around botbuilder's
`process_activity`, and the transport the outbox delivers Teams' messages through.

The route checks the token before the adapter sees the activity (a refusal is a 401 and
nothing else happens), then hands the validated activity to the adapter with Baton's kept
connectors, and writes the invoke response itself, once. (botbuilder 4.17.1's own
`CloudAdapter.process` serialises an invoke response's body twice and answers 500 to every
invoke that carries one.)
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ActivityTypes

from adapters.teams.auth import Refused, TeamsAuthentication, TeamsConfig
from adapters.teams.clicks import Signer
from adapters.teams.compose import Composer
from adapters.teams.connector import Connectors, Tokens
from adapters.teams.kept import Kept
from adapters.teams.people import TeamsPeople
from adapters.teams.transport import TeamsTransport
from adapters.teams.turns import Dialogs, Turns
from adapters.teams.views import Views
from bot import presenters as say
from bot.conversations import Conversations
from bot.people import Directory
from bot.ports import Accounts, Clock, UnitOfWorkFactory
from bot.runner import Runner

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"
#: The largest activity taken, checked before it is read: Teams' own are far smaller.
MAX_BODY_BYTES = 512 * 1024


def _refused() -> web.Response:
    return web.json_response({"error": "unauthorized"}, status=401)


def _unreadable(why: str) -> web.Response:
    return web.json_response({"error": why}, status=400)


class TeamsSurface:
    """Everything Teams: token checks, the activity handler, the connectors, the transport."""

    def __init__(self, config: TeamsConfig, *, runner: Runner, directory: Directory,
                 accounts: Accounts, conversations: Conversations, uow: UnitOfWorkFactory,
                 clock: Clock, session: aiohttp.ClientSession,
                 dialogs: Dialogs | None = None) -> None:
        self.config = config
        self.tokens = Tokens(config.app_id, config.app_password, tenant=config.tenant_id,
                             login_url=config.login_url)
        self.connectors = Connectors(self.tokens, session)
        self.auth = TeamsAuthentication(config, self.connectors)
        self.adapter = CloudAdapter(self.auth)
        self.adapter.on_turn_error = self._turn_error
        self.people = TeamsPeople(directory, accounts)
        self.composer = Composer(self.people, Signer(config.app_password))
        self.kept = Kept(conversations)
        self.views = Views(uow, directory, clock)
        self.turns = Turns(config.workspace, runner, self.people, self.composer, self.kept,
                           self.views, dialogs)
        self.transport = TeamsTransport(self.connectors, self.kept, self.people,
                                        self.composer, self.views, tenant=config.tenant_id)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post(MESSAGES_PATH, self.messages)

    async def messages(self, request: web.Request) -> web.Response:
        """One activity from the Bot Framework: refused (401) unless its token holds,
        unreadable (400, 413, 415) unless it is an activity; else handled and answered."""
        header = request.headers.get("Authorization", "")
        if not header and not self.config.local:
            log.info("Teams request refused: no Authorization header")
            return _refused()
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.json_response({"error": "request too large"}, status=413)
        if request.content_type != "application/json":
            return web.json_response({"error": "expected application/json"}, status=415)
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return web.json_response({"error": "request too large"}, status=413)
        try:
            data = json.loads(body)
            activity = Activity().deserialize(data) if isinstance(data, dict) else None
        except Exception:  # not JSON, or not the shape of an activity
            activity = None
        if activity is None or not activity.type:
            try:
                await self.auth.check(Activity(), header)  # a refusal first, if it is one
            except Refused:
                return _refused()
            return _unreadable("not an activity")
        try:
            checked = await self.auth.check(activity, header)
        except Refused as exc:
            log.info("Teams request refused: %s", exc)
            return _refused()
        missing = _missing(activity)
        if missing:
            log.info("Teams %s refused: %s", str(activity.type)[:40], missing)
            return _unreadable(missing)
        invoke = await self.adapter.process_activity(checked, activity, self.turns.on_turn)
        return _response(invoke)

    async def _turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        """A failure of Baton's own while handling an activity: logged, and a message says
        nothing was changed (the core's transaction rolled back)."""
        log.error("Teams %s failed: %s", turn_context.activity.type, type(error).__name__,
                  exc_info=error)
        if turn_context.activity.type == "message":
            try:
                await turn_context.send_activity(str(say.internal_error()))
            except Exception as exc:  # Teams itself may be what failed
                log.warning("could not tell the sender: %s", type(exc).__name__)

    async def close(self) -> None:
        self.auth.close()


def _missing(activity: Activity) -> str:
    """What an activity lacks that Baton needs to act on it ('' when nothing): where it came
    from, and for a message or an invoke who sent it and, for an invoke, what it is."""
    conversation = activity.conversation
    if conversation is None or not isinstance(conversation.id, str) or not conversation.id:
        return "an activity without its conversation"
    if activity.type in (ActivityTypes.message, ActivityTypes.invoke):
        sender = activity.from_property
        if sender is None or not isinstance(sender.id, str) or not sender.id:
            return f"a{'n' if activity.type == ActivityTypes.invoke else ''} {activity.type} " \
                   f"without its sender"
    if activity.type == ActivityTypes.invoke and not activity.name:
        return "an invoke without its name"
    return ""


def _response(invoke: InvokeResponse | None) -> web.Response:
    """The invoke's answer, serialised once; 200 and no body for any other activity."""
    if invoke is None:
        return web.Response(status=200)
    body: Any = invoke.body
    if body is None:
        return web.Response(status=int(invoke.status or 200))
    if not isinstance(body, dict | list | str | int | float | bool):
        body = serializer_helper(body)
    return web.json_response(body, status=int(invoke.status or 200))
