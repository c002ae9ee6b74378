"""The MCP server wired: `baton mcp` on stdin/stdout, and /mcp on `baton serve`."""

from __future__ import annotations

import os
import sys
from typing import Any

from aiohttp import web

from adapters.api.errors import ApiError
from adapters.api.mcp import BatonTokens, build, http_auth
from adapters.api.service import ApiService
from baton.app import App
from baton.wire_api import service as api_service
from bot.clients import Client

MCP_PATH = "/mcp"


async def serve_stdio(app: App) -> int:
    """Serve one local agent over stdio, as the client whose token is in BATON_TOKEN."""
    token = os.environ.get("BATON_TOKEN", "").strip()
    if not token:
        print("baton mcp needs BATON_TOKEN: the API token of the client the agent acts as "
              "(`baton token create --name my-agent --team … --owner @you`).", file=sys.stderr)
        return 2
    api = api_service(app)
    try:
        client = await api.client_for(token)
    except ApiError as exc:
        print(f"BATON_TOKEN: {exc.detail}", file=sys.stderr)
        return 2

    async def who() -> Client:
        return await api.client_for(token)  # a revoked token stops working here too

    server = build(api, who)
    print(f"Baton MCP server on stdio as {client.name}", file=sys.stderr, flush=True)
    try:
        await server.run_stdio_async()
    finally:
        await api.close()
    return 0


def attach_mcp(web_app: web.Application, app: App, api: ApiService) -> None:
    """Serve streamable HTTP at /mcp; the bearer token is checked by the SDK's own middleware
    against Baton's tokens."""
    from aiohttp_asgi import ASGIResource
    from mcp.server.auth.middleware.auth_context import get_access_token

    async def who() -> Client:
        access = get_access_token()
        if access is None:  # the SDK refuses unauthenticated requests before tools run
            raise ApiError(401, "unauthorized", "no token")
        return await api.client_for(access.token)

    host = app.settings.host
    server = build(api, who, auth=http_auth(f"http://{host}:{app.settings.port}"),
                   verifier=BatonTokens(api))
    # Stateless with JSON answers: any replica serves any call, and a call that waits for
    # people holds only its own request open.
    starlette = server.streamable_http_app(streamable_http_path=MCP_PATH, stateless_http=True,
                                           json_response=True, host=host)

    async def mounted(scope: Any, receive: Any, send: Any) -> None:
        # The app routes on the whole path; aiohttp-asgi passes /mcp as its root path.
        await starlette({**scope, "root_path": ""}, receive, send)

    resource = ASGIResource(mounted, root_path=MCP_PATH)
    web_app.router.register_resource(resource)
    resource.lifespan_mount(web_app)
