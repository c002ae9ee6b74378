"""Webhook deliveries: which events an item's change makes, the body sent, and the signature.

Signed the Standard Webhooks way (standardwebhooks.com): `webhook-id` (one per event, the
same on every retry, so a receiver drops duplicates by it), `webhook-timestamp` (Unix
seconds) and `webhook-signature`: `v1,` and the base64 HMAC-SHA256, keyed by the client's
secret (`whsec_` and base64), of `{id}.{timestamp}.{body}`. Written here with the standard
library (hmac) rather than the `standardwebhooks` package, which brings an HTTP API client with
it; the tests verify our signatures with that package.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.events import Event
from bot.items import Kind, Outcome

CREATED = "item.created"
CHANGED = "item.changed"
DECIDED = "approval.decided"
RESOLVED = "exception.resolved"
BREACHED = "sla.breached"
EVENT_TYPES = (CREATED, CHANGED, DECIDED, RESOLVED, BREACHED)


def event_types(action: str, kind: Kind, outcome: Outcome | None = None) -> list[str]:
    """The webhook events one change of an item of `kind` makes, most specific last: `action`
    is the core's (created, approve, breach…), `outcome` the one this very change gave the
    item (read from its event, not from the item as it is later)."""
    if action == "created":
        return [CREATED]
    types = [CHANGED]
    if action == "breach":
        types.append(BREACHED)
    if action == "resolve" and kind is Kind.EXCEPTION:
        types.append(RESOLVED)
    if action in ("approve", "reject") and kind is Kind.APPROVAL and \
            outcome in (Outcome.APPROVED, Outcome.REJECTED):
        types.append(DECIDED)
    return types


def outcome_of(event: Event) -> Outcome | None:
    """The outcome an event gave its item, if it gave one."""
    given = event.after.get("outcome")
    try:
        return Outcome(given) if isinstance(given, str) else None
    except ValueError:
        return None


@dataclass(frozen=True)
class WebhookEvent:
    id: str  # e.g. "acme.42.approval.decided": the event's place in the audit chain and type
    type: str
    at: datetime
    data: dict[str, Any]

    def body(self) -> bytes:
        return json.dumps({"id": self.id, "type": self.type, "timestamp": self.at.isoformat(),
                           "data": self.data}, separators=(",", ":"),
                          ensure_ascii=False).encode()


def event_id(workspace: str, seq: int, kind: str) -> str:
    """Stable across retries and restarts: the audit event it comes from, and its type."""
    return f"{workspace}.{seq}.{kind}"


def signature_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": f"v1,{digest}", "content-type": "application/json"}


def verify(secret: str, headers: dict[str, str], body: bytes, now: float,
           tolerance: float = 300) -> bool:
    """What the README tells receivers to do, for Baton's own tests and tools."""
    try:
        msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
        if abs(now - int(stamp)) > tolerance:
            return False
        expected = signature_headers(secret, msg_id, int(stamp), body)["webhook-signature"]
    except (KeyError, ValueError):
        return False
    return any(hmac.compare_digest(expected, sig)
               for sig in headers.get("webhook-signature", "").split())
