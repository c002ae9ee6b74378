"""The MCP server, on the official `mcp` SDK: tools an AI agent uses to ask people for a
decision and wait for it, raise exceptions, hand work off and read items. Each tool runs as the
agent's token (its client, team, scopes and owner), through the same ApiService as /api/v1."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field, ValidationError

from adapters.api.errors import ApiError
from adapters.api.models import NewApproval, NewException, NewHandoff
from adapters.api.service import ApiService
from bot.clients import Client
from bot.items import Kind, Priority, State

Who = Callable[[], Awaitable[Client]]
_POLL = 60.0

INSTRUCTIONS = (
    "Baton tracks handoffs, exceptions and approvals that people handle in chat (Slack, Teams "
    "or a terminal). Use it when a decision is not yours to make alone: `request_approval` "
    "asks named people and waits for their decision; `raise_exception` puts a case in a "
    "team's triage queue; `hand_off` gives work to a person or a team. Everything you do "
    "shows on the item's card and trail as made by you on behalf of your token's owner.")


class BatonTokens(TokenVerifier):
    """Bearer tokens for /mcp are Baton's own API tokens."""

    def __init__(self, service: ApiService) -> None:
        self._service = service

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            client = await self._service.client_for(token)
        except ApiError:
            return None
        return AccessToken(token=token, client_id=client.name,
                           scopes=sorted(s.value for s in client.scopes),
                           subject=client.owner)


def _error(exc: ApiError) -> ToolError:
    """A tool failure the agent reads: what was wrong, and for bad fields which ones."""
    fields = "; ".join(f"{e['field']}: {e['message']}" for e in exc.extra.get("errors", []))
    return ToolError(f"{exc.detail} {fields}".strip())


def _invalid(exc: ValidationError) -> ToolError:
    fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                       for e in exc.errors(include_url=False, include_input=False))
    return ToolError(f"Invalid arguments: {fields}")


def build(service: ApiService, who: Who, *, auth: AuthSettings | None = None,
          verifier: TokenVerifier | None = None) -> MCPServer:
    """The MCP server; `who` names the client each call acts as."""
    server: MCPServer = MCPServer("baton", instructions=INSTRUCTIONS, auth=auth,
                                  token_verifier=verifier)

    async def run(call: Callable[[Client], Awaitable[Any]]) -> Any:
        client = await who()
        try:
            return await call(client)
        except ApiError as exc:
            raise _error(exc) from None
        except ValidationError as exc:
            raise _invalid(exc) from None

    def dump(item: Any) -> dict[str, Any]:
        out: dict[str, Any] = item.model_dump(mode="json", exclude_none=True)
        return out

    @server.tool(description=(
        "Ask people for an approval and WAIT until they decide (or the timeout passes). "
        "Returns the outcome (`approved`, `rejected`, or `cancelled`/`timed_out`) with each "
        "approver's decision and comment. Use it before any action you must not take alone: "
        "a refund above your limit, a production change, a release. The approvers get the "
        "request in chat with Approve / Reject buttons."))
    async def request_approval(
        title: Annotated[str, Field(description="What you want approved, in one line a "
                                                "person can decide on.")],
        approvers: Annotated[list[str], Field(description="Who decides: handles (`@alice`) "
                                                          "or e-mails.", min_length=1)],
        details: Annotated[str, Field(description="Context the approvers need: what, why, "
                                                  "the risk, what happens if they say no.")] = "",
        policy: Annotated[str, Field(description="`any` (first decision wins), `all`, "
                                                 "`quorum:N` or `sequence`.")] = "any",
        timeout_seconds: Annotated[float, Field(ge=1, le=86_400, description=(
            "How long to wait for the decision before giving up (the request is then "
            "cancelled)."))] = 3600,
        priority: Priority = Priority.NORMAL,
    ) -> dict[str, Any]:
        async def ask(client: Client) -> dict[str, Any]:
            body = NewApproval(kind="approval", title=title, approvers=approvers,
                               details=details, policy=policy, priority=priority)
            item = (await service.create(client, body, body.model_dump(mode="json"))).item
            deadline = time.monotonic() + timeout_seconds
            while not item.final:
                left = deadline - time.monotonic()
                if left <= 0:
                    await service.cancel(client, item.id, "no decision in time (agent "
                                                          "stopped waiting)")
                    return {**dump(item), "outcome": "timed_out"}
                item = await service.wait(client, item.id, min(left, _POLL), item.version)
            return dump(item)

        result: dict[str, Any] = await run(ask)
        return result

    @server.tool(description=(
        "Raise an exception: a case off the happy path that needs a person's judgment. It "
        "lands in a team's triage queue (your token's team unless you name it) and returns "
        "at once with the item; read it later with get_item."))
    async def raise_exception(
        title: Annotated[str, Field(description="The case, in one line.")],
        details: str = "",
        owner: Annotated[str | None, Field(description="A person to own it now, if you "
                                                       "know who.")] = None,
        team: str | None = None,
        priority: Priority = Priority.NORMAL,
    ) -> dict[str, Any]:
        result: dict[str, Any] = await run(lambda c: _created(service, c, NewException(
            kind="exception", title=title, details=details, owner=owner, team=team,
            priority=priority)))
        return result

    @server.tool(description=(
        "Hand work off to a person (`@bob`) or a team queue (`#ml-platform`). They accept "
        "it in chat; accountability moves when they do. Returns the item at once."))
    async def hand_off(
        to: Annotated[str, Field(description="`@person`, an e-mail, or `#team`.")],
        title: str,
        details: str = "",
        due: Annotated[str | None, Field(description="`4h`, `2d`, `fri 17:00` or an RFC "
                                                     "3339 time.")] = None,
        priority: Priority = Priority.NORMAL,
    ) -> dict[str, Any]:
        result: dict[str, Any] = await run(lambda c: _created(service, c, NewHandoff(
            kind="handoff", to=to, title=title, details=details, due=due,
            priority=priority)))
        return result

    @server.tool(description="One item with its state, decisions and full trail.")
    async def get_item(id: Annotated[int, Field(ge=1, description="The item's number.")]
                       ) -> dict[str, Any]:
        result: dict[str, Any] = await run(lambda c: service.get(c, id))
        return dump(result)

    @server.tool(description=(
        "Items your token may see (its team's and those you raised), oldest first, 50 a "
        "page; pass `cursor` from the answer for the next page."))
    async def list_items(
        state: State | None = None,
        kind: Kind | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        page = await run(lambda c: service.list_items(c, state=state, kind=kind,
                                                      cursor=cursor))
        out: dict[str, Any] = page.model_dump(mode="json", exclude_none=True)
        return out

    @server.tool(description=(
        "Add a comment to an item's trail and its thread in chat: new facts, progress, "
        "or an answer to a question people asked."))
    async def comment(id: Annotated[int, Field(ge=1)],
                      text: Annotated[str, Field(min_length=1, max_length=4000)]
                      ) -> dict[str, Any]:
        result: dict[str, Any] = await run(lambda c: service.comment(c, id, text))
        return dump(result)

    return server


async def _created(service: ApiService, client: Client, body: Any) -> dict[str, Any]:
    item = (await service.create(client, body, body.model_dump(mode="json"))).item
    out: dict[str, Any] = item.model_dump(mode="json", exclude_none=True)
    return out


def http_auth(base_url: str) -> AuthSettings:
    """Bearer auth for /mcp with Baton's own tokens (no OAuth server: tokens come from
    `baton token create`)."""
    return AuthSettings(issuer_url=base_url, resource_server_url=None)


