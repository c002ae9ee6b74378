"""What Baton uses where baton.yaml says nothing: one open team, 24x7 SLAs, a plain chain.

Written as baton.yaml would write them, so they pass through the same validation.
"""

from __future__ import annotations

from typing import Any

DEFAULT_TEAM = "general"
DEFAULT_NAME = "default"  # the policy and chain a team uses unless it names another

#: 24x7 targets in the spirit of PagerDuty and JSM priorities; for approvals `ack` is the
#: first decision.
DEFAULT_POLICY: dict[str, Any] = {
    "business_hours": False,
    "pause_when_blocked": False,
    "warn_at": 0.75,
    "targets": {
        "default": {
            "urgent": {"ack": "15m", "resolve": "4h"},
            "high": {"ack": "1h", "resolve": "1d"},
            "normal": {"ack": "4h", "resolve": "3d"},
            "low": {"ack": "1d", "resolve": "1w"},
        },
    },
}

#: At breach tell the owner; an hour on, the lead; four hours on, the team's channel.
DEFAULT_CHAIN: list[dict[str, Any]] = [
    {"after": "0m", "notify": "owner"},
    {"after": "1h", "notify": "lead"},
    {"after": "4h", "notify": "channel"},
]

DEFAULT_TEAMS: dict[str, Any] = {DEFAULT_TEAM: {"open": True}}
