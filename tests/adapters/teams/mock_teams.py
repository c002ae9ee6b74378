"""A local stand-in for Microsoft's side of a Teams bot, on 127.0.0.1:

- the Bot Framework's signing keys: an OpenID metadata document and its JWKS (a local RSA key),
  and tokens signed with it as the Bot Framework signs the requests it sends a bot;
- the sign-in service the bot gets its own token from (OAuth client credentials, as MSAL asks
  for it), over TLS with a certificate made for the test;
- the Bot Connector (`/v3/conversations/…`): records every reply, update, conversation created
  and proactive message, checks each against the Bot Framework and Adaptive Card schemas and
  Teams' limits, checks the bot's token, answers member lookups, and can be told to fail
  (429 with Retry-After, 412, 502, 403) before it succeeds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import itertools
import json
import ssl
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from adapters.http.server import serve
from tests.adapters.teams.adaptive import activity_problems

ISSUER = "https://api.botframework.com"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Keys:
    """A signing key the Bot Framework would hold, and the tokens it signs."""

    key: rsa.RSAPrivateKey = field(default_factory=rsa_key)
    kid: str = field(default_factory=lambda: f"key-{uuid.uuid4().hex[:8]}")

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256",
                "endorsements": ["msteams", "emulator"]}

    def token(self, *, audience: str, service_url: str, issuer: str = ISSUER,
              lifetime: float = 3600, issued: float | None = None, kid: str | None = None,
              **claims: Any) -> str:
        now = time.time() if issued is None else issued
        body = {"iss": issuer, "aud": audience, "serviceurl": service_url,
                "nbf": int(now) - 60, "iat": int(now) - 60, "exp": int(now + lifetime),
                **claims}
        return jwt.encode(body, self.key, algorithm="RS256",
                          headers={"kid": kid or self.kid})


#: The key every mock of this test process signs with. botframework caches OpenID metadata by
#: its URL for the whole process: a mock started on a port an earlier one used must serve the
#: same key, or the cached keys lack its key id and a valid token is refused (seen as a
#: flaky 401, "IndexError: list index out of range", in a full run).
PROCESS_KEYS = Keys()


def tls_files(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files in `folder`."""
    key = rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName(
                       [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                                  critical=True)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "login-cert.pem", folder / "login-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@web.middleware
async def _closing(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    response.force_close()
    return response


@dataclass
class Call:
    """One request to the Bot Connector: what it was, on which conversation and activity."""

    kind: str  # send, reply, update, create, member
    conversation: str
    activity_id: str
    body: dict[str, Any]
    token: str
    id: str = ""  # the id the connector gave the new message
    peer: Any = None  # the client's address and port: which connection the call came on

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [a.get("content") or {} for a in self.body.get("attachments") or []]

    def shown(self) -> str:
        """Everything the message shows, as one string (text, and every card's JSON)."""
        return self.text + "\n" + json.dumps(self.cards, ensure_ascii=False)


@dataclass
class Fail:
    status: int
    retry_after: int | None = None
    code: str = ""


@dataclass
class MockTeams:
    app_id: str
    app_password: str
    keys: Keys = field(default_factory=lambda: PROCESS_KEYS)
    calls: list[Call] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # by MRI and AAD id
    unreachable: set[str] = field(default_factory=set)  # AAD ids a 1:1 cannot be opened with
    scripts: dict[str, deque[Fail]] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # tokens given to the bot
    sign_ins: int = 0
    url: str = ""  # the connector and the OpenID metadata (HTTP)
    login_url: str = ""  # the sign-in service (HTTPS)
    ca_file: Path | None = None
    _runners: list[web.AppRunner] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- control ------------------------------------------------------------------------

    async def start(self, folder: Path) -> MockTeams:
        app = web.Application()
        app.router.add_get("/openid", self._openid)
        app.router.add_get("/keys", self._keys)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}",
                            self._reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}",
                           self._update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        runner = await serve(app, "127.0.0.1", 0)
        self._runners.append(runner)
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"

        cert_file, key_file = tls_files(folder)
        self.ca_file = cert_file
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        # Each sign-in on a connection of its own: a TLS connection MSAL kept open would
        # outlive the server's shutdown.
        login = web.Application(middlewares=[_closing])
        login.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration",
                             self._login_metadata)
        login.router.add_post("/{tenant}/oauth2/v2.0/token", self._sign_in)
        login_runner = web.AppRunner(login, access_log=None)
        await login_runner.setup()
        site = web.TCPSite(login_runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        self._runners.append(login_runner)
        self.login_url = f"https://127.0.0.1:{login_runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()

    @property
    def openid_url(self) -> str:
        return f"{self.url}/openid"

    @property
    def service_url(self) -> str:
        """What Teams' activities give as serviceUrl: where replies go (this connector)."""
        return f"{self.url}/"

    def token(self, **overrides: Any) -> str:
        """A token the Bot Framework would send with an activity to Baton."""
        return self.keys.token(**{"audience": self.app_id, "service_url": self.service_url,
                                  **overrides})

    def add_member(self, mri: str, aad: str, name: str, *, email: str = "",
                   upn: str = "") -> None:
        member = {"id": mri, "name": name, "aadObjectId": aad, "email": email,
                  "userPrincipalName": upn or email, "givenName": name.split()[0],
                  "tenantId": TENANT, "userRole": "user"}
        self.members[mri] = self.members[aad] = member

    def fail(self, kind: str, *failures: Fail) -> None:
        """Answer the next calls of this kind (send, reply, update, create) with failures."""
        self.scripts.setdefault(kind, deque()).extend(failures)

    def of(self, kind: str, conversation: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.kind == kind and
                (conversation is None or c.conversation == conversation)]

    def posted(self) -> list[Call]:
        """Every message Baton posted (replies, new posts), in order."""
        return [c for c in self.calls if c.kind in ("send", "reply")]

    async def wait_for(self, ready: Callable[[], bool], within: float = 5.0) -> None:
        async with asyncio.timeout(within):
            while not ready():
                self._arrived.clear()
                await self._arrived.wait()

    # --- the Bot Framework's keys and the sign-in service --------------------------------

    async def _openid(self, _: web.Request) -> web.Response:
        return web.json_response({"issuer": ISSUER, "jwks_uri": f"{self.url}/keys",
                                  "id_token_signing_alg_values_supported": ["RS256"],
                                  "token_endpoint_auth_methods_supported":
                                  ["private_key_jwt"]})

    async def _keys(self, _: web.Request) -> web.Response:
        return web.json_response({"keys": [self.keys.jwk()]})

    async def _login_metadata(self, request: web.Request) -> web.Response:
        base = f"{self.login_url}/{request.match_info['tenant']}"
        return web.json_response({
            "issuer": f"{base}/v2.0", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post"]})

    async def _sign_in(self, request: web.Request) -> web.Response:
        form = await request.post()
        self.sign_ins += 1
        if form.get("client_id") != self.app_id or \
                form.get("client_secret") != self.app_password or \
                form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "invalid_client",
                                      "error_description": "AADSTS7000215"}, status=401)
        if form.get("scope") != "https://api.botframework.com/.default":
            self.problems.append(f"sign-in for scope {form.get('scope')!r}")
        token = f"bot-token-{next(self._ids)}"
        self.issued.append(token)
        return web.json_response({"token_type": "Bearer", "expires_in": 3599,
                                  "ext_expires_in": 3599, "access_token": token})

    # --- the Bot Connector ---------------------------------------------------------------

    async def _record(self, request: web.Request, kind: str) -> tuple[Call, web.Response | None]:
        body = await request.json() if request.can_read_body else {}
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        conversation = unquote(request.match_info.get("conversation", ""))
        activity = unquote(request.match_info.get("activity", ""))
        call = Call(kind, conversation, activity, body, token,
                    peer=request.transport.get_extra_info("peername") if request.transport
                    else None)
        self.calls.append(call)
        self._arrived.set()
        if token not in self.issued:
            self.problems.append(f"{kind} on {conversation[:30]} without the bot's token "
                                 f"({auth[:20]!r})")
        if kind in ("send", "reply", "update"):
            self.problems += activity_problems(body, f"{kind} {conversation[:30]}")
        scripted = self.scripts.get(kind)
        if scripted:
            failure = scripted.popleft()
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return call, web.json_response(
                {"error": {"code": failure.code or "Throttled", "message": "scripted"}},
                status=failure.status, headers=headers)
        return call, None

    async def _send(self, request: web.Request) -> web.Response:
        return await self._posted(request, "send")

    async def _reply(self, request: web.Request) -> web.Response:
        return await self._posted(request, "reply")

    async def _posted(self, request: web.Request, kind: str) -> web.Response:
        call, failed = await self._record(request, kind)
        if failed:
            return failed
        call.id = f"17000000{next(self._ids):05d}"
        return web.json_response({"id": call.id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        call, failed = await self._record(request, "update")
        if failed:
            return failed
        if call.body.get("id") != call.activity_id:
            self.problems.append(f"update of {call.activity_id} carries id "
                                 f"{call.body.get('id')}")
        return web.json_response({"id": call.activity_id})

    async def _create(self, request: web.Request) -> web.Response:
        call, failed = await self._record(request, "create")
        if failed:
            return failed
        members = [m.get("id") for m in call.body.get("members") or []]
        if call.body.get("isGroup") or len(members) != 1:
            self.problems.append(f"create: not a 1:1 chat: {call.body}")
        if members and members[0] in self.unreachable:
            return web.json_response({"error": {"code": "Forbidden", "message":
                                      "Bot is not installed in user's personal scope"}},
                                     status=403)
        return web.json_response({"id": f"a:chat-with-{members[0] if members else 'x'}",
                                  "activityId": "", "serviceUrl": self.service_url},
                                 status=201)

    async def _member(self, request: web.Request) -> web.Response:
        _call, _ = await self._record(request, "member")
        member = self.members.get(unquote(request.match_info["member"]))
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation",
                                                "message": "not found"}}, status=404)
        return web.json_response(member)
