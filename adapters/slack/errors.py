"""A listener that failed: logged once, and the person told nothing was changed."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt.response import BoltResponse

from bot import presenters as say

log = logging.getLogger(__name__)

UNREADABLE = "Baton could not read that request from Slack; nothing was changed."


async def on_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
    log.error("Slack request failed: %s", type(error).__name__, exc_info=error)
    if body.get("command"):
        return BoltResponse(status=200, headers={"content-type": "application/json"},
                            body=json.dumps({"response_type": "ephemeral",
                                             "text": str(say.internal_error())}))
    return BoltResponse(status=200, body="")
