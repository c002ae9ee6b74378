"""Slack's retries and replays, dropped before any listener acts on them a second time."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse

from bot.ports import Deduplicator
from bot.service import DELIVERY_REMEMBERED

log = logging.getLogger(__name__)


def delivery_key(body: dict[str, Any]) -> str | None:
    """What makes a delivery from Slack the same delivery when it comes again: the event id,
    the clicking user and action time, the submitted view and its values, the trigger id."""
    kind = body.get("type")
    if kind == "event_callback" and body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    if kind == "block_actions":
        user = (body.get("user") or {}).get("id", "")
        stamps = ",".join(str(a.get("action_ts", "")) for a in body.get("actions") or [])
        return f"slack:action:{user}:{stamps}" if user and stamps else None
    if kind == "view_submission":
        view = body.get("view") or {}
        state = json.dumps(view.get("state"), sort_keys=True).encode()
        digest = hashlib.sha256(state).hexdigest()[:32]
        return f"slack:view:{view.get('id', '')}:{digest}" if view.get("id") else None
    if kind in ("message_action", "shortcut") and body.get("trigger_id"):
        return f"slack:shortcut:{body['trigger_id']}"
    if body.get("command") and body.get("trigger_id"):
        return f"slack:command:{body['trigger_id']}"
    return None


class Once:
    """Bolt middleware: a delivery already handled (Slack's retries, replays) is answered and
    dropped. A slash command is left to its listener, whose command records its key in its own
    transaction (the core's Deliveries port)."""

    def __init__(self, dedup: Deduplicator) -> None:
        self.dedup = dedup

    async def __call__(self, body: dict[str, Any],
                       next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None and not body.get("command") \
                and not await self.dedup.first_time(key, DELIVERY_REMEMBERED):
            log.info("duplicate Slack delivery ignored (%s)", key.rsplit(":", 1)[0])
            return BoltResponse(status=200, body="")
        await next()
        return None
