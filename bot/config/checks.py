"""What no single field can see: references between sections, ids given twice, gaps.

The checks read baton.yaml as written (with the built-in entries filled in), not the
validated Config, so they run beside field validation and a file's mistakes are all told in
one run. A value that does not parse is field validation's to report and is skipped here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from itertools import pairwise
from typing import Any, TypeVar

from pydantic_core import PydanticCustomError

from bot.config.errors import Problem, Shown, did_you_mean
from bot.config.fields import email, handle, name, parse_delay, platform_id, slack_user
from bot.items import Kind, Priority

T = TypeVar("T")


def cross_check(data: Any) -> Iterator[Problem]:
    """Every cross-section problem of baton.yaml's parsed document, in file order."""
    if not isinstance(data, Mapping):
        return
    people = _entries(data.get("people"), handle)

    def person(path: str, who: Any) -> Iterator[Problem]:
        found = _parsed(handle, who)
        if found is not None and people and found not in people:
            yield Problem(path, "expected a person listed under people", found,
                          did_you_mean(found, people))

    def named(path: str, value: Any, section: str, known: Mapping[str, Any]) -> \
            Iterator[Problem]:
        found = _parsed(name, value)
        if found is not None and found not in known:
            yield Problem(path, f"expected one of the {section} ({', '.join(known)})", found,
                          did_you_mean(found, known))

    for i, admin in _items(data.get("admins")):
        yield from person(f"admins[{i}]", admin)
    yield from _unique_ids(people)
    policies = _entries(data.get("sla_policies"), name)
    chains = _entries(data.get("escalation_chains"), name)
    for team_name, team in _entries(data.get("teams"), name).items():
        if not isinstance(team, Mapping):
            continue
        at = f"teams.{team_name}"
        yield from person(f"{at}.lead", team.get("lead"))
        for i, member in _items(team.get("members")):
            yield from person(f"{at}.members[{i}]", member)
        yield from named(f"{at}.sla", team.get("sla"), "sla_policies", policies)
        yield from named(f"{at}.escalation", team.get("escalation"), "escalation_chains",
                         chains)
    for policy_name, policy in policies.items():
        targets = policy.get("targets") if isinstance(policy, Mapping) else None
        if not isinstance(targets, Mapping) or not _well_formed(targets):
            continue  # an unknown kind or priority is field validation's to report
        missing = [f"{k}/{p}" for k in Kind for p in Priority if not _covered(targets, k, p)]
        if missing:
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            yield Problem(f"sla_policies.{policy_name}.targets",
                          "expected a target for every kind and priority (add a default "
                          "entry)", Shown(f"none for {', '.join(missing[:3])}{more}"))
    for chain_name, steps in chains.items():
        at = f"escalation_chains.{chain_name}"
        afters: list[tuple[int, timedelta | None]] = []
        for i, step in _items(steps):
            step = step if isinstance(step, Mapping) else {}
            yield from person(f"{at}[{i}].person", step.get("person"))
            afters.append((i, _parsed(parse_delay, step.get("after"))))
        for (_, before), (i, after) in pairwise(afters):
            if before is not None and after is not None and after < before:
                yield Problem(f"{at}[{i}].after", f"expected steps in order, no earlier than "
                                                  f"{_span(before)}", _span(after))


def _unique_ids(people: Mapping[str, Any]) -> Iterator[Problem]:
    for field, parse in (("slack", slack_user), ("teams", platform_id), ("email", email)):
        owners: dict[str, str] = {}
        for who, entry in people.items():
            value = _parsed(parse, entry.get(field)) if isinstance(entry, Mapping) else None
            if value is None:
                continue
            key = value.lower()
            if key in owners:
                yield Problem(f"people.{who}.{field}",
                              f"expected an id of this person only (it is {owners[key]}'s)",
                              value)
            owners.setdefault(key, who)


def _covered(targets: Mapping[Any, Any], kind: Kind, priority: Priority) -> bool:
    """A target for this kind and priority: its own entry, or either as `default`."""
    for kind_key in (kind.value, "default"):
        table = targets.get(kind_key)
        if isinstance(table, Mapping) and (priority.value in table or "default" in table):
            return True
    return False


_KINDS = frozenset({*(k.value for k in Kind), "default"})
_PRIORITIES = frozenset({*(p.value for p in Priority), "default"})


def _well_formed(targets: Mapping[Any, Any]) -> bool:
    return all(
        kind in _KINDS and isinstance(table, Mapping) and set(table) <= _PRIORITIES
        for kind, table in targets.items())


def _parsed(parse: Callable[[Any], T], value: Any) -> T | None:
    if value is None:
        return None
    try:
        return parse(value)
    except PydanticCustomError:
        return None


def _entries(section: Any, key: Callable[[Any], str]) -> dict[str, Any]:
    """A section's entries by their normal names; a name that does not parse is left out."""
    if not isinstance(section, Mapping):
        return {}
    found: dict[str, Any] = {}
    for raw, entry in section.items():
        normal = _parsed(key, raw)
        if normal is not None:
            found.setdefault(normal, entry)
    return found


def _items(values: Any) -> list[tuple[int, Any]]:
    return list(enumerate(values)) if isinstance(values, list | tuple) else []


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (mins, "m")) if n]
    return "".join(parts) or "0m"
