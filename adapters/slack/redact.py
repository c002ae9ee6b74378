"""Keeps Slack tokens and Baton's secrets out of every log line, whoever writes it.

slack_sdk logs whole Web API responses at DEBUG, and oauth.v2.access answers with the new
bot token; Bolt and the installation stores log on loggers of their own. Rather than chase
each logger, the log record factory masks tokens (xoxb-…, xapp-…) and the configured secrets
in every record as it is made.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "[redacted]"
_TOKEN = re.compile(r"\b(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]+")

_lock = threading.Lock()
_secrets: set[str] = set()
_installed = False


def redact(text: str) -> str:
    text = _TOKEN.sub(MASK, text)
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text


def protect(*secrets: str) -> None:
    """Mask these secrets (and any Slack token) in log records from now on."""
    global _installed
    with _lock:
        _secrets.update(s for s in secrets if len(s) >= 8)
        if _installed:
            return
        _installed = True
        make = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            try:
                message = record.getMessage()
            except (TypeError, ValueError):  # a malformed call: logging reports it later
                return record
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
            return record

        logging.setLogRecordFactory(factory)
