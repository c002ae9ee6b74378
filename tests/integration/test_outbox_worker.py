"""The outbox worker over the real store and a platform on 127.0.0.1: retries honouring
Retry-After, backoff, pacing, parking and `retry`, and the question asked after a lost outcome.
Injected clock; the worker's pauses advance it instead of sleeping."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot import rich
from bot.delivery import Pacing
from bot.messages import Audience, Outgoing
from jobs.outbox import Backoff, OutboxWorker, WorkerSettings
from jobs.pacing import Pacer
from store.outbox import PARKED, PENDING, SENT, SqlOutbox
from store.queue import SqlOutboxQueue
from store.uow import Database
from tests.fakes import FakeClock
from tests.integration.outbox_platform import Answer, HttpTransport, MockPlatform

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
S = timedelta(seconds=1)


@pytest.fixture
async def platform() -> AsyncIterator[MockPlatform]:
    mock = await MockPlatform().start()
    yield mock
    await mock.stop()


class ChannelTransport(HttpTransport):
    """The platform with a channel rule like Slack's: a new card counts in its channel's pace
    too, with that channel's other messages (the team's)."""

    def places(self, message: Outgoing) -> tuple[str, ...]:
        conversation = self.conversation(message)
        if message.audience is Audience.CARD:
            return (conversation, f"{message.workspace}/team/{message.to}")
        return (conversation,)


@pytest.fixture
async def transport(platform: MockPlatform) -> AsyncIterator[HttpTransport]:
    http = ChannelTransport(platform.url)
    yield http
    await http.close()


class Sleeper:
    """The worker's sleep: records the pause and moves the fake clock instead of waiting."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.clock.advance(timedelta(seconds=seconds))


NO_PACING = Pacing(timedelta())


def worker(db: Database, transport: HttpTransport, clock: FakeClock, *,
           pacing: Pacing = NO_PACING, **settings: object) -> OutboxWorker:
    transport.pacing = pacing
    return OutboxWorker(SqlOutboxQueue(db), [transport], clock,
                        WorkerSettings(**settings),  # type: ignore[arg-type]
                        sleep=Sleeper(clock))


async def put(db: Database, *messages: tuple[str, str]) -> None:
    """Queue (key, conversation) messages, as a command's transaction would."""
    async with db.unit_of_work() as uow:
        for key, to in messages:
            await uow.outbox.put(Outgoing("w", Audience.TEAM, to, rich.text(f"text of {key}"),
                                          key))
        await uow.commit()


async def rows(db: Database) -> dict[str, tuple[str, int]]:
    async with db.unit_of_work() as uow:
        found = await SqlOutbox(uow.session).rows(None, 1000)
    return {r.key: (r.state, r.attempts) for r in found}


async def test_429_then_500_then_200_is_received_once(db: Database, platform: MockPlatform,
                                                      transport: HttpTransport) -> None:
    clock = FakeClock(T0)
    deliverer = worker(db, transport, clock, max_attempts=5)
    await put(db, ("m1", "#ops"), ("m2", "#eval"))
    for key in ("m1", "m2"):
        platform.script[key] = deque([Answer(429, retry_after=7), Answer(500)])

    assert await deliverer.run_once() == 2
    assert platform.accepted == []
    clock.advance(6 * S)  # Retry-After said 7 s (more than the 2 s backoff): not yet
    assert await deliverer.run_once() == 0
    clock.advance(S)
    assert await deliverer.run_once() == 2  # the 500s
    clock.advance(3 * S)  # second failure: 4 s of backoff
    assert await deliverer.run_once() == 0
    clock.advance(S)
    assert await deliverer.run_once() == 2
    assert sorted(platform.accepted_keys()) == ["m1", "m2"]  # each accepted exactly once
    assert [status for key, status in platform.attempts if key == "m1"] == [429, 500, 200]
    assert await rows(db) == {"m1": (SENT, 3), "m2": (SENT, 3)}
    clock.advance(timedelta(hours=1))
    assert await deliverer.run_once() == 0  # a sent message is never offered again
    assert sorted(platform.accepted_keys()) == ["m1", "m2"]


async def test_a_message_failing_n_times_is_parked_and_retry_brings_it_back(
        db: Database, platform: MockPlatform, transport: HttpTransport) -> None:
    clock = FakeClock(T0)
    deliverer = worker(db, transport, clock, max_attempts=3, backoff=Backoff(1, 2, 60))
    await put(db, ("doomed", "#ops"), ("fine", "#ops2"))
    platform.script["doomed"] = deque([Answer(500)] * 3)
    for _ in range(3):
        await deliverer.run_once()
        clock.advance(timedelta(minutes=1))
    assert await rows(db) == {"doomed": (PARKED, 3), "fine": (SENT, 1)}
    async with db.unit_of_work() as uow:
        outbox = SqlOutbox(uow.session)
        stats = await outbox.stats(clock.now())
        assert (stats.pending, stats.parked) == (0, 1)
        assert await outbox.retry(None, clock.now()) == 1
        await uow.commit()
    assert await deliverer.run_once() == 1
    assert await rows(db) == {"doomed": (SENT, 1), "fine": (SENT, 1)}
    assert platform.accepted_keys().count("doomed") == 1


async def test_a_refusal_is_parked_at_once(db: Database, platform: MockPlatform,
                                           transport: HttpTransport) -> None:
    clock = FakeClock(T0)
    await put(db, ("gone", "#archived"))
    platform.script["gone"] = deque([Answer(404)])
    await worker(db, transport, clock).run_once()
    assert await rows(db) == {"gone": (PARKED, 1)}


async def test_one_conversation_is_paced_others_are_not(db: Database, platform: MockPlatform,
                                                        transport: HttpTransport) -> None:
    clock = FakeClock(T0)
    deliverer = worker(db, transport, clock, pacing=Pacing(S), concurrency=1)
    await put(db, *[(f"a{n}", "#busy") for n in range(4)], ("b0", "#quiet"))
    assert await deliverer.run_once() == 5
    sleeps = deliverer.sleep.pauses  # type: ignore[attr-defined]
    assert sleeps == [1.0, 1.0, 1.0]  # #busy: one a second; #quiet went at once
    busy = [k for k in platform.accepted_keys() if k.startswith("a")]
    assert busy == ["a0", "a1", "a2", "a3"]  # in the order queued


async def test_a_slot_too_far_ahead_goes_back_to_the_table(
        db: Database, platform: MockPlatform, transport: HttpTransport) -> None:
    clock = FakeClock(T0)
    deliverer = worker(db, transport, clock, pacing=Pacing(20 * S), horizon=15 * S)
    await put(db, *[(f"a{n}", "#busy") for n in range(3)])
    assert await deliverer.run_once() == 3
    assert platform.accepted_keys() == ["a0"]  # a1's slot is 20 s off: postponed, not waited for
    assert await rows(db) == {"a0": (SENT, 1), "a1": (PENDING, 0), "a2": (PENDING, 0)}
    assert await deliverer.run_once() == 0  # nothing before that slot
    clock.advance(20 * S)
    await deliverer.run_once()
    clock.advance(20 * S)
    await deliverer.run_once()
    assert platform.accepted_keys() == ["a0", "a1", "a2"]
    assert deliverer.sleep.pauses == []  # type: ignore[attr-defined]


async def test_after_a_retryable_failure_later_messages_of_that_conversation_wait(
        db: Database, platform: MockPlatform, transport: HttpTransport) -> None:
    clock = FakeClock(T0)
    deliverer = worker(db, transport, clock)
    await put(db, ("card", "#ops"), ("reply", "#ops"))
    platform.script["card"] = deque([Answer(429, retry_after=30)])
    await deliverer.run_once()
    assert platform.accepted_keys() == []  # the reply did not overtake its card
    clock.advance(30 * S)
    await deliverer.run_once()
    assert platform.accepted_keys() == ["card", "reply"]


async def test_a_restarted_worker_asks_before_posting_what_it_had_in_flight(
        db: Database, platform: MockPlatform, transport: HttpTransport) -> None:
    clock = FakeClock(T0)
    await put(db, ("landed", "#ops"), ("lost", "#ops"))
    async with db.unit_of_work() as uow:  # a worker leases both, then dies
        leased = await uow.outbox.lease(10, clock.now(), "r1", timedelta(minutes=5))
        await uow.commit()
    assert [q.uncertain for q in leased] == [False, False]
    platform.accepted.append({"key": "landed", "to": "#ops", "text": "text of landed"})

    again = worker(db, transport, clock, worker_id="r1")
    assert await again.recover() == 2  # its own leases come back at once, flagged
    assert await again.run_once() == 2
    assert platform.accepted_keys() == ["landed", "lost"]  # 'landed' was not posted a second time
    assert await rows(db) == {"landed": (SENT, 1), "lost": (SENT, 1)}


async def test_another_replica_takes_over_an_expired_lease_flagged_uncertain(
        db: Database) -> None:
    await put(db, ("m", "#ops"))
    async with db.unit_of_work() as uow:
        await uow.outbox.lease(10, T0, "r1", timedelta(minutes=5))
        await uow.commit()
    async with db.unit_of_work() as uow:
        assert await uow.outbox.lease(10, T0 + timedelta(minutes=4), "r2", timedelta(5)) == []
        taken = await uow.outbox.lease(10, T0 + timedelta(minutes=5), "r2",
                                       timedelta(minutes=5))
    assert [q.uncertain for q in taken] == [True]


def test_pacing_allows_bursts_and_holds_after_a_retry_after() -> None:
    pacer = Pacer(Pacing(S, burst=3))
    slots = [pacer.reserve("c", T0) for _ in range(5)]
    assert slots == [T0, T0, T0, T0 + S, T0 + 2 * S]
    pacer.hold("d", T0 + 30 * S)
    assert pacer.reserve("d", T0) == T0 + 30 * S
    assert Pacer(Pacing(timedelta())).reserve("e", T0) == T0
    assert Backoff(2, 2, 600).delay(1) == 2 * S
    assert Backoff(2, 2, 600).delay(4) == 16 * S
    assert Backoff(2, 2, 600).delay(20) == 600 * S
    assert Backoff(2, 2, 600).delay(1, retry_after=30) == 30 * S


def test_what_is_put_off_comes_back_in_turn() -> None:
    pacer = Pacer(Pacing(S))
    assert [pacer.line_up("c", T0 + 30 * S) for _ in range(3)] == \
        [T0 + 30 * S, T0 + 31 * S, T0 + 32 * S]
    assert pacer.line_up("other", T0 + 30 * S) == T0 + 30 * S
    assert pacer.line_up("c", T0 + 50 * S) == T0 + 50 * S  # a later start is kept


async def put_item_messages(db: Database, *messages: tuple[str, Audience, int, str]) -> None:
    """Queue (key, delivery, item, to) messages about items."""
    async with db.unit_of_work() as uow:
        for key, delivery, item, to in messages:
            await uow.outbox.put(Outgoing("w", delivery, to, rich.text(f"text of {key}"), key,
                                          item))
        await uow.commit()


async def test_new_cards_of_different_items_share_their_channels_pace(
        db: Database, platform: MockPlatform, transport: HttpTransport) -> None:
    clock = FakeClock(T0)
    deliverer = worker(db, transport, clock, pacing=Pacing(S), concurrency=1)
    await put_item_messages(db, *[(f"card{n}", Audience.CARD, n, "#ops") for n in (1, 2, 3)],
                            ("elsewhere", Audience.CARD, 4, "#eval"))
    await put(db, ("digest", "#ops"))  # the team's digest posts in the same channel

    assert await deliverer.run_once() == 5

    assert deliverer.sleep.pauses == [1.0, 1.0, 1.0]  # type: ignore[attr-defined]
    ops = [k for k in platform.accepted_keys() if k != "elsewhere"]
    assert ops == ["card1", "card2", "card3", "digest"]  # one a second, in order
    assert "elsewhere" in platform.accepted_keys()


async def test_cards_for_a_busy_channel_come_back_one_slot_apart(
        db: Database, platform: MockPlatform, transport: HttpTransport) -> None:
    clock = FakeClock(T0)
    deliverer = worker(db, transport, clock, pacing=Pacing(20 * S), horizon=15 * S)
    await put_item_messages(db, *[(f"card{n}", Audience.CARD, n, "#ops") for n in (1, 2, 3)])
    await deliverer.run_once()
    assert platform.accepted_keys() == ["card1"]
    async with db.unit_of_work() as uow:
        waiting = {r.key: r.next_attempt_at for r in await SqlOutbox(uow.session).rows(None, 10)
                   if r.key != "card1"}
    assert waiting == {"card2": T0 + 20 * S, "card3": T0 + 40 * S}  # in line, not a herd
    for _ in range(2):
        clock.advance(20 * S)
        await deliverer.run_once()
    assert platform.accepted_keys() == ["card1", "card2", "card3"]


async def test_an_items_thread_line_never_overtakes_its_card_held_by_a_busy_channel(
        db: Database, platform: MockPlatform, transport: HttpTransport) -> None:
    clock = FakeClock(T0)
    deliverer = worker(db, transport, clock, pacing=Pacing(20 * S), horizon=15 * S)
    await put_item_messages(db, ("card1", Audience.CARD, 1, "#ops"),
                            ("card2", Audience.CARD, 2, "#ops"))
    await deliverer.run_once()
    assert platform.accepted_keys() == ["card1"]  # card2's slot in #ops is 20 s off

    await put_item_messages(db, ("thread2", Audience.THREAD, 2, "2"),
                            ("update2", Audience.CARD_UPDATE, 2, "2"))
    await deliverer.run_once()
    assert platform.accepted_keys() == ["card1"]  # its own conversation is idle, yet it waits

    for _ in range(4):
        clock.advance(20 * S)
        await deliverer.run_once()
    assert platform.accepted_keys() == ["card1", "card2", "thread2", "update2"]


async def test_a_card_refused_for_rate_holds_its_channel(
        db: Database, platform: MockPlatform, transport: HttpTransport) -> None:
    clock = FakeClock(T0)
    deliverer = worker(db, transport, clock, pacing=Pacing(S), concurrency=1)
    platform.script["card1"] = deque([Answer(429, retry_after=30)])
    await put_item_messages(db, ("card1", Audience.CARD, 1, "#ops"),
                            ("card2", Audience.CARD, 2, "#ops"),
                            ("dm", Audience.PERSON, 2, "bob"))
    await deliverer.run_once()
    assert platform.accepted_keys() == ["dm"]  # card2 waits out #ops's Retry-After
    clock.advance(30 * S)
    await deliverer.run_once()
    await deliverer.run_once()
    assert platform.accepted_keys() == ["dm", "card1", "card2"]


async def _card2_in_line(db: Database, platform: MockPlatform, deliverer: OutboxWorker) -> None:
    """card1's 429 (Retry-After 30) holds #ops, so card2 waits in line for T0+30."""
    platform.script["card1"] = deque([Answer(429, retry_after=30)])
    await put_item_messages(db, ("card1", Audience.CARD, 1, "#ops"),
                            ("card2", Audience.CARD, 2, "#ops"))
    await deliverer.run_once()
    assert platform.accepted_keys() == []


async def _run_for(deliverer: OutboxWorker, clock: FakeClock, seconds: int) -> None:
    for _ in range(seconds // 10):
        clock.advance(10 * S)
        await deliverer.run_once()


@pytest.mark.parametrize("case", ["queued meanwhile", "after a restart",
                                  "card failing at its turn"])
async def test_a_thread_line_is_not_claimed_while_its_card_is_unposted(
        db: Database, platform: MockPlatform, transport: HttpTransport, case: str) -> None:
    clock = FakeClock(T0)
    deliverer = worker(db, transport, clock, pacing=Pacing(S), concurrency=1)
    await _card2_in_line(db, platform, deliverer)
    if case == "queued meanwhile":
        clock.advance(12 * S)  # card2's turn is within the horizon now
    elif case == "after a restart":  # what the old worker knew of the line is gone
        clock.advance(2 * S)
        deliverer = worker(db, transport, clock, pacing=Pacing(S), concurrency=1)
        await deliverer.recover()
    else:
        platform.script["card2"] = deque([Answer(500)])
        clock.advance(30 * S)
        await deliverer.run_once()  # card2's turn: 500, to be retried
        clock.advance(S)
    await put_item_messages(db, ("thread2", Audience.THREAD, 2, "2"),
                            ("update2", Audience.CARD_UPDATE, 2, "2"),
                            ("dm2", Audience.PERSON, 2, "bob"))
    await deliverer.run_once()
    assert "thread2" not in platform.accepted_keys()
    assert "dm2" in platform.accepted_keys()  # only the card's own followers wait

    await _run_for(deliverer, clock, 60)

    sent = platform.accepted_keys()
    assert sent.index("card2") < sent.index("thread2") < sent.index("update2")


async def test_a_parked_card_no_longer_holds_its_thread(
        db: Database, platform: MockPlatform, transport: HttpTransport) -> None:
    clock = FakeClock(T0)
    deliverer = worker(db, transport, clock)
    platform.script["card1"] = deque([Answer(404)])  # the channel is gone: parked
    await put_item_messages(db, ("card1", Audience.CARD, 1, "#gone"),
                            ("thread1", Audience.THREAD, 1, "1"))
    await deliverer.run_once()
    await deliverer.run_once()
    assert await rows(db) == {"card1": (PARKED, 1), "thread1": (SENT, 1)}


async def test_ready_counts_what_a_claim_would_take(
        db: Database, platform: MockPlatform, transport: HttpTransport) -> None:
    await put_item_messages(db, ("card1", Audience.CARD, 1, "#ops"),
                            ("thread1", Audience.THREAD, 1, "1"),
                            ("update1", Audience.CARD_UPDATE, 1, "1"))
    async with db.unit_of_work() as uow:
        card = next(q for q in await uow.outbox.lease(10, T0, None, timedelta(minutes=5))
                    if q.message.key == "card1")
        await uow.outbox.postpone([card.id], T0 + 300 * S)  # the card waits its turn
        await uow.commit()
    async with db.unit_of_work() as uow:
        claimed = await uow.outbox.lease(10, T0 + 10 * S, None, timedelta(minutes=5))
        stats = await uow.outbox.stats(T0 + 10 * S)
    assert claimed == []
    assert (stats.pending, stats.ready) == (3, 0)


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


async def test_a_paced_conversation_delays_only_itself(
        db: Database, platform: MockPlatform, transport: HttpTransport) -> None:
    """Bob's DMs wait out their pace (one each 0.3 s) while a card queued meanwhile for
    another conversation goes at once: each conversation is a lane of its own, and leasing
    goes on while lanes wait (a worker that waited for its whole batch let the card wait
    behind bob's last DM)."""
    transport.pacing = Pacing(timedelta(milliseconds=300))
    deliverer = OutboxWorker(SqlOutboxQueue(db), [transport], RealClock(), WorkerSettings())
    await put(db, *[(f"dm{n}", "bob") for n in range(6)])
    stop = asyncio.Event()
    running = asyncio.create_task(deliverer.run(stop, poll=0.05))
    try:
        await until(lambda: "dm0" in platform.accepted_keys())
        await put(db, ("card", "ops"))
        deliverer.wake()
        await until(lambda: "dm5" in platform.accepted_keys())
    finally:
        stop.set()
        await running
    sent = platform.accepted_keys()
    assert sent.index("card") < sent.index("dm5")  # 1.5 s of pacing left for bob
    assert [k for k in sent if k.startswith("dm")] == [f"dm{n}" for n in range(6)]


async def until(ready: Callable[[], bool], within: float = 10.0) -> None:
    for _ in range(int(within / 0.01)):
        if ready():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not in time")
