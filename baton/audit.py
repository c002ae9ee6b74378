"""`baton audit verify` and `baton audit checkpoint`: the trail checked against its hash chain
and against signed checkpoints kept outside the database, and new checkpoints written.

What a checkpoint proves and what it cannot is told in docs/operations.md ("The audit trail").
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from baton.settings import Settings
from bot.anchors import Checkpoint, against, latest, sign
from bot.events import GENESIS, Event, verify
from store.anchors import AnchorError, CheckpointFile, key_at, load_key, read_checkpoints
from store.trail import StoredTrail
from store.uow import Database, SqlUnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Anchoring:
    """Where the signing key and the checkpoints are: BATON_AUDIT_KEY (default
    BATON_DATA_DIR/audit/signing.key) and BATON_DATA_DIR/audit/checkpoints.jsonl."""

    key: Path
    checkpoints: Path

    @classmethod
    def of(cls, settings: Settings) -> Anchoring:
        audit = settings.data_dir / "audit"
        return cls(settings.audit_key or audit / "signing.key", audit / "checkpoints.jsonl")

    def signing_key(self) -> Ed25519PrivateKey:
        """The key, made on first use (blocking: call it at start or in a thread)."""
        return key_at(self.key)


@dataclass(frozen=True)
class Verified:
    events: int
    checkpoints: int
    problems: list[str]


async def verify_all(database: Database, anchoring: Anchoring) -> Verified:
    """Every workspace's chain, found in the events, the workspace rows and the checkpoints
    alike, checked link by link, against the head its row records, and against every
    checkpoint: each must verify under the key, and the chain must still reach its position
    with the same hash there."""
    read = await asyncio.to_thread(read_checkpoints, anchoring.checkpoints)
    key = await asyncio.to_thread(load_key, anchoring.key)
    problems = list(read.unreadable)
    if read.checkpoints and key is None:
        problems.append(f"{anchoring.key}: no signing key to check the "
                        f"{len(read.checkpoints)} checkpoint(s) with (BATON_AUDIT_KEY)")

    async def check(uow: SqlUnitOfWork) -> tuple[int, list[str]]:
        checked, found = 0, []
        trail = StoredTrail(uow.session)
        workspaces = {*await trail.workspaces(), *(c.workspace for c in read.checkpoints)}
        for workspace in sorted(workspaces):
            events = await trail.events(workspace)
            head = await trail.head(workspace)
            checked += len(events)
            chain = verify(events, *(head or (None, None)))
            if key is not None:
                hashes = {e.seq: e.hash for e in events if e.seq is not None and e.hash}
                mine = [c for c in read.checkpoints if c.workspace == workspace]
                chain += against(mine, hashes, max(hashes, default=0), key.public_key())
            found += [f"{workspace}: {p}" for p in sorted(chain, key=lambda p: p.seq)]
        return checked, found

    checked, found = await database.read(check)  # read-only: writers go on meanwhile
    problems += found
    return Verified(checked, len(read.checkpoints), problems)


async def checkpoint_all(database: Database, anchoring: Anchoring,
                         now: datetime) -> tuple[list[str], list[str]]:
    """Sign each workspace's head where it moved since its last checkpoint; return what was
    written and what was refused. Only a chain that still extends the last checkpoint, link
    by link, is signed: a rewritten history is never anchored. Idempotent: an unmoved head
    is not signed again, so every replica may run it (under the file's lock, one at a time)."""
    written: list[str] = []
    refused: list[str] = []
    file = CheckpointFile(anchoring.checkpoints)
    await asyncio.to_thread(file.open)
    try:
        key = await asyncio.to_thread(anchoring.signing_key)
        known = (await asyncio.to_thread(file.read)).checkpoints
        public = key.public_key()

        async def heads(uow: SqlUnitOfWork) -> list[tuple[str, Event | str | None]]:
            trail = StoredTrail(uow.session)
            return [(workspace, await _extension(
                        trail, workspace,
                        latest([c for c in known if c.workspace == workspace], public)))
                    for workspace in await trail.workspaces()]

        for workspace, found in await database.read(heads):  # read-only: writers go on
            if isinstance(found, str):
                refused.append(f"{workspace}: not checkpointed: {found}")
            elif found is not None:
                checkpoint = sign(key, workspace, found.seq, found.hash, now)
                await asyncio.to_thread(file.append, checkpoint)
                log.info("audit checkpoint: %s", checkpoint.to_line())  # a copy off-host
                written.append(f"{workspace}: checkpoint at event {found.seq}")
    finally:
        await asyncio.to_thread(file.close)
    return written, refused


async def _extension(trail: StoredTrail, workspace: str,
                     last: Checkpoint | None) -> Event | str | None:
    """The head to sign: the newest event, if the events since `last` extend it intact;
    None when nothing moved; else why not."""
    since, anchor = (last.seq, last.hash) if last else (0, GENESIS)
    events = await trail.events(workspace, since=since)
    if last is not None:
        if not events or events[0].seq != since or events[0].hash != anchor:
            return (f"event {since} is not as the last checkpoint recorded it "
                    "(run baton audit verify)")
        events = events[1:]
    if not events:
        return None
    head = events[-1]
    problems = verify(events, head.seq, head.hash, after=(since, anchor))
    if problems or not isinstance(head, Event):
        first = problems[0] if problems else f"event {head.seq}: unreadable"
        return f"{first} (run baton audit verify)"
    return head


async def checkpoint_logged(database: Database, anchoring: Anchoring, now: datetime) -> None:
    """The scheduled checkpoint (daily and after each digest): what it refuses or cannot do
    is logged in one line each, never raised into the scheduler."""
    try:
        written, refused = await checkpoint_all(database, anchoring, now)
    except AnchorError as exc:
        log.error("audit checkpoint not written: %s", exc)
        return
    for line in refused:
        log.error("audit %s", line)
    if written:
        log.info("audit: %s", "; ".join(written))


async def audit(database: Database, settings: Settings, action: str, now: datetime) -> int:
    """The `baton audit` command: 0 all well, 1 problems found, 2 the key or file unusable."""
    anchoring = Anchoring.of(settings)
    try:
        if action == "checkpoint":
            written, refused = await checkpoint_all(database, anchoring, now)
            for line in written + refused:
                print(line)
            if not written and not refused:
                print("nothing new to checkpoint")
            return 1 if refused else 0
        result = await verify_all(database, anchoring)
    except AnchorError as exc:
        print(exc)
        return 2
    for problem in result.problems:
        print(problem)
    against_what = (f"against {result.checkpoints} checkpoint(s)" if result.checkpoints else
                    "(no checkpoints yet: a deleted tail or a re-sealed chain would go unseen; "
                    "run baton audit checkpoint)")
    verdict = "chain intact" if not result.problems else f"{len(result.problems)} problem(s)"
    print(f"{result.events} events checked {against_what}: {verdict}")
    return 1 if result.problems else 0
