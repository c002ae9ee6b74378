"""What no single field can see: references between sections, ids given twice, gaps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from bot.config.errors import Problem, Shown, did_you_mean
from bot.items import Kind, Priority

if TYPE_CHECKING:
    from bot.config.schema import Config, PersonConfig


def cross_check(config: Config) -> Iterator[Problem]:
    """Every cross-section problem of `config`, in file order."""
    people = config.people

    def person(path: str, who: str | None) -> Iterator[Problem]:
        if who is not None and people and who not in people:
            yield Problem(path, "expected a person listed under people", who,
                          did_you_mean(who, people))

    def named(path: str, value: str | None, section: str, known: dict[str, Any]) -> \
            Iterator[Problem]:
        if value is not None and value not in known:
            yield Problem(path, f"expected one of the {section} ({', '.join(known)})", value,
                          did_you_mean(value, known))

    for i, admin in enumerate(config.admins):
        yield from person(f"admins[{i}]", admin)
    yield from _unique_ids(people)
    for team_name, team in config.teams.items():
        at = f"teams.{team_name}"
        yield from person(f"{at}.lead", team.lead)
        for i, member in enumerate(team.members):
            yield from person(f"{at}.members[{i}]", member)
        yield from named(f"{at}.sla", team.sla, "sla_policies", config.sla_policies)
        yield from named(f"{at}.escalation", team.escalation, "escalation_chains",
                         config.escalation_chains)
    for policy_name, policy in config.sla_policies.items():
        missing = [f"{k}/{p}" for k in Kind for p in Priority if policy.target(k, p) is None]
        if missing:
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            yield Problem(f"sla_policies.{policy_name}.targets",
                          "expected a target for every kind and priority (add a default "
                          "entry)", Shown(f"none for {', '.join(missing[:3])}{more}"))
    for chain_name, steps in config.escalation_chains.items():
        for i, step in enumerate(steps):
            yield from person(f"escalation_chains.{chain_name}[{i}].person", step.person)
        for i, (before, step) in enumerate(pairwise(steps), start=1):
            if step.after < before.after:
                yield Problem(f"escalation_chains.{chain_name}[{i}].after",
                              f"expected steps in order, no earlier than "
                              f"{_span(before.after)}", _span(step.after))


def _unique_ids(people: dict[str, PersonConfig]) -> Iterator[Problem]:
    for field in ("slack", "teams", "email"):
        owners: dict[str, str] = {}
        for who, entry in people.items():
            value = getattr(entry, field)
            if value is None:
                continue
            key = value.lower()
            if key in owners:
                yield Problem(f"people.{who}.{field}",
                              f"expected an id of this person only (it is {owners[key]}'s)",
                              value)
            owners.setdefault(key, who)


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (mins, "m")) if n]
    return "".join(parts) or "0m"

