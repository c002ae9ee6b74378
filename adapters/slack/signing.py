"""Is this request Slack's? The v0 signature, checked on the body's bytes as they arrived,
before anything decodes or parses them.

slack_sdk's SignatureVerifier (which Bolt runs) decodes the body as UTF-8 and calls int() on
the timestamp header first, so a body in another encoding or a timestamp like "abc" raises
there instead of being refused; and int() takes "１２" or "1_700_000_000". This check needs
neither: HMAC-SHA256 over b"v0:" + timestamp + b":" + body, the timestamp ASCII digits within
five minutes of now, compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

#: Slack's replay window: a request older or newer than this is refused.
MAX_AGE_SECONDS = 5 * 60
_STAMP_DIGITS = 12  # seconds since 1970 have 10 digits until the year 2286


def refusal(body: bytes, headers: Mapping[str, str], secret: str, now: float) -> str | None:
    """None when Slack signed this request; otherwise why not, in a few words for the log."""
    stamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not stamp or not signature:
        return "not signed"
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= _STAMP_DIGITS):
        return "timestamp is not a whole number of seconds"
    if abs(now - int(stamp)) > MAX_AGE_SECONDS:
        return "timestamp outside the five-minute window"
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    expected = b"v0=" + digest.hexdigest().encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape")):
        return "signature does not match"
    return None
