"""What a button on Baton's Adaptive Cards carries, and how a click is read back.

Each `Action.Execute` carries the item, the verb and a signature over both (HMAC-SHA256 with a
key derived from the bot's secret), so a click whose data was edited (another item, a verb the
card did not offer) is refused before anything runs. Who clicked is never in the data: it is
the validated activity's sender. Whether they may act is the core's to say.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["REFRESH_VERB", "VERB_PREFIX", "Click", "Signer", "ValidationError", "read_click"]

VERB_PREFIX = "baton."
REFRESH_VERB = "baton.refresh"
SIGNATURE_CHARS = 32


class Signer:
    """Signs and checks what a card's buttons carry."""

    def __init__(self, secret: str) -> None:
        # No secret (BATON_TEAMS_LOCAL without an app): the signature still catches edits by
        # hand, though not by someone who has read this code.
        self._key = hashlib.sha256(b"baton teams card\x00" + secret.encode()).digest()

    def sign(self, item: int, verb: str) -> str:
        message = f"{item}:{verb}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:SIGNATURE_CHARS]

    def valid(self, item: int, verb: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(item, verb), signature)

    def data(self, kind: str, item: int, verb: str = "") -> dict[str, Any]:
        """An Action.Execute's data: what it is for, and its signature."""
        data: dict[str, Any] = {"baton": kind, "item": item}
        if verb:
            data["verb"] = verb
        data["sig"] = self.sign(item, verb or kind)
        return data


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")

    baton: Literal["card", "refresh"]
    item: int = Field(gt=0, lt=2**31)
    verb: str = Field(default="", max_length=32)
    sig: str = Field(default="", max_length=128)
    reason: str = Field(default="", max_length=4000)  # the card's Input.Text, merged in


class _Action(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["Action.Execute"]
    verb: str = Field(max_length=64)
    data: _Data


class _Invoke(BaseModel):
    model_config = ConfigDict(extra="ignore")

    action: _Action
    trigger: str = "manual"


class Click(BaseModel):
    """A click (or an automatic refresh) as Baton acts on it."""

    item: int
    verb: str  # a Baton verb, or "refresh"
    reason: str = ""
    automatic: bool = False
    signed: bool = True  # the data's signature matches its item and verb


def read_click(value: Any, signer: Signer) -> Click:
    """The invoke's value as a Click; ValidationError when it is not one of Baton's."""
    invoke = _Invoke.model_validate(value)
    action = invoke.action
    data = action.data
    if data.baton == "refresh":
        verb, expected = "refresh", REFRESH_VERB
    else:
        verb, expected = data.verb, VERB_PREFIX + data.verb
    signed = action.verb == expected and signer.valid(data.item, verb, data.sig)
    return Click(item=data.item, verb=verb, reason=data.reason.strip(),
                 automatic=invoke.trigger == "automatic", signed=signed)
