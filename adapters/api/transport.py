"""Webhooks, delivered through the outbox: the API surface's Transport.

The outbox keeps one row on surface "api" for each new item and each change of one (the
audiences CARD and CARD_UPDATE, bot.delivery.ITEM_CHANGES). Delivering a row finds the callback
URLs that hear about the item (a token's webhooks for the items it may see, an item's own, the
`callback_url` given when it was raised), maps the change to webhook events (item.created,
item.changed, approval.decided, exception.resolved, sla.breached) and posts each, signed, to
each receiver.

One row serves several receivers, and one dead receiver must neither delay nor double what the
others get:
- each receiver's answer is kept as it comes (bot.clients.Receipts, per webhook id and
  receiver), so a row tried again (for a failed receiver, or after a crash) posts only to the
  receivers still owed it;
- a receiver that answers 429, 408 or 5xx, or cannot be reached in time, makes the row fail
  for a retry (DeliveryFailed, with its Retry-After when it gave one; while that lasts, no other
  row posts to it either); the row's other receivers keep what they got;
- a receiver that refuses (another 4xx, or a redirect: redirects are not followed) is not asked
  again for that event: its refusal is kept like an acceptance, and once no receiver is owed a
  retry the row is parked, naming who refused (`baton outbox list --state parked`);
- this surface keeps no order between an item's rows (Transport.ordered is False), so a row
  retried for one receiver holds back nothing else; receivers order events by
  `data.event.seq` (or the item's `version`).

The delivery's `webhook-id` is `{workspace}.{seq}.{type}`: the same on every retry and after a
restart. A receiver still drops duplicates by it: when Baton stops between a receiver's answer
and keeping it, that receiver is posted the same event again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from adapters.api.service import item_out, trail_event
from adapters.api.webhooks import (
    WebhookEvent,
    event_id,
    event_types,
    outcome_of,
    signature_headers,
)
from bot.clients import Client, ItemIndex, ItemRead, Receipt, Receipts, Subscription, Subscriptions
from bot.delivery import DeliveryFailed, NotHere, Transport
from bot.events import Event
from bot.messages import Outgoing
from bot.ports import Clock

log = logging.getLogger(__name__)

SURFACE = "api"
TIMEOUT = 10.0  # seconds a receiver has to answer one delivery
MAX_RETRY_AFTER = 3600.0  # a longer Retry-After is read as an hour
USER_AGENT = "Baton-Webhooks/1"
RETRIED = frozenset({408, 425, 429})  # and every 5xx


@dataclass(frozen=True)
class Receiver:
    """One callback URL of one client, however many of its subscriptions name it."""

    key: str
    url: str
    client: Client
    webhook: int  # the subscription's id, for messages (0: the callback given at raising)

    @property
    def name(self) -> str:
        """How messages name it: never its full URL, whose query may hold a secret."""
        where = urlsplit(self.url).hostname or "?"
        which = f"webhook {self.webhook}" if self.webhook else "callback_url"
        return f"{which} of {self.client.name} ({where})"


@dataclass
class Answered:
    """How one receiver's share of a row went."""

    receiver: Receiver
    retry: str = ""  # why it must be tried again; "" if it need not be
    retry_after: float | None = None
    refused: list[str] = field(default_factory=list)  # what it refused for good


class WebhookTransport(Transport):
    """Posts each item change to the webhooks subscribed to it (see the module's text)."""

    surface = SURFACE
    ordered = False

    def __init__(self, index: ItemIndex, subscriptions: Subscriptions, receipts: Receipts,
                 clock: Clock, *, timeout: float = TIMEOUT) -> None:
        self.index = index
        self.subscriptions = subscriptions
        self.receipts = receipts
        self.clock = clock
        self.timeout = timeout
        self._http: aiohttp.ClientSession | None = None
        # A receiver that answered 429 or 503 with Retry-After: until when it is left alone.
        self._resting: dict[str, datetime] = {}

    def http(self) -> aiohttp.ClientSession:
        """The one client session (made on first use, inside the event loop)."""
        if self._http is None:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": USER_AGENT})
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def deliver(self, message: Outgoing) -> None:
        if message.item is None or message.event is None:
            raise NotHere("not a change of an item")
        found = await self.index.change(message.workspace, message.item, message.event)
        if found is None:
            raise NotHere(f"#{message.item} or its event {message.event} is not there")
        read, event = found
        receivers = await self._receivers(read, event)
        if not receivers:
            raise NotHere("no webhook hears about this item")
        events = _events(read, event)
        kept = await self.receipts.of([e.id for e in events])
        answered = await asyncio.gather(*(self._serve(r, events, kept) for r in receivers))
        _settle(answered)

    async def _receivers(self, read: ItemRead, event: Event) -> list[Receiver]:
        """Who hears about this change: subscriptions made before it happened, each URL of a
        client once."""
        item = read.item
        raised = item.source.message if item.source.surface == SURFACE else None
        found = await self.subscriptions.for_item(item.workspace, item.number, item.team,
                                                  raised or None)
        receivers: dict[str, Receiver] = {}
        for subscription, client in found:
            if _later(subscription, event):
                continue
            key = receiver_key(client, subscription.url)
            receivers.setdefault(key, Receiver(key, subscription.url, client, subscription.id))
        return list(receivers.values())

    async def _serve(self, receiver: Receiver, events: Sequence[WebhookEvent],
                     kept: dict[tuple[str, str], Receipt]) -> Answered:
        """Post this receiver the events it has not answered yet, in order; stop at the first
        that must be retried (the rest wait with it)."""
        answered = Answered(receiver)
        for event in events:
            receipt = kept.get((event.id, receiver.key))
            if receipt is not None:
                if receipt.refused:
                    answered.refused.append(f"{event.type} ({receipt.status})")
                continue
            now = self.clock.now()
            resting = self._resting.get(receiver.key)
            if resting is not None and resting > now:
                answered.retry = "asked to wait (Retry-After)"
                answered.retry_after = (resting - now).total_seconds()
                return answered
            status, wait = await self._post(receiver, event)
            if 200 <= status < 300:
                await self.receipts.keep(Receipt(event.id, receiver.key, status,
                                                 self.clock.now()))
            elif status <= 0 or status in RETRIED or status >= 500:
                answered.retry = f"answered {status}" if status > 0 else _unreachable(status)
                answered.retry_after = wait
                if wait is not None:
                    self._resting[receiver.key] = now + timedelta(seconds=wait)
                return answered
            else:  # 3xx and other 4xx: it will not take this event however often asked
                await self.receipts.keep(Receipt(event.id, receiver.key, status,
                                                 self.clock.now(), refused=True))
                answered.refused.append(f"{event.type} ({status})")
        self._resting.pop(receiver.key, None)
        return answered

    async def _post(self, receiver: Receiver, event: WebhookEvent) -> tuple[int, float | None]:
        """The status it answered and its Retry-After in seconds; status 0 when it could not
        be reached, -1 when it did not answer in time."""
        body = event.body()
        # The timestamp a receiver checks against its own clock: the real time of sending.
        headers = signature_headers(receiver.client.signing_secret, event.id, int(time.time()),
                                    body)
        try:
            async with self.http().post(receiver.url, data=body, headers=headers,
                                        allow_redirects=False) as response:
                return response.status, retry_after(response.headers.get("Retry-After"),
                                                    self.clock.now())
        except TimeoutError:
            return -1, None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            log.info("webhook %s to %s: %s: %s", event.id, receiver.name, type(exc).__name__,
                     exc)
            return 0, None


def receiver_key(client: Client, url: str) -> str:
    return hashlib.sha256(f"{client.id}\n{url}".encode()).hexdigest()


def _later(subscription: Subscription, event: Event) -> bool:
    """A subscription made after the change: it hears only of what happens from then on."""
    return subscription.created_at is not None and subscription.created_at > event.at


def _events(read: ItemRead, event: Event) -> list[WebhookEvent]:
    """The webhook events this change makes, each with its stable id. `data.item` is the item
    as it is now (its `version` tells a newer view from an older); `data.event` is the change
    itself, as the item's trail shows it."""
    item = read.item
    data: dict[str, Any] = {
        "item": item_out(item, None, read.raised).model_dump(mode="json", exclude={"trail"}),
        "event": trail_event(event).model_dump(mode="json"),
    }
    return [WebhookEvent(event_id(item.workspace, event.seq, kind), kind, event.at, data)
            for kind in event_types(event.action, item.kind, outcome_of(event))]


def _unreachable(status: int) -> str:
    return "no answer in time" if status < 0 else "could not be reached"


def retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After in seconds (it may be a number of seconds or an HTTP date), at most an
    hour; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _settle(answered: Sequence[Answered]) -> None:
    """The row's outcome: retried while any receiver is owed a retry (at the latest
    Retry-After any of them asked for), parked when the rest is done but some refused,
    delivered otherwise."""
    owed = [a for a in answered if a.retry]
    if owed:
        waits = [a.retry_after for a in owed if a.retry_after is not None]
        raise DeliveryFailed("webhooks to retry: " + "; ".join(
            f"{a.receiver.name} {a.retry}" for a in owed), retry_after=max(waits, default=None))
    refused = [a for a in answered if a.refused]
    if refused:
        raise DeliveryFailed("webhooks refused: " + "; ".join(
            f"{a.receiver.name} refused {', '.join(a.refused)}" for a in refused),
            permanent=True)
