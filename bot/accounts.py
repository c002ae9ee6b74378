"""Who a surface's user is: the person the directory lists with that account or its e-mail,
the person an earlier match (on any replica) made it, or, in an open directory, a new one."""

from __future__ import annotations

from bot.people import Directory, Identity, Person
from bot.ports import Accounts


async def recognise(directory: Directory, accounts: Accounts,
                    identity: Identity) -> Person | None:
    """The person behind `identity`, matched once and kept; None if Baton knows no one by it
    (and adds no one: people are listed in baton.yaml)."""
    if directory.knows(identity):
        return directory.learn(identity)  # what the surface says now (name, zone) counts
    kept = await accounts.find(identity)
    person = directory.learn(identity, kept)
    if person is not None and kept is None:
        await accounts.add(identity, person.id)
    return person


async def remember_all(directory: Directory, accounts: Accounts) -> int:
    """At start: every account matched before, known again; how many."""
    kept = await accounts.all()
    for identity, person in kept:
        directory.learn(identity, person)
    return len(kept)
