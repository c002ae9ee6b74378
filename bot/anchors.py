"""Checkpoints: a workspace's chain head (sequence number and hash) signed with an Ed25519 key
that is kept outside the database.

The hash chain alone shows an edit or a deletion in the middle of the trail, but someone who
can write the database can also delete its tail or re-seal every hash after an edit. A
checkpoint, kept where the database cannot reach, pins the head as it was: the chain must still
reach that position and have that hash there. The key is passed in; reading and writing the
key and the checkpoints is the caller's part.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bot.events import ChainProblem

VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    """`workspace`'s chain had event `seq` with hash `hash` at `at`, as `key` signed."""

    workspace: str
    seq: int
    hash: str
    at: datetime
    key: str  # fingerprint of the signing key's public half
    signature: str  # base64 of the Ed25519 signature over statement()

    def statement(self) -> bytes:
        return statement(self.workspace, self.seq, self.hash, self.at)

    def to_line(self) -> str:
        """One JSON line, as the checkpoints file keeps it."""
        return json.dumps({"v": VERSION, "workspace": self.workspace, "seq": self.seq,
                           "hash": self.hash, "at": self.at.isoformat(), "key": self.key,
                           "sig": self.signature}, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        """The checkpoint in one line; ValueError naming what is wrong with it."""
        try:
            data = json.loads(line)
        except ValueError:
            raise ValueError("not valid JSON") from None
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise ValueError(f"not a version {VERSION} checkpoint")
        fields = {"workspace": str, "seq": int, "hash": str, "at": str, "key": str, "sig": str}
        for name, kind in fields.items():
            value = data.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ValueError(f"its {name} is missing or not {kind.__name__}")
        try:
            at = datetime.fromisoformat(data["at"])
        except ValueError:
            raise ValueError("its at is not a time") from None
        if at.tzinfo is None:
            raise ValueError("its at has no time zone")
        return cls(data["workspace"], data["seq"], data["hash"], at, data["key"], data["sig"])


def statement(workspace: str, seq: int, hash_: str, at: datetime) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    return json.dumps({"v": VERSION, "workspace": workspace, "seq": seq, "hash": hash_,
                       "at": at.isoformat()}, sort_keys=True, separators=(",", ":")).encode()


def fingerprint(public: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, workspace: str, seq: int, hash_: str,
         at: datetime) -> Checkpoint:
    signature = key.sign(statement(workspace, seq, hash_, at))
    return Checkpoint(workspace, seq, hash_, at, fingerprint(key.public_key()),
                      base64.b64encode(signature).decode())


def signed_by(checkpoint: Checkpoint, public: Ed25519PublicKey) -> bool:
    """The checkpoint names this key and its signature verifies under it."""
    if checkpoint.key != fingerprint(public):
        return False
    try:
        public.verify(base64.b64decode(checkpoint.signature, validate=True),
                      checkpoint.statement())
    except (InvalidSignature, ValueError):
        return False
    return True


def against(checkpoints: Sequence[Checkpoint], hashes: Mapping[int, str], last_seq: int,
            public: Ed25519PublicKey) -> list[ChainProblem]:
    """One workspace's stored chain (each position's stored hash, and the last position)
    checked against its checkpoints: each must verify under `public`, and the chain must
    still reach its position with the same hash there."""
    problems = []
    for checkpoint in checkpoints:
        label = f"the checkpoint of {checkpoint.at:%Y-%m-%d %H:%M} UTC"
        if not signed_by(checkpoint, public):
            mine = fingerprint(public)
            why = (f"is signed by another key ({checkpoint.key}, this one is {mine})"
                   if checkpoint.key != mine else "has a signature that does not verify")
            problems.append(ChainProblem(checkpoint.seq, f"{label} {why}: forged or altered"))
        elif checkpoint.seq > last_seq:
            problems.append(ChainProblem(checkpoint.seq, (
                f"missing: {label} recorded event {checkpoint.seq}, the chain ends at event "
                f"{last_seq} (events deleted)")))
        elif hashes.get(checkpoint.seq) != checkpoint.hash:
            problems.append(ChainProblem(checkpoint.seq, (
                f"differs from {label}: the trail up to here was rewritten since"
                if checkpoint.seq in hashes else f"missing, though {label} recorded it")))
    return problems


def latest(checkpoints: Sequence[Checkpoint], public: Ed25519PublicKey) -> Checkpoint | None:
    """The furthest checkpoint that verifies under `public` (a later one cannot be shorter)."""
    good = [c for c in checkpoints if signed_by(c, public)]
    return max(good, key=lambda c: c.seq, default=None)
