"""Checkpoints: signed, read back, refused when altered, and held against the stored chain."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.anchors import Checkpoint, against, fingerprint, latest, sign, signed_by
from bot.events import GENESIS, EventDraft, Unreadable, seal, verify

AT = datetime(2026, 3, 2, 0, 5, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()


def test_a_checkpoint_round_trips_its_line_and_verifies() -> None:
    checkpoint = sign(KEY, "T1", 7, "ab" * 32, AT)
    again = Checkpoint.from_line(checkpoint.to_line())
    assert again == checkpoint and signed_by(again, PUBLIC)
    assert again.key == fingerprint(PUBLIC) and len(again.key) == 16


@pytest.mark.parametrize("change", [
    {"seq": 8}, {"hash": "cd" * 32}, {"workspace": "T2"}, {"at": AT.replace(minute=6)},
    {"signature": "not base64!"}, {"signature": sign(KEY, "T1", 8, "ab" * 32, AT).signature},
], ids=["seq", "hash", "workspace", "at", "garbage-signature", "another-statement"])
def test_any_change_breaks_the_signature(change: dict[str, object]) -> None:
    checkpoint = sign(KEY, "T1", 7, "ab" * 32, AT)
    assert not signed_by(replace(checkpoint, **change), PUBLIC)


def test_another_key_is_not_this_one() -> None:
    other = sign(Ed25519PrivateKey.generate(), "T1", 7, "ab" * 32, AT)
    assert not signed_by(other, PUBLIC)
    assert not signed_by(replace(other, key=fingerprint(PUBLIC)), PUBLIC)


@pytest.mark.parametrize(("line", "reason"), [
    ("{torn", "not valid JSON"),
    ('{"v": 2}', "not a version 1 checkpoint"),
    ('{"v": 1, "workspace": "T1", "seq": "7"}', "its seq is missing or not int"),
    ('{"v": 1, "workspace": "T1", "seq": true, "hash": "", "at": "", "key": "", "sig": ""}',
     "its seq is missing or not int"),
    ('{"v": 1, "workspace": "T1", "seq": 7, "hash": "", "at": "noon", "key": "", "sig": ""}',
     "its at is not a time"),
    ('{"v": 1, "workspace": "T1", "seq": 7, "hash": "", "at": "2026-03-02T00:05", "key": "", '
     '"sig": ""}', "its at has no time zone"),
])
def test_a_line_that_is_not_a_checkpoint_says_why(line: str, reason: str) -> None:
    with pytest.raises(ValueError, match=f"^{reason}$"):
        Checkpoint.from_line(line)


def chain(count: int) -> dict[int, str]:
    hashes, prev = {}, GENESIS
    for seq in range(1, count + 1):
        prev = seal(EventDraft("T1", None, "alice", "comment", AT, "console"), seq, prev).hash
        hashes[seq] = prev
    return hashes


def test_the_chain_held_against_its_checkpoints() -> None:
    hashes = chain(6)
    good = sign(KEY, "T1", 4, hashes[4], AT)
    assert against([good], hashes, 6, PUBLIC) == []
    [cut] = against([sign(KEY, "T1", 6, hashes[6], AT)], {1: hashes[1]}, 1, PUBLIC)
    assert str(cut) == ("event 6: missing: the checkpoint of 2026-03-02 00:05 UTC recorded "
                        "event 6, the chain ends at event 1 (events deleted)")
    [rewritten] = against([good], hashes | {4: "00" * 32}, 6, PUBLIC)
    assert str(rewritten) == ("event 4: differs from the checkpoint of 2026-03-02 00:05 UTC: "
                              "the trail up to here was rewritten since")
    [gap] = against([good], {k: v for k, v in hashes.items() if k != 4}, 6, PUBLIC)
    assert str(gap) == "event 4: missing, though the checkpoint of 2026-03-02 00:05 UTC " \
                       "recorded it"
    [forged] = against([replace(good, hash="00" * 32)], hashes, 6, PUBLIC)
    assert str(forged).endswith("has a signature that does not verify: forged or altered")


def test_latest_is_the_furthest_that_verifies() -> None:
    hashes = chain(6)
    early, late = sign(KEY, "T1", 2, hashes[2], AT), sign(KEY, "T1", 5, hashes[5], AT)
    assert latest([late, early], PUBLIC) == late
    assert latest([early, replace(late, seq=6)], PUBLIC) == early
    assert latest([], PUBLIC) is None


def test_verify_reads_past_an_unreadable_event_and_from_a_checkpoint() -> None:
    prev, events = GENESIS, []
    for seq in range(1, 5):
        event = seal(EventDraft("T1", None, "alice", "comment", AT, "console"), seq, prev)
        events.append(event)
        prev = event.hash
    mangled = Unreadable(2, 12, events[1].prev_hash, events[1].hash, "its at cannot be read")
    found = verify([events[0], mangled, *events[2:]], 4, prev)
    assert [str(p) for p in found] == ["event 2: unreadable: its at cannot be read"]
    lost = Unreadable(None, 13, None, None, "its seq is not of the stored type")
    assert [str(p) for p in verify([*events, lost], 4, prev)] == [
        "row 13: unreadable: its seq is not of the stored type"]
    assert verify(events[2:], 4, prev, after=(2, events[1].hash)) == []
    assert [str(p) for p in verify(events[2:], 4, prev, after=(2, GENESIS))] == [
        "event 3: does not follow the event before it (deleted or reordered)"]
    assert [str(p) for p in verify(events, None, None)] == [
        "event 4: no workspace row records this chain's head (it was deleted)"]
