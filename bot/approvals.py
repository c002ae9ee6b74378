"""Approval policies: who may decide now, and when the decisions settle the request."""

from __future__ import annotations

from bot.items import Item, Outcome, PolicyKind, Verdict


def decided(item: Item) -> set[str]:
    return {d.approver for d in item.decisions}


def pending_approvers(item: Item) -> list[str]:
    """Approvers whose decision is awaited now (under `sequence`, only the current one)."""
    if item.state.final:
        return []
    waiting = [a for a in item.approvers if a not in decided(item)]
    if item.policy.kind is PolicyKind.SEQUENCE:
        return waiting[:1]
    return waiting


def settle(item: Item) -> Outcome | None:
    """The outcome the decisions so far reach under the item's policy, or None if still open."""
    approvals = sum(1 for d in item.decisions if d.verdict is Verdict.APPROVE)
    rejects = sum(1 for d in item.decisions if d.verdict is Verdict.REJECT)
    total = len(item.approvers)
    kind = item.policy.kind
    if kind is PolicyKind.ANY:
        if not item.decisions:
            return None
        first = item.decisions[0].verdict
        return Outcome.APPROVED if first is Verdict.APPROVE else Outcome.REJECTED
    if kind in (PolicyKind.ALL, PolicyKind.SEQUENCE):
        if rejects:
            return Outcome.REJECTED
        return Outcome.APPROVED if approvals == total else None
    needed = item.policy.n
    if approvals >= needed:
        return Outcome.APPROVED
    if total - rejects < needed:
        return Outcome.REJECTED
    return None


def policy_problem(approvers: tuple[str, ...], requester: str, quorum: int | None) -> str | None:
    """Why an approval with these approvers cannot be raised, or None when it can."""
    if not approvers:
        return "an approval needs at least one approver (--approvers @a @b)"
    if len(set(approvers)) != len(approvers):
        return "each approver may be named only once"
    if requester in approvers:
        return "you cannot be an approver of your own request"
    if quorum is not None and quorum > len(approvers):
        return f"quorum:{quorum} needs at least {quorum} approvers, {len(approvers)} named"
    return None
